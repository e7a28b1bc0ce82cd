"""Fixtures of the ops tests: core's test-only table with protected fields, for backups; an empty
Redis database for each test when jobs run on RQ."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from muhafiz.core.tests.conftest import protected, protected_sample_table

__all__ = ["protected", "protected_sample_table"]


@pytest.fixture(autouse=True)
def _empty_redis() -> Iterator[None]:
    """On RQ (REDIS_URL set), every test starts and ends with an empty Redis database: the one
    named by REDIS_URL must be the tests' own."""
    from muhafiz.core.jobs import uses_rq

    if not uses_rq():
        yield
        return
    import django_rq

    django_rq.get_connection().flushdb()
    yield
    django_rq.get_connection().flushdb()
