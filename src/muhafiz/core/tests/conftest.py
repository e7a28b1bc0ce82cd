"""Fixtures of the core tests: the test-only table with protected fields."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from muhafiz.core.tests.sample_models import ProtectedSample


@pytest.fixture(scope="session")
def protected_sample_table(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[None]:
    """Create the sample table once per test database (core has no migrations to do it)."""
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        if ProtectedSample._meta.db_table not in connection.introspection.table_names():
            with connection.schema_editor() as editor:
                editor.create_model(ProtectedSample)
    yield


@pytest.fixture
def protected(protected_sample_table: None, db: None) -> None:
    """Database access with the sample table present."""
