"""Muhafiz: triage, case database, offender register and public accountability."""

__version__ = "0.1.0"
