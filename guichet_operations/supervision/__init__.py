"""Supervision: a consumer of its own that ingests the agencies' audit copies, their refusal notices
and the error queue into a store of its own, which the console reads. It never opens an agency's register."""
