"""The operations view: `guichet ops`."""
