"""The subcommands of `guichet`."""
