"""Versioned message contracts of the guichet unique; importing this package registers them all."""
from schemas import actes, autorisation_travail, competences_talents, echeances, facts, plateforme, recours, remise, titre, veille, visa  # noqa: F401
from schemas.base import AGENCIES, REGISTRY, Message, message_class  # noqa: F401
