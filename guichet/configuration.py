"""What the runtime raises when a setting it was given cannot be used: a missing file, a port it
cannot listen on, a client certificate without its key. The message names the setting; the
command line that built the configuration names the flag or variable it came from, and exits 2."""


class ConfigurationError(Exception):
    """A setting this process was given cannot be used; the message says which and why."""
