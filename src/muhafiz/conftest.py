"""Fixtures shared by the Django apps' tests."""

from __future__ import annotations

import importlib
from collections.abc import Iterator

import pytest

from muhafiz.testing import People, make_people


@pytest.fixture
def people(db: None) -> People:
    return make_people()


@pytest.fixture
def flushable_audit(transactional_db: None) -> Iterator[None]:
    """Let a transactional test (a live server, a browser) end on SQLite.

    Django empties tables after such a test with DELETE, which the audit table's append-only
    trigger refuses on SQLite (PostgreSQL empties them with TRUNCATE, which it allows). This
    fixture tears down just before that: it clears the audit rows with the trigger lifted and
    puts the trigger back, so the DELETE finds nothing to refuse.
    """
    yield
    from django.db import connection

    if connection.vendor != "sqlite":
        return
    triggers = importlib.import_module("muhafiz.audit.migrations.0002_append_only_triggers")
    with connection.cursor() as cursor:
        for statement in triggers.SQLITE_BACKWARD:
            cursor.execute(statement)
        cursor.execute("DELETE FROM audit_auditevent")
        for statement in triggers.SQLITE_FORWARD:
            cursor.execute(statement)
