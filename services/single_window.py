"""I.B, I.C, I.E: whom the single window serves. The DT-OFII applies it to a deposit; since 2021 the
platform applies it too, to the requests filed online with it, to know which ones the circular's
deadlines bind."""

from __future__ import annotations

from schemas.dossier import Dossier
from services.directory import Directory

SINGLE_WINDOW_TITLES = ("salarie_en_mission", "competences_et_talents", "carte_bleue_europeenne")


def route(dossier: Dossier, directory: Directory) -> tuple[str, str]:
    """I.B, I.C, I.E: who the single window serves, and why not when it does not."""
    if dossier.title == "jeune_professionnel":
        if dossier.already_in_france:
            return "prefecture_residence", "déjà présent en France : préfecture du lieu de résidence (I.E)"
        return "guichet_unique", "jeune professionnel : guichet unique national (I.E)"
    if dossier.title not in SINGLE_WINDOW_TITLES:
        return "smoe_droit_commun", (
            "titre hors guichet unique : droit commun de l'article R.5221-16 1° "
            "du code du travail, SMOE territorialement compétent (I.E)"
        )
    if dossier.already_in_france:
        return "prefecture_residence", (
            "étranger déjà présent en France : dossier complet à la préfecture du lieu de résidence (I.E)"
        )
    if dossier.employment_department not in directory.guichet_unique_departments():
        return "smoe_droit_commun", (
            f"lieu effectif d'emploi ({dossier.employment_department}) hors des huit "
            "départements du guichet unique (I.C)"
        )
    return "guichet_unique", "primo-migrant, titre et département du guichet unique (I.B, I.C, I.E)"


def applied_for_at_the_consulate(dossier: Dossier, directory: Directory) -> bool:
    """R.315-4, R.315-7: a 'compétences et talents' worker residing abroad applies at the consulate,
    whatever the département (II.A.2 only adds the single window's steps in the eight); one already
    in France applies to the préfet of residence (R.315-5)."""
    return dossier.title == "competences_et_talents" and not dossier.already_in_france


def filed_online(dossier: Dossier) -> bool:
    """2021 notes: every work-authorisation request is filed online with the platform; 'compétences
    et talents' needs none (the consul's grant is the authorisation, R.315-7)."""
    return dossier.regime == "plateformes-2021" and dossier.title != "competences_et_talents"
