"""Steps of the flow that are done inside one agency and travel in no message of their own; the
others take their names from their message class (`STEP`)."""
FABRICATION_TITRE = "fabrication_titre"    # the préfecture produces the card (II.C.2)
TITRE_FAMILLE = "titre_famille"            # the card of a carte bleue holder's spouse (R.313-20-2 III)
