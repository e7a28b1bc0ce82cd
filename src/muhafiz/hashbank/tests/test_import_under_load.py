"""A long bank import must not break the web application (issue 8, finding 5).

Before: the command-line import held one write transaction for its whole length, and every
token request wrote `last_used_at` (every signed-in page its session): on SQLite those writes
waited for the import's lock, then failed — 81 "database is locked", the sign-in page 500.
Now the import reads the file into a temporary table (no lock on the database) and moves the
rows into the bank in short chunks, and those per-request writes are throttled. The test runs a
long import in one thread while another signs in, opens pages and calls the API, with a short
busy timeout so that any wait for the whole import shows as a failure.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from muhafiz.core.permissions import SYSTEM
from muhafiz.hashbank import actions
from muhafiz.hashbank.models import BankEntry, BankImport, ImportStatus
from muhafiz.hashbank.tests.conftest import TokenClient, random_hex
from muhafiz.testing import People, signed_in

ENTRIES = 30_000


@pytest.fixture
def short_busy_timeout() -> Iterator[None]:
    """New connections (the threads') wait at most 2 s for a writer: only a wait for one batch
    fits, not a wait for the whole import."""
    options = connections.settings["default"].setdefault("OPTIONS", {})
    before = options.get("timeout")
    if connection.vendor == "sqlite":
        options["timeout"] = 2
    yield
    if before is None:
        options.pop("timeout", None)
    else:
        options["timeout"] = before


@pytest.mark.django_db(transaction=True)
def test_a_long_bank_import_never_fails_a_page_or_an_api_call(  # noqa: PLR0917 - fixtures
    flushable_audit: None,
    short_busy_timeout: None,
    people: People,
    token_client: Callable[..., TokenClient],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(8)
    source = tmp_path / "long.txt"
    source.write_text("".join(f"{random_hex(rng, 32)}\n" for _ in range(ENTRIES)))
    monkeypatch.setattr(actions.imports, "STAGE_BATCH", 500)
    bank = actions.create_bank(SYSTEM, name="Long list", kind="known-good")
    api = token_client("bank.view")
    failures: list[str] = []
    served = 0
    importing = threading.Event()
    done = threading.Event()

    def visit() -> None:
        nonlocal served
        try:
            page = signed_in(people.lahore_investigator)
            anonymous = Client()
            importing.wait(30)
            while not done.is_set():
                for name, call in (
                    ("sign-in page", lambda: anonymous.get("/accounts/login/")),
                    ("home page", lambda: page.get("/")),
                    ("API bank list", lambda: api.get("/api/v1/banks")),
                ):
                    try:
                        status = call().status_code
                    except Exception as exc:
                        failures.append(f"{name}: {type(exc).__name__}: {exc}")
                        continue
                    if status >= 500:
                        failures.append(f"{name}: HTTP {status}")
                    served += 1
        finally:
            connection.close()

    visitor = threading.Thread(target=visit)
    visitor.start()
    started = time.monotonic()
    try:
        importing.set()
        result = actions.import_hash_list(SYSTEM, bank, source, fmt="plain")
    finally:
        done.set()
        visitor.join(60)
    took = time.monotonic() - started

    assert result.status == ImportStatus.COMPLETED and result.added == ENTRIES
    assert BankEntry.objects.filter(bank=bank).count() == ENTRIES
    assert failures == [], failures[:5]
    assert served >= 6, f"only {served} requests in {took:.1f} s of import"


@pytest.mark.django_db
def test_an_interrupted_import_is_cleaned_up_by_the_next_and_a_running_one_refuses_another(
    tmp_path: Path,
) -> None:
    bank = actions.create_bank(SYSTEM, name="List", kind="known-bad")
    source = tmp_path / "list.txt"
    source.write_text("".join(f"{random_hex(random.Random(i), 32)}\n" for i in range(3)))
    # A process killed mid-import left a running import and the rows it had moved behind.
    killed = BankImport.objects.create(
        bank=bank,
        source_name="killed.txt",
        source_sha256="0" * 64,
        format="plain",
        status=ImportStatus.RUNNING,
        progress_at=None,
    )
    BankEntry.objects.create(bank=bank, added_by=killed, md5="a" * 32)
    result = actions.import_hash_list(SYSTEM, bank, source, fmt="plain")
    assert result.added == 3
    killed.refresh_from_db()
    assert killed.status == ImportStatus.FAILED
    assert not BankEntry.objects.filter(md5="a" * 32).exists()

    from django.utils import timezone

    BankImport.objects.create(
        bank=bank,
        source_name="busy.txt",
        source_sha256="1" * 64,
        format="plain",
        status=ImportStatus.RUNNING,
        progress_at=timezone.now(),
    )
    other = tmp_path / "other.txt"
    other.write_text(f"{random_hex(random.Random(99), 32)}\n")
    with pytest.raises(actions.BankError, match="another import into bank 'List' is running"):
        actions.import_hash_list(SYSTEM, bank, other, fmt="plain")


@pytest.mark.django_db(transaction=True)
def test_an_import_failing_while_it_moves_its_rows_leaves_none_and_says_failed(
    flushable_audit: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = actions.create_bank(SYSTEM, name="List", kind="known-bad")
    source = tmp_path / "list.txt"
    source.write_text("".join(f"{random_hex(random.Random(i), 32)}\n" for i in range(10)))
    monkeypatch.setattr(actions.imports, "STAGE_BATCH", 3)
    move_into = actions.imports._Staging.move_into
    moved: list[int] = []

    def broken_move(self: Any, bank: Any) -> int:
        moved.append(move_into(self, bank))  # every row is in the bank, out of sight
        raise RuntimeError("disk full")

    monkeypatch.setattr(actions.imports._Staging, "move_into", broken_move)
    with pytest.raises(RuntimeError, match="disk full"):
        actions.import_hash_list(SYSTEM, bank, source, fmt="plain")
    assert moved == [10]
    assert not BankEntry.objects.filter(bank=bank).exists()
    assert BankImport.objects.get(bank=bank).status == ImportStatus.FAILED


@pytest.mark.django_db
def test_an_api_token_writes_its_last_use_at_most_once_in_five_minutes(
    token_client: Callable[..., TokenClient],
) -> None:
    api = token_client("bank.view")
    assert api.get("/api/v1/banks").status_code == 200
    api.api_client.refresh_from_db()
    first = api.api_client.last_used_at
    assert first is not None
    assert api.get("/api/v1/banks").status_code == 200
    api.api_client.refresh_from_db()
    assert api.api_client.last_used_at == first  # before: written on every request
