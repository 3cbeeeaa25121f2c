"""What a directory of services leaves unrouted, per regime: the check an operator runs on a
directory before giving it to the agencies (`guichet directory check FILE`).

Under the circular (annexe 1) each of the eight départements needs its DT-OFII: without one the
deposit has nowhere to go. Under the 2021 notes every request filed online goes to the platform of
the région of employment, seasonal jobs to Avignon: a département whose région no named platform
covers cannot be filed, whatever the title filed online ('compétences et talents' excepted, applied
for at the consulate, R.315-4). The agencies refuse such a dossier before anything runs
(services/scenario.py); this says which ones in advance, so that nothing is refused by surprise.
"""

from __future__ import annotations

from pydantic import ValidationError

from services.directory import Directory, UnconfiguredPlatform
from services.scenario import ScenarioDossier, ScenarioError, check_platform

# The titles a 2021 request is filed online for (services/single_window.filed_online).
# A 'compétences et talents' worker already in France applies in France (R.315-5), not at a consulate.
FILED_ONLINE_TITLES = ("salarie_en_mission", "carte_bleue_europeenne", "jeune_professionnel", "autre")
PLATFORM_TITLES = (*FILED_ONLINE_TITLES, "competences_et_talents (déjà en France)")


def departments(directory: Directory) -> list[str]:
    """Every département the directory knows: its régions' and the eight of the single window."""
    known = {d for members in directory.data["regions"].values() for d in members}
    return sorted(known | directory.guichet_unique_departments())


def unrouted_2012(directory: Directory) -> list[dict]:
    """Annexe 1: a département of the single window with no DT-OFII to deposit at."""
    return [
        {
            "department": department,
            "single_window": True,
            "titles": ["salarie_en_mission", "competences_et_talents", "carte_bleue_europeenne", "jeune_professionnel"],
            "reason": "aucune DT-OFII compétente dans l'annexe 1",
        }
        for department in sorted(directory.guichet_unique_departments())
        if directory.dt_ofii_for(department) is None
    ]


def unrouted_2021(directory: Directory) -> list[dict]:
    """2021 notes: a département no named platform covers; a seasonal job too when Avignon is unset."""
    found = []
    seasonal = bool(directory.data["platforms_2021"].get("seasonal"))
    for department in departments(directory):
        try:
            directory.platform_for(department, seasonal=False)
        except UnconfiguredPlatform as exc:
            contracts = "cdi, cdd" if seasonal else "cdi, cdd, saisonnier"
            found.append(
                {
                    "department": department,
                    "region": exc.region,
                    "single_window": department in directory.guichet_unique_departments(),
                    "titles": list(PLATFORM_TITLES),
                    "contracts": contracts.split(", "),
                    "reason": f"aucune plateforme nommée pour la région {exc.region or '(aucune région)'}",
                }
            )
    if not seasonal:
        found.append(
            {
                "department": "*",
                "region": None,
                "titles": list(PLATFORM_TITLES),
                "contracts": ["saisonnier"],
                "reason": "plateforme nationale des saisonniers non renseignée",
            }
        )
    return found


def check(directory: Directory) -> dict:
    """The report `guichet directory check` prints: per regime, what is unrouted."""
    regimes = {"circulaire-2012": unrouted_2012(directory), "plateformes-2021": unrouted_2021(directory)}
    return {
        "example": bool(directory.data.get("example")),
        "routed": not any(regimes.values()),
        "regimes": {name: {"unrouted": items} for name, items in regimes.items()},
    }


def lines(report: dict, origin: str) -> list[str]:
    """The report in French: per regime, then one line per cause, naming the départements it leaves
    unrouted (those of the single window first, they are the ones the guichet unique serves)."""
    out = []
    if report["example"]:
        out.append(f"{origin} : annuaire d'EXEMPLE, à vérifier contre la liste officielle des plateformes")
    for regime, entry in report["regimes"].items():
        items = entry["unrouted"]
        out.append(f"{regime} : " + (f"{len(items)} département(s) non acheminé(s)" if items else "tout est acheminé"))
        causes: dict[tuple, list[dict]] = {}
        for item in items:
            causes.setdefault((item["reason"], tuple(item["titles"]), tuple(item.get("contracts", ()))), []).append(
                item
            )
        for (reason, titles, contracts), group in causes.items():
            eight = [i["department"] for i in group if i.get("single_window")]
            out.append(f"  {reason} : " + ", ".join(i["department"] for i in group))
            if eight:
                out.append(f"    dont du guichet unique : {', '.join(eight)}")
            out.append(
                f"    titres : {', '.join(titles)}" + (f" ; contrats : {', '.join(contracts)}" if contracts else "")
            )
    return out


def routable(item: dict, regime: str, directory: Directory) -> bool:
    """Whether the agencies would take this scenario dossier with this directory: the same check that
    refuses a scenario before it runs (services/scenario.check_platform)."""
    try:
        check_platform(ScenarioDossier.model_validate(item), 0, regime, directory, "scenario")
    except (ScenarioError, ValidationError):
        return False
    return True
