"""The card's name as the texts of a dossier's regime print it (`titre.mention` of the contract).

Under the circular of 2012 the CESEDA then in force names each card by its mention: « salarié en
mission » (L.313-10 5°), « carte bleue européenne » (L.313-10 6°), « compétences et talents »
(L.315-1), the spouse's « vie privée et familiale » (L.313-11 3°, R.313-20-2). The CESEDA of 2021
(law of 7 March 2016) makes them one multi-year card, the « passeport talent » of L.313-20: the
salarié en mission's (3°, R.313-51) and the compétences et talents' (R.313-41: for a worker
residing abroad the consulate decides, the préfet hands the card over on the visa « passeport
talent »), and the « passeport talent-carte bleue européenne » of the 2° (R.313-47, R.313-49).
The family's card under 2021 is that of L.313-21, whose mention the 2021 texts held do not print:
the family keeps its contract titles (`family[].titre`).

A title the texts held do not name (a jeune professionnel's card follows its bilateral agreement,
which the sources do not include; `autre` is outside the single window) has no mention: None, not a
guess. docs/law.md, "What the regimes are"."""

from __future__ import annotations

MENTIONS: dict[str, dict[str, str]] = {
    "circulaire-2012": {
        "salarie_en_mission": "salarié en mission",
        "carte_bleue_europeenne": "carte bleue européenne",
        "competences_et_talents": "compétences et talents",
        "vie_privee_et_familiale": "vie privée et familiale",
    },
    "plateformes-2021": {
        "salarie_en_mission": "passeport talent",
        "competences_et_talents": "passeport talent",
        "carte_bleue_europeenne": "passeport talent-carte bleue européenne",
    },
}


def mention(kind: str | None, regime: str | None) -> str | None:
    """The mention the card of `kind` bears under `regime`; None where the texts held give none."""
    if kind is None or regime is None:
        return None
    return MENTIONS.get(regime, {}).get(kind)
