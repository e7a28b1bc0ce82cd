"""Fixtures of the ops tests: core's test-only table with protected fields, for backups."""

from __future__ import annotations

from muhafiz.core.tests.conftest import protected, protected_sample_table

__all__ = ["protected", "protected_sample_table"]
