"""Varied scenarios for trainers and for measuring: the five titles, twelve départements (the eight
of the single window and four outside it), families, refusals, incomplete card dossiers, missed
medical visits, slow préfectures, filings spread over a year. The same seed gives the same file.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import IO

TITLES = (
    ("salarie_en_mission", 40),
    ("carte_bleue_europeenne", 20),
    ("competences_et_talents", 15),
    ("jeune_professionnel", 10),
    ("autre", 15),
)
SINGLE_WINDOW_DEPARTMENTS = ("31", "38", "59", "63", "69", "75", "78", "92")
OTHER_DEPARTMENTS = ("13", "33", "44", "67")
FIRST_FILING = date(2026, 1, 5)
YEAR_DAYS = 365
WORKERS = (
    ("DOE", "Jane", "IND", "12 MG Road", "Bengaluru", "+91 80 0000 0000"),
    ("ROE", "Richard", "BRA", "Rua Augusta 100", "São Paulo", "+55 11 0000 0000"),
    ("POE", "Ana", "MEX", "Av. Reforma 1", "Ciudad de México", "+52 55 0000 0000"),
    ("LEE", "Min", "KOR", "1 Sejong-daero", "Seoul", "+82 2 0000 0000"),
    ("NGUYEN", "Lan", "VNM", "2 Trang Tien", "Hanoi", "+84 24 0000 0000"),
    ("OKAFOR", "Chidi", "NGA", "3 Marina Road", "Lagos", "+234 1 000 0000"),
)
EMPLOYERS = (
    ("55208131766522", "Exemple SA"),
    ("73282932000074", "Société Exemple"),
    ("12345678900017", "Démo Ingénierie SAS"),
)


def dossier(rng: random.Random, number: int, prefix: str) -> dict:
    """One dossier: mostly ordinary, with the share of each difficulty a year at the window brings."""
    title = rng.choices([t for t, _ in TITLES], weights=[w for _, w in TITLES])[0]
    inside = rng.random() < 0.8
    employment = rng.choice(SINGLE_WINDOW_DEPARTMENTS if inside else OTHER_DEPARTMENTS)
    residence = employment if rng.random() < 0.7 else rng.choice(SINGLE_WINDOW_DEPARTMENTS + OTHER_DEPARTMENTS)
    surname, given, nationality, line, city, phone = rng.choice(WORKERS)
    siret, employer = rng.choice(EMPLOYERS)
    kind = rng.choices(("cdi", "cdd", "saisonnier"), weights=(60, 32, 8))[0]
    months = None if kind == "cdi" else rng.randint(4, 6) if kind == "saisonnier" else rng.choice((6, 12, 18, 24, 36))
    return {
        "id": f"{prefix}{number:06d}",
        "title": title,
        "filed_on": (FIRST_FILING + timedelta(days=rng.randrange(YEAR_DAYS))).isoformat(),
        "employment_department": employment,
        "residence_department": residence,
        "already_in_france": rng.random() < 0.05,
        "family": {
            "spouse": rng.random() < 0.35,
            "minor_children": rng.choices((0, 1, 2, 3), weights=(60, 20, 15, 5))[0],
        },
        "employer": {"siret": siret, "name": employer},
        "worker": {
            "surname": surname,
            "given_names": given,
            "nationality": nationality,
            "address_abroad": {
                "line": line,
                "city": city,
                "country": nationality,
                "phone": phone,
                "email": f"{given.lower()}.{number}@example.org",
            },
        },
        "contract": {
            "kind": kind,
            "months": months,
            "monthly_gross_salary_eur": rng.choice((2400, 3100, 4800, 5200, 6500)),
        },
        "facts": facts(rng),
    }


def facts(rng: random.Random) -> dict:
    """The facts of one dossier; an empty dict for the ordinary case (every default on time)."""
    f: dict = {}
    chance = rng.random
    if chance() < 0.10:
        f["smoe_instruction_days"] = rng.choice((4, 9, 12, 15))
    if chance() < 0.05:
        f["ofii_transmission_days"] = rng.choice((1, 6.5))
    if chance() < 0.05:
        f["ofii_consulat_hours"] = rng.choice((12, 60))
    if chance() < 0.03:
        f["employer_compliant"] = False
    if chance() < 0.02:
        f["remuneration_ok"] = False
    if f.get("employer_compliant") is False or f.get("remuneration_ok") is False:
        if chance() < 0.5:
            f["recours_gracieux"] = True
            f["recours_favorable"] = chance() < 0.5
    if chance() < 0.03:
        f["visa_granted"] = False
    if chance() < 0.05:
        f["visa_instruction_days"] = rng.choice((5, 20))
    if chance() < 0.05:
        f["visa_validity_days"] = rng.choice((90, 180))
    if chance() < 0.05:
        f["arrival_days_after_visa"] = rng.choice((5, 40))
    if chance() < 0.06:
        f["titre_dossier_complete"] = False
        if chance() < 0.5:
            f["titre_completion_days"] = rng.choice((5, 20, 60))
    if chance() < 0.05:
        f["prefecture_production_days"] = 70
    if chance() < 0.05:
        f["medical_abroad"] = True
    if chance() < 0.08:
        f["medical_no_shows"] = rng.choice((1, 2))
    return f


# Draws before giving up on a directory that routes (almost) nothing: with only Clermont-Ferrand and
# Avignon named, about one draw in four is routable under 2021.
MAX_DRAWS = 1000


class NothingRoutable(ValueError):
    """The directory in use routes none of the dossiers drawn."""


def dossiers(
    count: int, seed: int, prefix: str = "G-", routable: Callable[[dict], bool] | None = None
) -> Iterator[dict]:
    """`count` dossiers; with `routable`, only those it accepts (a 2021 dossier whose platform the
    directory does not name is refused by the agencies, so it is drawn again, not written)."""
    rng = random.Random(seed)
    for number in range(1, count + 1):
        for _ in range(MAX_DRAWS):
            item = dossier(rng, number, prefix)
            if routable is None or routable(item):
                break
        else:
            raise NothingRoutable(f"the directory routes none of {MAX_DRAWS} dossiers drawn: name its platforms")
        yield item


def write_scenario(
    out: IO[str],
    count: int,
    seed: int,
    regime: str = "circulaire-2012",
    routable: Callable[[dict], bool] | None = None,
) -> None:
    """One JSON document, written one dossier per line so that a large one never sits in memory."""
    out.write(json.dumps({"regime": regime})[:-1] + ', "dossiers": [\n')
    for index, item in enumerate(dossiers(count, seed, routable=routable)):
        out.write((",\n" if index else "") + json.dumps(item, ensure_ascii=False))
    out.write("\n]}\n")
