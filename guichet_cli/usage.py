"""Errors in what a person gave the command (an option, a file, a variable): one line, exit 2.
The runtime's own `ConfigurationError` ends the same way: a usage error is one of them."""

from guichet.configuration import ConfigurationError


class UsageError(ConfigurationError):
    """Bad input from the command line or the environment, named in the message."""
