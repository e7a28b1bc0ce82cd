"""Aggregates for the public accountability dashboard, with small counts suppressed."""
