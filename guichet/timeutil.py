"""Legal time: deadlines in days and months are calendar days and months in Europe/Paris; deadlines
in hours are elapsed hours (circulaire 2012, II)."""

from __future__ import annotations

import calendar
from datetime import date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
UTC = ZoneInfo("UTC")
OPENING_HOUR = time(9, 0)
_Day = TypeVar("_Day", date, datetime)


def paris(moment: datetime) -> datetime:
    """The same instant on the Paris wall clock; naive datetimes are taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(PARIS)


def at_opening(day: date) -> datetime:
    """A deposit made on `day` counts from the office's opening, 09:00 in Paris."""
    return datetime.combine(day, OPENING_HOUR, tzinfo=PARIS)


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=PARIS)


def add_days(moment: datetime, days: float) -> datetime:
    # Wall-clock arithmetic on a Paris-aware datetime: "5 jours" stays 5 calendar days across DST.
    local = paris(moment)
    return (local.replace(tzinfo=None) + timedelta(days=days)).replace(tzinfo=PARIS)


def add_hours(moment: datetime, hours: float) -> datetime:
    """Elapsed hours (II.A.1, "48 heures"): counted on UTC, so a change of time neither adds nor takes
    an hour. Python adds a timedelta to a zoned datetime on its wall clock, hence the detour."""
    utc = paris(moment).astimezone(UTC)
    return paris(utc + timedelta(hours=hours))


def add_months(day: _Day, months: int) -> _Day:
    """Calendar months, the day clamped to the month's end (31 Jan + 1 month = 28/29 Feb). An instant
    is read on the Paris wall clock first: "deux mois" from 09:00 in winter ends at 09:00 in summer,
    whatever offset the instant was written with."""
    if isinstance(day, datetime):
        local = paris(day).replace(tzinfo=None)
        return _add_months(local, months).replace(tzinfo=PARIS)
    return _add_months(day, months)


def _add_months(day: _Day, months: int) -> _Day:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    clamped = min(day.day, calendar.monthrange(year, month)[1])
    return day.replace(year=year, month=month, day=clamped)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else paris(moment).isoformat()
