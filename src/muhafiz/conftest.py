"""Fixtures shared by the Django apps' tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from muhafiz.testing import People, make_people


@pytest.fixture
def people(db: None) -> People:
    return make_people()


@pytest.fixture
def flushable_audit(transactional_db: None) -> Iterator[None]:
    """Let a transactional test (a live server, a browser) end cleanly on SQLite.

    Django empties tables after such a test with DELETE, which the audit table's append-only
    trigger refuses; this fixture tears down just before that and removes the audit rows with
    the trigger lifted for that moment only (see `muhafiz.audit.testing`).
    """
    yield
    from muhafiz.audit.testing import remove_audit_rows

    remove_audit_rows()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per test module (see muhafiz.browser_testing)."""
    from muhafiz.browser_testing import launch_chromium

    yield from launch_chromium()


@pytest.fixture(autouse=True)
def _language_reset_after_each_test() -> Iterator[None]:
    """A request in Urdu leaves Urdu active in the thread (LocaleMiddleware activates it for the
    request); reset it so that the next test in the same worker starts in the default language."""
    yield
    from django.utils import translation

    translation.deactivate()
