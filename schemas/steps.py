"""The steps of the flow, one name each, with the label an agent reads (circulaire, II).

A step is where a dossier stands in the paper flow: most travel in a message of their own, whose
class names its step (`STEP`); two are done inside one agency and travel in none (the production of
the card, the card of a carte bleue holder's spouse). The dossier's journey, its deadlines and its
breaches are recorded under these names, and the scenario contract prints them as they are."""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    label: str

    def __new__(cls, value: str, label: str) -> Step:
        step = str.__new__(cls, value)
        step._value_ = value
        step.label = label
        return step

    # The work authorisation (II.A; 2021 notes: the platforms)
    DEPOT_AUTORISATION_TRAVAIL = "depot_autorisation_travail", "dépôt de la demande d'autorisation de travail"
    ACCUSE_DEPOT = "accuse_depot", "accusé de dépôt"
    TRANSMISSION_SMOE = "transmission_smoe", "transmission au SMOE"
    DECISION_AUTORISATION_TRAVAIL = "decision_autorisation_travail", "décision sur l'autorisation de travail"
    AUTORISATION_TRAVAIL_SECURISEE = "autorisation_travail_securisee", "autorisation de travail sécurisée"
    RECOURS_GRACIEUX = "recours_gracieux", "recours gracieux de l'employeur"
    TRANSMISSION_RECOURS = "transmission_recours", "transmission du recours"
    DECISION_RECOURS = "decision_recours", "décision sur le recours"
    INFORMATION_EMPLOYEUR = "information_employeur", "information de l'employeur"
    # The visa (II.B) and the compétences et talents card (I.B)
    TRANSMISSION_CONSULAT = "transmission_consulat", "transmission au consulat"
    DECISION_VISA = "decision_visa", "décision sur le visa"
    DEMANDE_COMPETENCES_TALENTS = "demande_competences_talents", "demande de carte compétences et talents"
    DECISION_COMPETENCES_TALENTS = "decision_competences_talents", "décision sur la carte compétences et talents"
    TRANSMISSION_DOSSIER_OFII = "transmission_dossier_ofii", "transmission du dossier à la DT-OFII"
    COPIE_MINISTERE = "copie_ministere", "copie au ministère"
    # The residence card (II.C, II.D)
    DEPOT_TITRE = "depot_titre", "dépôt du dossier de titre de séjour"
    DEMANDE_COMPLEMENTS = "demande_complements", "demande des pièces manquantes"
    TRANSMISSION_PREFECTURE = "transmission_prefecture", "transmission à la préfecture"
    CONVOCATION_VISITE_MEDICALE = "convocation_visite_medicale", "convocation à la visite médicale"
    FABRICATION_TITRE = "fabrication_titre", "fabrication du titre"  # inside the préfecture (II.C.2)
    TITRE_FAMILLE = "titre_famille", "titre famille"  # R.313-20-2 III, inside the préfecture
    TRANSMISSION_TITRE_OFII = "transmission_titre_ofii", "transmission du titre à l'OFII"
    SECONDE_CONVOCATION = "seconde_convocation", "seconde convocation"
    REMISE_TITRE = "remise_titre", "remise du titre"
    RENVOI_TITRE_PREFECTURE = "renvoi_titre_prefecture", "renvoi du titre à la préfecture"
    RECEPISSE = "recepisse", "délivrance d'un récépissé"


# Done inside one agency: no message carries them.
INTERNAL = frozenset({Step.FABRICATION_TITRE, Step.TITRE_FAMILLE})
