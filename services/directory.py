"""The directory of services (circulaire 2012, annexe 1; 2021 note on the platforms) as data.

The defaults ship in services/data/annuaire.json (`Directory.shipped()`); a file given by the command
(`--directory FILE`, whose default is `GUICHET_DIRECTORY`) replaces them (`Directory.from_file`), so
that a préfecture's single list of documents, its DCEM policy or a platform can change without code.
The command builds one directory and hands it to the agencies' definitions (services/agencies.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT = Path(__file__).with_name("data") / "annuaire.json"
# An operator's starting point for 2021: the five platforms named, as an example to check (docs/law.md).
EXAMPLE = DEFAULT.with_name("annuaire.exemple-plateformes-2021.json")


class UnconfiguredPlatform(LookupError):
    """No platform of the directory covers the département's region: the 2021 note names only one
    of the five interregional platforms, an operator sets the others' regions."""

    def __init__(self, department: str, region: str | None):
        self.department, self.region = department, region
        super().__init__(
            f"no 2021 platform is configured for département {department} "
            f"({region or 'no region'}): set its name and regions in the directory's platforms_2021"
        )


@dataclass(frozen=True, eq=False)
class Directory:
    """One directory of services, as read: two directories of the same content are equal."""

    data: dict
    _key: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", json.dumps(self.data, sort_keys=True))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Directory) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    @classmethod
    def from_file(cls, path: str | Path) -> Directory:
        return cls(json.loads(Path(path).read_text()))

    @classmethod
    def shipped(cls) -> Directory:
        """The defaults, services/data/annuaire.json."""
        return cls.from_file(DEFAULT)

    def guichet_unique_departments(self) -> frozenset[str]:
        return frozenset(self.data["guichet_unique_departments"])

    def dt_ofii_for(self, department: str) -> str | None:
        """The DT-OFII competent for a département of employment (annexe 1)."""
        for office, entry in self.data["dt_ofii"].items():
            if department in entry["departments"]:
                return f"DT-OFII {office}"
        return None

    def region_of(self, department: str) -> str | None:
        for region, departments in self.data["regions"].items():
            if department in departments:
                return region
        return None

    def platform_for(self, department: str, seasonal: bool) -> str:
        """2021: the interregional platform for a département, or Avignon for seasonal jobs."""
        platforms = self.data["platforms_2021"]
        if seasonal:
            return platforms["seasonal"]
        region = self.region_of(department)
        for platform in platforms["interregional"]:
            if platform["name"] and region in platform["regions"]:
                return platform["name"]
        raise UnconfiguredPlatform(department, region)

    def prefecture_policy(self, department: str) -> dict:
        return {**self.data["prefecture_policy_default"], **self.data["prefecture_policy"].get(department, {})}

    def prefecture_name(self, department: str) -> str:
        entry = self.data["prefectures"].get(department)
        return entry["name"] if entry else f"Préfecture ({department})"

    def prefecture_label(self, department: str) -> str:
        """The name with its département, once: "Préfecture des Yvelines (78)", and for a préfecture
        outside annexe 1, which has no name here, "Préfecture (82)"."""
        entry = self.data["prefectures"].get(department)
        return f"{entry['name']} ({department})" if entry else f"Préfecture ({department})"
