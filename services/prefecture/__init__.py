"""The préfecture of residence: production of the residence card (R.311-10)."""
