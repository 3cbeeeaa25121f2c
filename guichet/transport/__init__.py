"""The bus behind one interface (guichet/transport/base.py), RabbitMQ or embedded by the URL's scheme."""

from guichet.transport.base import Brokers, Transport
from guichet.transport.embedded import Embedded
from guichet.transport.rabbitmq import RabbitMQ

__all__ = ["Brokers", "Embedded", "RabbitMQ", "Transport"]
