"""Test helpers for code that writes audit events in transactional tests.

The audit table refuses UPDATE and DELETE. On SQLite, Django empties tables between
transactional tests with DELETE, so a transactional test that wrote audit events must remove
them first: use the `audit_rows_removed` fixture (or call `remove_audit_rows`). PostgreSQL
empties tables with TRUNCATE, which the row triggers do not see. Only tests import this module.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest
from django.db import connections


def remove_audit_rows(using: str = "default") -> None:
    """Delete every audit event, lifting the append-only triggers for that moment only."""
    triggers = importlib.import_module("muhafiz.audit.migrations.0002_append_only_triggers")
    connection = connections[using]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for statement in triggers.SQLITE_BACKWARD:
                cursor.execute(statement)
            cursor.execute("DELETE FROM audit_auditevent")
            for statement in triggers.SQLITE_FORWARD:
                cursor.execute(statement)
        elif connection.vendor == "postgresql":
            cursor.execute("TRUNCATE audit_auditevent")


@pytest.fixture
def audit_rows_removed(transactional_db: None) -> Iterator[None]:
    """A transactional test whose audit events are removed before Django empties the tables."""
    yield
    remove_audit_rows()
