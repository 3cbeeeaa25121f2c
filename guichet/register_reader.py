"""The read-only view of an agency's register, as the tools import it (guichet/registers/reader.py)."""

from guichet.registers.reader import RegisterReader, read_state, read_states

__all__ = ["RegisterReader", "read_state", "read_states"]
