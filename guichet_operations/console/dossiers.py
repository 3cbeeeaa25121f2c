"""The dossier list: filters and search as SQL on the store's indexed columns, keyset pagination (a
page after or before a cursor, never an OFFSET that reads what it skips), and a count that stops
counting at COUNT_CAP (a count of a million rows per request would be the slowest part of the page)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from guichet_operations.console.clock import utc_text
from guichet_operations.supervision.store import Store
from schemas.base import AGENCIES
from schemas.steps import Step
from services.directory import Directory
from services.ofii.tasks import COMPLEMENTS_TITRE, PRESENTATION
from services.summary import TITLES

PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
COUNT_CAP = 1_000
SORTS = {"updated": "updated_at", "filed": "filed_at", "deadline": "next_deadline", "id": "dossier_id"}
COLUMNS = (
    "dossier_id, title, route, outcome, closed, step, holder, departement, prefecture, siret, agdref_number, "
    "filed_at, updated_at, next_deadline, breached, alerts"
)
EQUAL = ("holder", "step", "title", "departement", "prefecture")
PARIS = ZoneInfo("Europe/Paris")


class BadQuery(ValueError):
    """A filter or cursor the console cannot read: said to the person, in French."""


@dataclass
class ListQuery:
    filters: dict[str, str] = field(default_factory=dict)
    state: str | None = None  # en_cours, clos
    late: bool = False
    breached: bool = False
    filed_from: date | None = None
    filed_to: date | None = None
    search: str | None = None
    sort: str = "updated"
    order: str = "desc"
    after: str | None = None
    before: str | None = None
    size: int = PAGE_SIZE

    def params(self, **changes: Any) -> dict[str, str]:
        """The query string of this list, with some parameters changed (None removes one)."""
        out = dict(self.filters)
        out |= {k: v for k, v in {"etat": self.state, "q": self.search}.items() if v}
        out |= {k: "1" for k, v in {"retard": self.late, "depasse": self.breached}.items() if v}
        out |= {k: v.isoformat() for k, v in {"depuis": self.filed_from, "jusqu_au": self.filed_to}.items() if v}
        if (self.sort, self.order) != ("updated", "desc") or self.filed_from or self.filed_to:
            out |= {"tri": self.sort, "ordre": self.order}
        if self.size != PAGE_SIZE:
            out["taille"] = str(self.size)
        for name, value in changes.items():
            if value is None:
                out.pop(name, None)
            else:
                out[name] = value
        return out


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadQuery(f"{name} : une date AAAA-MM-JJ est attendue") from None


def parse_query(q: Any) -> ListQuery:
    """From the page's (or the API's) query string."""
    state = q.get("etat") or None
    if state not in (None, "en_cours", "clos"):
        raise BadQuery("etat : « en_cours » ou « clos »")
    holder = q.get("agence") or None
    if holder is not None and holder not in AGENCIES:
        raise BadQuery("agence : " + ", ".join(AGENCIES))
    # A range of filing dates lists by filing date unless told otherwise: one index gives both.
    ranged = bool(q.get("depuis") or q.get("jusqu_au"))
    sort = q.get("tri") or ("filed" if ranged else "updated")
    order = q.get("ordre") or ("asc" if sort in ("deadline", "id") else "desc")
    if sort not in SORTS or order not in ("asc", "desc"):
        raise BadQuery("tri : " + ", ".join(SORTS) + " ; ordre : asc ou desc")
    try:
        size = int(q.get("taille") or PAGE_SIZE)
    except ValueError:
        raise BadQuery("taille : un nombre entier") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadQuery(f"taille : de 1 à {MAX_PAGE_SIZE}")
    filters = {name: q.get(name) for name in ("etape", "titre", "departement", "prefecture") if q.get(name)}
    if holder:
        filters["agence"] = holder
    return ListQuery(
        filters=filters,
        state=state,
        late=q.get("retard") in ("1", "true", "on"),
        breached=q.get("depasse") in ("1", "true", "on"),
        filed_from=_day(q.get("depuis"), "depuis"),
        filed_to=_day(q.get("jusqu_au"), "jusqu_au"),
        search=(q.get("q") or "").strip() or None,
        sort=sort,
        order=order,
        after=q.get("apres") or None,
        before=q.get("avant") or None,
        size=size,
    )


FILTER_COLUMNS = {"agence": "holder", "etape": "step", "titre": "title", "departement": "departement"}
FILTER_COLUMNS["prefecture"] = "prefecture"


def _paris_midnight(day: date) -> str:
    return utc_text(datetime.combine(day, time(), PARIS))


def where(query: ListQuery, now: datetime) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if query.search:
        # Exact, on three indexed columns: SQLite and PostgreSQL each read three index entries.
        clauses.append("(dossier_id = ? OR agdref_number = ? OR siret = ?)")
        args += [query.search] * 3
    for name, value in query.filters.items():
        clauses.append(f"{FILTER_COLUMNS[name]} = ?")
        args.append(value)
    if query.state:
        clauses.append("closed = ?")
        args.append(1 if query.state == "clos" else 0)
    if query.late:
        clauses.append("next_deadline < ?")
        args.append(utc_text(now))
    if query.breached:
        clauses.append("breached = 1")
    if query.filed_from:
        clauses.append("filed_at >= ?")
        args.append(_paris_midnight(query.filed_from))
    if query.filed_to:
        clauses.append("filed_at < ?")
        args.append(_paris_midnight(query.filed_to + timedelta(days=1)))
    return clauses, args


def encode_cursor(row: dict, sort: str) -> str:
    raw = json.dumps([row[SORTS[sort]], row["dossier_id"]], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> tuple[str, str]:
    try:
        value, dossier_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except ValueError:
        raise BadQuery("curseur de page illisible : revenez à la première page") from None
    return str(value), str(dossier_id)


def page(store: Store, query: ListQuery, now: datetime) -> dict[str, Any]:
    """One page of dossiers, the cursors of the pages before and after, and how many match."""
    clauses, args = where(query, now)
    column = SORTS[query.sort]
    if column != "dossier_id":
        clauses.append(f"{column} IS NOT NULL")  # a dossier with no deadline is not in a list sorted by deadline
    base_clauses, base_args = list(clauses), list(args)
    backwards = query.before is not None
    descending = (query.order == "desc") != backwards
    cursor = query.before or query.after
    if cursor:
        value, dossier_id = decode_cursor(cursor)
        if column == "dossier_id":
            clauses.append(f"dossier_id {'<' if descending else '>'} ?")
            args.append(dossier_id)
        else:
            clauses.append(f"({column}, dossier_id) {'<' if descending else '>'} (?, ?)")
            args += [value, dossier_id]
    direction = "DESC" if descending else "ASC"
    order = f"{column} {direction}" + ("" if column == "dossier_id" else f", dossier_id {direction}")
    sql = f"SELECT {COLUMNS} FROM dossiers {_where(clauses)} ORDER BY {order} LIMIT ?"
    rows = store.rows(sql, *args, query.size + 1)
    more = len(rows) > query.size
    rows = rows[: query.size]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_prev = bool(cursor) and (more if backwards else True)
    counted = store.rows(
        f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM dossiers {_where(base_clauses)} LIMIT ?) capped",
        *base_args,
        COUNT_CAP + 1,
    )[0]["n"]
    return {
        "rows": rows,
        "next": encode_cursor(rows[-1], query.sort) if rows and has_next else None,
        "previous": encode_cursor(rows[0], query.sort) if rows and has_prev else None,
        "count": min(counted, COUNT_CAP),
        "count_capped": counted > COUNT_CAP,
    }


def _where(clauses: list[str]) -> str:
    return ("WHERE " + " AND ".join(clauses)) if clauses else ""


def choices(directory: Directory) -> dict[str, list[str]]:
    """The values the filters offer, from the enumerations (never a scan of a million rows): the steps
    in the flow's order, then the DT-OFII's waits that are no step of their own."""
    return {
        "etape": [str(s) for s in Step] + [COMPLEMENTS_TITRE, *PRESENTATION.values()],
        "titre": list(TITLES),
        "departement": sorted(directory.guichet_unique_departments()),
        "prefecture": sorted(directory.data.get("prefectures", {})),
    }
