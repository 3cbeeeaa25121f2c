"""The console's own accounts: an identifier, a name, a role, an argon2 password hash. A wrong password
counts against the account; `lockout_failures` in a row lock it for `lockout_minutes`. An unknown
identifier and a wrong password get the same answer (and cost the same hash), so that the form tells
nobody which identifiers exist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from guichet_operations.console.auth.people import PASSWORD, Person, rank
from guichet_operations.console.clock import parse, utc_text
from guichet_operations.supervision.store import Store

HASHER = PasswordHasher()
# Verified when the identifier is unknown, so that an unknown identifier takes as long as a known one.
_DUMMY_HASH = HASHER.hash("aucun compte ne porte ce mot de passe")
MAX_IDENTIFIER = 100


class AccountError(ValueError):
    """An account that cannot be made or changed as asked; the message names the field."""


@dataclass(frozen=True)
class Verdict:
    """What a sign-in attempt came to: `person` when it succeeded, otherwise why not."""

    person: Person | None
    reason: str | None = None  # "inconnu_ou_mot_de_passe", "verrouille", "desactive"
    locked_now: bool = False  # this failure is the one that locked the account


class Accounts:
    def __init__(self, store: Store, lockout_failures: int = 5, lockout_minutes: int = 15):
        self.store = store
        self.lockout_failures, self.lockout = lockout_failures, timedelta(minutes=lockout_minutes)

    def add(self, identifier: str, name: str, role: str, password: str, now: datetime) -> None:
        identifier, name = identifier.strip(), name.strip()
        if not identifier or len(identifier) > MAX_IDENTIFIER or any(c.isspace() for c in identifier):
            raise AccountError(f"identifiant : de 1 à {MAX_IDENTIFIER} caractères, sans espace")
        if identifier.startswith("oidc:"):
            raise AccountError("identifiant : « oidc: » est réservé aux personnes venues par OpenID Connect")
        if not name:
            raise AccountError("nom : le nom de la personne, tel qu'il paraîtra au journal")
        try:
            rank(role)
        except ValueError as exc:
            raise AccountError(f"rôle : {exc}") from None
        if len(password) < 12:
            raise AccountError("mot de passe : au moins 12 caractères")
        if self.store.rows("SELECT 1 AS x FROM accounts WHERE identifier = ?", identifier):
            raise AccountError(f"identifiant : le compte {identifier!r} existe déjà")
        at = utc_text(now)
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT INTO accounts (identifier, name, role, password_hash, disabled, failures, locked_until, "
                "created_at, changed_at) VALUES (?, ?, ?, ?, 0, 0, NULL, ?, ?)",
                identifier,
                name,
                role,
                HASHER.hash(password),
                at,
                at,
            )

    def listing(self) -> list[dict[str, Any]]:
        return self.store.rows(
            "SELECT identifier, name, role, disabled, failures, locked_until, created_at, changed_at "
            "FROM accounts ORDER BY identifier"
        )

    def disable(self, identifier: str, now: datetime) -> None:
        with self.store.transaction() as tx:
            done = tx.execute(
                "UPDATE accounts SET disabled = 1, changed_at = ? WHERE identifier = ?", utc_text(now), identifier
            )
            if done.rowcount == 0:
                raise AccountError(f"identifiant : aucun compte {identifier!r}")

    def verify(self, identifier: str, password: str, now: datetime) -> Verdict:
        rows = self.store.rows(
            "SELECT identifier, name, role, password_hash, disabled, failures, locked_until FROM accounts "
            "WHERE identifier = ?",
            identifier[:MAX_IDENTIFIER],
        )
        if not rows:
            _verify(_DUMMY_HASH, password)
            return Verdict(None, "inconnu_ou_mot_de_passe")
        account = rows[0]
        locked_until = parse(account["locked_until"])
        if locked_until is not None and now < locked_until:
            return Verdict(None, "verrouille")
        if not _verify(account["password_hash"], password):
            return self._failed(account, now)
        if account["disabled"]:
            return Verdict(None, "desactive")
        with self.store.transaction() as tx:
            tx.execute(
                "UPDATE accounts SET failures = 0, locked_until = NULL WHERE identifier = ?", account["identifier"]
            )
            # argon2's parameters were raised since this hash was made: the password is here, hash it anew.
            if HASHER.check_needs_rehash(account["password_hash"]):
                tx.execute(
                    "UPDATE accounts SET password_hash = ? WHERE identifier = ?",
                    HASHER.hash(password),
                    account["identifier"],
                )
        return Verdict(Person(account["identifier"], account["name"], account["role"], PASSWORD))

    def _failed(self, account: dict[str, Any], now: datetime) -> Verdict:
        # Counted in the database (failures + 1), so that attempts made at once, from several console
        # processes, all count.
        with self.store.transaction() as tx:
            tx.execute("UPDATE accounts SET failures = failures + 1 WHERE identifier = ?", account["identifier"])
            failures = int(
                tx.rows("SELECT failures FROM accounts WHERE identifier = ?", account["identifier"])[0]["failures"]
            )
            locks = failures >= self.lockout_failures
            if locks:
                tx.execute(
                    "UPDATE accounts SET failures = 0, locked_until = ? WHERE identifier = ?",
                    utc_text(now + self.lockout),
                    account["identifier"],
                )
        return Verdict(None, "inconnu_ou_mot_de_passe", locked_now=locks)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
