"""An agency's register, as the runtime and the tools import it: `Register(url, agency)` opens the
SQLite or PostgreSQL implementation the URL names (guichet/registers/)."""

from guichet.registers.base import Register
from guichet.registers.instants import from_text, utc_text
from guichet.registers.migrations import RegisterVersionError
from guichet.registers.transaction import Transaction

__all__ = ["Register", "RegisterVersionError", "Transaction", "from_text", "utc_text"]
