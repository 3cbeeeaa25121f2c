"""Errors in what a person gave the command (an option, a file, a variable): one line, exit 2."""


class UsageError(Exception):
    """Bad input from the command line or the environment, named in the message."""
