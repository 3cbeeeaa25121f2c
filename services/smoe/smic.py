"""The SMIC in force on a date: the band limits of the employer tax (D.311-18-2) are "le montant
mensuel à temps plein du salaire minimum de croissance", which the government revalues by decree.

Full-time monthly gross amounts (151.67 hours a month) as each decree set them, from the circular's
year. A filing before the first date is outside what this table holds: no amount is computed then.
A new revaluation is one line here; until then the last amount stays in force."""

from __future__ import annotations

from datetime import date

# (in force from, euros a month)
SMIC_MONTHLY_GROSS_EUR: tuple[tuple[date, float], ...] = (
    (date(2012, 1, 1), 1398.37),
    (date(2012, 7, 1), 1425.67),
    (date(2013, 1, 1), 1430.22),
    (date(2014, 1, 1), 1445.38),
    (date(2015, 1, 1), 1457.52),
    (date(2016, 1, 1), 1466.62),
    (date(2017, 1, 1), 1480.27),
    (date(2018, 1, 1), 1498.47),
    (date(2019, 1, 1), 1521.22),
    (date(2020, 1, 1), 1539.42),
    (date(2021, 1, 1), 1554.58),
    (date(2021, 10, 1), 1589.47),
    (date(2022, 1, 1), 1603.12),
    (date(2022, 5, 1), 1645.58),
    (date(2022, 8, 1), 1678.95),
    (date(2023, 1, 1), 1709.28),
    (date(2023, 5, 1), 1747.20),
    (date(2024, 1, 1), 1766.92),
    (date(2024, 11, 1), 1801.80),
    (date(2026, 1, 1), 1823.03),
)


def smic_on(day: date) -> float | None:
    """The full-time monthly gross SMIC in force on `day`; None before the table's first date."""
    in_force = [amount for since, amount in SMIC_MONTHLY_GROSS_EUR if since <= day]
    return in_force[-1] if in_force else None
