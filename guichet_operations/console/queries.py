"""What the pages and the API read from a query string, read one way for both: a page size, a
number, an agency, an error-queue status. A value the console cannot read is a BadQuery naming the
parameter, in French."""

from __future__ import annotations

from typing import Any

from guichet_operations.console import failures
from guichet_operations.console.dossiers import MAX_PAGE_SIZE, PAGE_SIZE, BadQuery
from schemas.base import AGENCIES


def size(params: Any, default: int = PAGE_SIZE) -> int:
    value = number(params.get("taille"), "taille")
    value = default if value is None else value
    if not 1 <= value <= MAX_PAGE_SIZE:
        raise BadQuery(f"taille : de 1 à {MAX_PAGE_SIZE}")
    return value


def number(text: str | None, name: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise BadQuery(f"{name} : un nombre entier")
    return int(text)


def agency(params: Any) -> str | None:
    value = params.get("agence") or None
    if value is not None and value not in AGENCIES:
        raise BadQuery("agence : " + ", ".join(AGENCIES))
    return value


def failure_status(params: Any, default: str | None = None) -> str | None:
    value = params.get("statut", default) or None
    if value not in (None, *failures.STATUSES):
        raise BadQuery("statut : " + ", ".join(failures.STATUSES))
    return value
