"""The consulate of France in the worker's country of residence: the long-stay visa."""
