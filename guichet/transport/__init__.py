"""The bus behind one interface (guichet/transport/base.py), RabbitMQ or embedded by the URL's scheme."""

from guichet.transport.base import Transport
from guichet.transport.brokers import Brokers
from guichet.transport.embedded import Embedded
from guichet.transport.rabbitmq import RabbitMQ

__all__ = ["Brokers", "Embedded", "RabbitMQ", "Transport"]
