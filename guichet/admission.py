"""What a delivery must show before its body is decoded: the receiver checks what the broker
told it, not what the sender wrote.

An agency trusts nothing another party can get wrong. Before a body is parsed:
- its size is bounded (`MAX_BODY_BYTES`): a 10 MB envelope is refused, not stored and forwarded;
- it carries no `CC` or `BCC` header: RabbitMQ 3.x routes those extra keys without checking them
  against the publisher's topic permissions (only 4.0.3 does), so a sender could reach a queue its
  account may not write to;
- it was delivered under the routing key `<this agency>.<type>` its `type` header names: a message
  addressed elsewhere, or under a key that disagrees with its type, is refused (the envelope codec
  then holds the body's own type, version, dossier and sender to the headers);
- it was published by the broker account of its sender's party (RabbitMQ validates the AMQP
  `user_id` property against the account that published), or by an account that may carry it
  on: the agency itself (its own delayed retries), the late relay (a transmission that expired in a
  queue), an operator's replay from the error queue. The last two only when signatures are on:
  without them a relay or a replay cannot be told from a forgery.

A refused delivery is filed in the error queue under a routing key the agency can always write
(`filing_key`): the one it was delivered with when that key is addressed to the agency, else
`<agency>.quarantaine`, the original key kept in the filing's headers. A filing that cannot be
confirmed is rejected without requeue instead (the runner): the broker dead-letters it to the late
queue, whose relay files it; nothing is redelivered in a loop.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from guichet.envelope import PermanentError

# An envelope of the guichet unique is a few kilobytes (a dossier with its family): 256 KiB leaves
# room for any foreseeable payload while keeping a hostile one from filling registers and logs.
MAX_BODY_BYTES = 256 * 1024
QUARANTINE = "quarantaine"
LATE = "x-guichet-late"
REPLAYS = "x-guichet-replays"


class TooLarge(PermanentError):
    reason = "too_large"


class ExtraRoutingKeys(PermanentError):
    reason = "cc_refused"


class Misaddressed(PermanentError):
    reason = "misaddressed"


class WrongAccount(PermanentError):
    reason = "wrong_account"


@dataclass(frozen=True)
class AccountPlan:
    """Which broker account speaks for which party: `<prefix><role>`, the role being the party
    itself unless `roles` says otherwise (the employers' portal speaks for the employer and the
    worker). `operator`: the role whose replays from the error queue are accepted."""

    roles: Mapping[str, str] = field(default_factory=dict)
    operator: str = "operateur"

    def role_of(self, party: str) -> str:
        return self.roles.get(party, party)


@dataclass(frozen=True)
class Admission:
    agency: str
    # The prefix of this deployment's account names (`broker setup --user-prefix`), or None when
    # the service does not run under its agency's own account (e.g. `guest`): no account to check.
    account_prefix: str | None = None
    plan: AccountPlan = field(default_factory=AccountPlan)
    relay: str | None = None
    signed: bool = False
    # Routing-key prefixes this agency's account may write on the error exchange: its own, and for
    # the late relay every agency's (it files what dead-lettered in their queues).
    writable: tuple[str, ...] = ()

    @classmethod
    def for_bus(
        cls, agency: str, broker_url: str, plan: AccountPlan, relay: str | None, agencies: tuple[str, ...], signed: bool
    ) -> Admission:
        prefix = account_prefix(agency, broker_url)
        writable = agencies if agency == relay else (agency,)
        return cls(agency, prefix, plan, relay, signed, tuple(writable))

    def check(
        self, body: bytes | str, headers: Mapping[str, Any] | None, routing_key: str | None, user_id: str | None
    ) -> None:
        """Raise a PermanentError naming what is wrong with a delivery, before its body is read."""
        headers = headers or {}
        size = len(body.encode() if isinstance(body, str) else body)
        if size > MAX_BODY_BYTES:
            raise TooLarge(f"body of {size} bytes is above the limit of {MAX_BODY_BYTES} bytes")
        extra = sorted(k for k in headers if str(k).upper() in ("CC", "BCC"))
        if extra:
            raise ExtraRoutingKeys(f"header {extra[0]} refused: a message travels under its one routing key")
        if routing_key is not None:
            self._check_routing_key(routing_key, body, headers)
            self._check_account(headers, user_id)

    def _check_routing_key(self, routing_key: str, body: bytes | str, headers: Mapping[str, Any]) -> None:
        if not routing_key.startswith(f"{self.agency}."):
            raise Misaddressed(f"delivered under {_shown(routing_key)}, which is not addressed to {self.agency}")
        type_ = headers.get("type") if "type" in headers else _body_type(body)
        if type_ is None:
            return  # no type to route by: the codec refuses the body for what is wrong with it
        expected = f"{self.agency}.{type_}"
        if routing_key != expected:
            raise Misaddressed(
                f"delivered under {_shown(routing_key)}; a {_shown(type_)} for {self.agency} "
                f"travels under {_shown(expected)}"
            )

    def _check_account(self, headers: Mapping[str, Any], user_id: str | None) -> None:
        if self.account_prefix is None:
            return
        sender = headers.get("sender")
        if not isinstance(sender, str) or not sender:
            raise WrongAccount("no 'sender' header: the publishing account cannot be checked against it")
        if not user_id:
            raise WrongAccount("no user_id property: the publishing account cannot be checked")
        role = user_id[len(self.account_prefix) :] if user_id.startswith(self.account_prefix) else None
        if role is not None and role in (self.agency, self.plan.role_of(sender)):
            return  # the sender's own account, or this agency's own retry
        if self.signed and role == self.relay and headers.get(LATE):
            return  # a late transmission the relay carried on; its signature is its sender's
        if self.signed and role == self.plan.operator and headers.get(REPLAYS):
            return  # an operator's replay from the error queue; its signature is its sender's
        raise WrongAccount(f"published by account {_shown(user_id)}, which does not speak for {_shown(sender)}")

    def account_role(self, user_id: str | None) -> str | None:
        """The role of the account the broker says published a delivery (`p-smoe` -> `smoe`); None
        without per-party accounts or for an account of another deployment."""
        if self.account_prefix is None or not user_id or not user_id.startswith(self.account_prefix):
            return None
        return user_id[len(self.account_prefix) :] or None

    def filing_key(self, routing_key: str | None) -> str:
        """A key this agency's account may write on the error exchange: the delivered one when it
        is, else the quarantine key (the delivered key travels in the filing's headers)."""
        if routing_key and any(routing_key.startswith(f"{p}.") for p in self.writable or (self.agency,)):
            return routing_key
        return f"{self.agency}.{QUARANTINE}"


def _body_type(body: bytes | str) -> object:
    """The `type` a body names, for a delivery without the header (the bus's own publishers always
    set it): None when the body has none to read, which the codec then refuses."""
    try:
        raw = json.loads(body)
    except (ValueError, TypeError, RecursionError):
        return None
    return raw.get("type") if isinstance(raw, dict) else None


def account_prefix(agency: str, broker_url: str) -> str | None:
    """`p-` for a service connected as `p-ofii`; None when the account is not the agency's own."""
    if broker_url.startswith("memory://"):
        return None
    user = unquote(urlsplit(broker_url.split(";")[0].strip()).username or "")
    return user[: -len(agency)] if user.endswith(agency) else None


def _shown(value: object, limit: int = 120) -> str:
    """A value from the delivery, quoted and cut short: it goes into headers and logs."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"
