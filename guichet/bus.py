"""The bus, by the name the services and tools know it: `Bus(url, topology)` is the transport its
URL's scheme names (guichet/transport/): RabbitMQ for `amqp://` and `amqps://`, the embedded
in-process broker for `memory://`."""

from guichet.settings import TLSConfigError
from guichet.transport import Brokers, Transport
from guichet.transport.rabbitmq import _nacked, tls_options

Bus = Transport

__all__ = ["Brokers", "Bus", "TLSConfigError", "_nacked", "tls_options"]
