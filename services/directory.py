"""The directory of services (circulaire 2012, annexe 1; 2021 note on the platforms) as data.

The defaults ship in services/data/annuaire.json; a file given by the command (`--directory FILE`,
whose default is `GUICHET_DIRECTORY`) replaces them, so that a préfecture's single list of
documents, its DCEM policy or a platform can change without code.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

DEFAULT = Path(__file__).with_name("data") / "annuaire.json"


_chosen: str | None = None


def use(path: str | None) -> None:
    """The directory this process's agencies read, as the command's configuration gives it."""
    global _chosen
    _chosen = path
    load.cache_clear()


@lru_cache(maxsize=4)
def load(path: str | None = None) -> dict:
    return json.loads(Path(path or _chosen or os.environ.get("GUICHET_DIRECTORY") or DEFAULT).read_text())


def guichet_unique_departments() -> frozenset[str]:
    return frozenset(load()["guichet_unique_departments"])


def dt_ofii_for(department: str) -> str | None:
    """The DT-OFII competent for a département of employment (annexe 1)."""
    for office, entry in load()["dt_ofii"].items():
        if department in entry["departments"]:
            return f"DT-OFII {office}"
    return None


def region_of(department: str) -> str | None:
    for region, departments in load()["regions"].items():
        if department in departments:
            return region
    return None


class UnconfiguredPlatform(LookupError):
    """No platform of the directory covers the département's region: the 2021 note names only one
    of the five interregional platforms, an operator sets the others' regions."""

    def __init__(self, department: str, region: str | None):
        self.department, self.region = department, region
        super().__init__(f"no 2021 platform is configured for département {department} "
                         f"({region or 'no region'}): set its name and regions in the directory's platforms_2021")


def platform_for(department: str, seasonal: bool) -> str:
    """2021: the interregional platform for a département, or Avignon for seasonal jobs."""
    platforms = load()["platforms_2021"]
    if seasonal:
        return platforms["seasonal"]
    region = region_of(department)
    for platform in platforms["interregional"]:
        if platform["name"] and region in platform["regions"]:
            return platform["name"]
    raise UnconfiguredPlatform(department, region)


def prefecture_policy(department: str) -> dict:
    data = load()
    return {**data["prefecture_policy_default"], **data["prefecture_policy"].get(department, {})}


def prefecture_name(department: str) -> str:
    entry = load()["prefectures"].get(department)
    return entry["name"] if entry else f"Préfecture ({department})"
