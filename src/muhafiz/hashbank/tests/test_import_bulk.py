"""Bulk paths of a bank import (issue 14): NSRL rows read without a record per row, and on
PostgreSQL a large import moved with the entry table's foreign keys dropped and added back, on
SQLite with the unique hash indexes dropped and built again.

The NSRL tests read batches of a few rows (the reader's batch made small), so that a bad row, a
NULL hash or a repeat falls in a later batch than the first. The PostgreSQL tests lower the
size from which the keys are dropped, run the import on its own (not inside the test's
transaction, as `muhafiz bank import` does), and read `pg_constraint` afterwards.
"""

from __future__ import annotations

import contextlib
import json
import random
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, connections

from muhafiz.banks.formats import nsrl
from muhafiz.core.permissions import SYSTEM
from muhafiz.hashbank import actions
from muhafiz.hashbank.models import Bank, BankEntry, BankImport, ImportStatus
from muhafiz.hashbank.tests.conftest import random_hex
from muhafiz.hashbank.tests.test_imports import VICS_13

NSRL_TABLE = (
    "CREATE TABLE FILE (sha256 VARCHAR, sha1 VARCHAR, md5 VARCHAR, crc32 VARCHAR, "
    "file_name VARCHAR, file_size INTEGER, package_id INTEGER)"
)


def _nsrl(path: Path, rows: list[tuple[Any, Any, Any]]) -> Path:
    """An RDS v3 minimal set of (sha256, sha1, md5) rows."""
    db = sqlite3.connect(path)
    db.execute(NSRL_TABLE)
    db.executemany(
        "INSERT INTO FILE (sha256, sha1, md5, file_name, file_size, package_id) "
        "VALUES (?, ?, ?, 'f.dll', 1, 1)",
        rows,
    )
    db.commit()
    db.close()
    return path


def _row(rng: random.Random) -> tuple[str, str, str]:
    return (random_hex(rng, 64).upper(), random_hex(rng, 40).upper(), random_hex(rng, 32).upper())


@pytest.mark.django_db
def test_nsrl_rows_in_later_batches_are_each_named_and_nothing_is_imported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(nsrl, "_BATCH", 4)
    rng = random.Random(14)
    rows: list[tuple[Any, Any, Any]] = [_row(rng) for _ in range(12)]
    rows[5] = (rows[5][0], rows[5][1], "not-a-hash")  # record 6, second batch
    rows[9] = (rows[9][0], 12345, rows[9][2])  # record 10, third batch: not text
    rows[10] = (None, "", None)  # record 11: no hash at all
    path = _nsrl(tmp_path / "rds.db", rows)

    with pytest.raises(actions.ImportRejectedError) as caught:
        actions.import_hash_list(SYSTEM, _bank(), path, fmt="nsrl")

    assert [e["line"] for e in caught.value.errors] == [6, 10, 11]
    assert "md5" in caught.value.errors[0]["message"]
    assert not BankEntry.objects.exists()


@pytest.mark.django_db
def test_nsrl_rows_read_in_bulk_and_row_by_row_import_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch with a missing hash goes row by row, the others in bulk: same entries, lower
    case, each with its record number; a repeat in a later batch is a duplicate."""
    monkeypatch.setattr(nsrl, "_BATCH", 3)
    rng = random.Random(15)
    rows: list[tuple[Any, Any, Any]] = [_row(rng) for _ in range(9)]
    rows[4] = (rows[4][0], None, rows[4][2])  # second batch: no SHA-1, read row by row
    rows[7] = rows[1]  # third batch: a repeat of record 2
    path = _nsrl(tmp_path / "rds.db", rows)
    bank = _bank()

    result = actions.import_hash_list(SYSTEM, bank, path, fmt="nsrl")

    assert (result.status, result.added, result.duplicates) == (ImportStatus.COMPLETED, 8, 1)
    stored = {e.source_line: (e.sha256, e.sha1, e.md5) for e in BankEntry.objects.filter(bank=bank)}
    expected = {
        n: tuple(None if h is None else h.lower() for h in row)
        for n, row in enumerate(rows, start=1)
        if n != 8
    }
    assert stored == expected


def test_the_bulk_and_the_record_readers_of_nsrl_agree(tmp_path: Path) -> None:
    rng = random.Random(16)
    rows: list[tuple[Any, Any, Any]] = [_row(rng) for _ in range(7)]
    rows[2] = (f" {rows[2][0]} ", rows[2][1], "")  # spaces around, an empty MD5
    rows[5] = ("zz", rows[5][1], rows[5][2])
    path = _nsrl(tmp_path / "rds.db", rows)
    reader = nsrl.NsrlRds()
    plain_errors: list[Any] = []
    entry_errors: list[Any] = []

    plain = list(reader.read_plain(path, plain_errors.append))
    entries = list(reader.read(path, entry_errors.append))

    assert plain == [(e.md5, e.sha1, e.sha256, e.line) for e in entries]
    assert [(e.line, e.message) for e in plain_errors] == [
        (e.line, e.message) for e in entry_errors
    ]
    assert [e.line for e in plain_errors] == [6]


def _bank(name: str = "NSRL") -> Bank:
    return actions.create_bank(SYSTEM, name=name, kind="known-good")


# PostgreSQL: the move with the foreign keys dropped.


@pytest.fixture
def on_postgres(transactional_db: None, flushable_audit: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the foreign keys are dropped on PostgreSQL only (SQLite: the tests below)")


@pytest.fixture
def bulk_from_ten_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(actions.imports, "BULK_ROWS", 10)
    monkeypatch.setattr(actions.imports, "BULK_SHARE", 0.0)


def _entry_keys() -> dict[str, tuple[bool, str]]:
    """The entry table's foreign keys: by name, whether each is validated, and its definition
    (columns, table referred to, deferrable)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, convalidated, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [BankEntry._meta.db_table],
        )
        return {name: (valid, definition) for name, valid, definition in cursor.fetchall()}


def _pdq_list(path: Path, count: int, seed: int, repeat: bool = False) -> Path:
    rng = random.Random(seed)
    lines = [f"{random_hex(rng, 64)},100\n" for _ in range(count)]
    if repeat:
        lines.append(lines[0])
    path.write_text("".join(lines), encoding="ascii")
    return path


@pytest.mark.usefixtures("on_postgres", "bulk_from_ten_rows")
def test_a_large_import_moves_with_the_keys_dropped_and_puts_them_back_validated(
    tmp_path: Path,
) -> None:
    before = _entry_keys()
    bank = _bank("Watch")
    first = actions.import_hash_list(SYSTEM, bank, _pdq_list(tmp_path / "a.pdq", 50, seed=1))
    statements: list[str] = []

    def watch(execute: Any, sql: str, *args: Any) -> Any:
        statements.append(sql)
        return execute(sql, *args)

    # The second list repeats its own first hash and holds 10 hashes of the first list.
    second_path = tmp_path / "b.pdq"
    _pdq_list(second_path, 40, seed=2, repeat=True)
    old = (tmp_path / "a.pdq").read_text().splitlines(keepends=True)[:10]
    second_path.write_text(second_path.read_text() + "".join(old))
    with connection.execute_wrapper(watch):
        second = actions.import_hash_list(SYSTEM, bank, second_path)

    assert any("DROP CONSTRAINT" in sql for sql in statements)
    # Every row holds a PDQ hash only: the first of each hash not in the bank, in one plain
    # INSERT (no conflict check per row).
    assert any("DISTINCT ON" in sql and "ON CONFLICT" not in sql for sql in statements)
    assert (first.added, second.added, second.duplicates) == (50, 40, 11)
    repeated = second_path.read_text().split(",", 1)[0]
    assert BankEntry.objects.get(bank=bank, pdq=repeated).source_line == 1  # the first kept
    assert BankEntry.objects.filter(bank=bank).count() == 90
    assert _entry_keys() == before
    assert len(before) == 3 and all(valid for valid, _ in before.values())
    assert all("DEFERRABLE INITIALLY DEFERRED" in definition for _, definition in before.values())


@pytest.mark.usefixtures("on_postgres", "bulk_from_ten_rows")
def test_an_import_failing_after_the_keys_were_dropped_leaves_nothing_and_the_keys_in_place(
    tmp_path: Path,
) -> None:
    before = _entry_keys()
    bank = _bank("Watch")
    moved: list[int] = []

    def fail_when_adding_the_keys_back(execute: Any, sql: str, *args: Any) -> Any:
        if "ADD CONSTRAINT" in sql:
            with connection.cursor() as cursor:  # the rows are in the table by now
                cursor.execute("SELECT COUNT(*) FROM hashbank_bankentry")
                moved.append(cursor.fetchone()[0])
            raise RuntimeError("the machine went down")
        return execute(sql, *args)

    with (
        connection.execute_wrapper(fail_when_adding_the_keys_back),
        pytest.raises(RuntimeError),
    ):
        actions.import_hash_list(SYSTEM, bank, _pdq_list(tmp_path / "a.pdq", 30, seed=3))

    assert moved == [30]
    assert not BankEntry.objects.exists()
    assert _entry_keys() == before
    assert BankImport.objects.get(bank=bank).status == ImportStatus.FAILED


# A function run by another session in its open transaction: it sets the first event once it
# holds what it holds, and waits for the second (the test's end) before it rolls back.
Holder = Callable[[Any, threading.Event, threading.Event], None]


@contextlib.contextmanager
def _another_session(hold: Holder) -> Iterator[threading.Event]:
    """Run `hold` in another session (its own thread and connection) until the test ends."""
    holding, release = threading.Event(), threading.Event()

    def run() -> None:
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                hold(cursor, holding, release)
                cursor.execute("ROLLBACK")
        finally:
            holding.set()
            other.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert holding.wait(30)
    try:
        yield release
    finally:
        release.set()
        thread.join(30)


@pytest.fixture
def bank_table_held() -> Iterator[threading.Event]:
    """Another session reads the bank table in an open transaction until the event is set."""

    def hold(cursor: Any, holding: threading.Event, release: threading.Event) -> None:
        cursor.execute(f"LOCK TABLE {Bank._meta.db_table} IN ACCESS SHARE MODE")
        holding.set()
        release.wait(60)

    with _another_session(hold) as release:
        yield release


class _Trail:
    """The statements the import ran on its connection, each with the SQLSTATE it failed with
    (None when it ran)."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, str | None]] = []

    def __call__(self, execute: Any, sql: str, *args: Any) -> Any:
        try:
            result = execute(sql, *args)
        except Exception as exc:
            self.statements.append((sql, getattr(exc.__cause__, "sqlstate", None)))
            raise
        self.statements.append((sql, None))
        return result

    def fell_back(self) -> str | None:
        """The SQLSTATE the keys' drop failed with, if it failed and the rows then moved in
        chunks (the move's `INSERT` run after it, a range of rows at a time); else None."""
        drops = [i for i, (sql, _) in enumerate(self.statements) if "DROP CONSTRAINT" in sql]
        if len(drops) != 1 or self.statements[drops[0]][1] is None:
            return None
        after = [sql for sql, failed in self.statements[drops[0] :] if failed is None]
        moved = [sql for sql in after if sql.startswith("INSERT INTO") and "BETWEEN" in sql]
        return self.statements[drops[0]][1] if moved else None


def _import_falling_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, lock_wait: str, rows: int
) -> str | None:
    """Import `rows` PDQ hashes into a new bank, waiting at most `lock_wait` for the tables;
    check that every row landed and the keys are as before, and return the SQLSTATE the keys'
    drop failed with when the rows then moved in chunks (`_Trail.fell_back`)."""
    monkeypatch.setattr(actions.imports, "BULK_LOCK_WAIT", lock_wait)
    before = _entry_keys()
    bank = _bank("Watch")
    trail = _Trail()

    with connection.execute_wrapper(trail):
        result = actions.import_hash_list(
            SYSTEM, bank, _pdq_list(tmp_path / "a.pdq", rows, seed=rows)
        )

    assert (result.status, result.added) == (ImportStatus.COMPLETED, rows)
    assert BankEntry.objects.active().filter(bank=bank).count() == rows
    assert _entry_keys() == before
    return trail.fell_back()


@pytest.mark.usefixtures("on_postgres", "bulk_from_ten_rows", "bank_table_held")
def test_an_import_that_cannot_lock_the_tables_soon_moves_in_chunks_with_the_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fell_back = _import_falling_back(tmp_path, monkeypatch, lock_wait="200ms", rows=30)

    assert fell_back == "55P03"  # lock_timeout: the bank table stayed held


@pytest.fixture
def deadlocking_session() -> Iterator[list[str]]:
    """Another session holds the bank table (ACCESS SHARE, as a reader of banks does), waits
    until the import, holding the entry table for its keys' drop, waits for the bank table,
    then asks for the entry table itself: each session waits for the other. Its own deadlock
    check is put off (60 s), so that the import's (after the server's `deadlock_timeout`) is
    the one that finds the cycle, and the import is the one cancelled. It rolls back at the
    end of the test; the list says how it went."""
    events: list[str] = []
    entry, bank = BankEntry._meta.db_table, Bank._meta.db_table

    def hold(cursor: Any, holding: threading.Event, release: threading.Event) -> None:
        try:
            cursor.execute("SET LOCAL deadlock_timeout TO '60s'")
        except Exception:  # not a superuser: said to the test, which skips
            events.append("no-superuser")
            return
        cursor.execute(f"LOCK TABLE {bank} IN ACCESS SHARE MODE")
        holding.set()
        for _ in range(3000):  # at most 30 s
            cursor.execute(
                "SELECT 1 FROM pg_locks WHERE relation = %s::regclass "
                "AND NOT granted AND pid <> pg_backend_pid()",
                [bank],
            )
            if cursor.fetchone() or release.wait(0.01):
                break
        if release.is_set():
            events.append("the import never waited for the bank table")
            return
        events.append("asks for the entry table")
        cursor.execute(f"LOCK TABLE {entry} IN ACCESS SHARE MODE")  # until the cancel
        events.append("holds the entry table")
        release.wait(60)

    with _another_session(hold):
        if events == ["no-superuser"]:
            pytest.skip("putting off the other session's deadlock check needs a superuser")
        yield events


@pytest.mark.usefixtures("on_postgres", "bulk_from_ten_rows")
def test_an_import_whose_wait_for_the_tables_deadlocks_moves_in_chunks_and_lands_every_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deadlocking_session: list[str]
) -> None:
    # Far longer than the deadlock check: only the deadlock gets the import out of its wait.
    fell_back = _import_falling_back(tmp_path, monkeypatch, lock_wait="30s", rows=40)

    assert fell_back == "40P01"  # deadlock_detected: the import's transaction cancelled
    assert deadlocking_session[0] == "asks for the entry table"


@pytest.mark.usefixtures("on_postgres", "bulk_from_ten_rows")
def test_a_large_import_of_rows_with_several_hashes_moves_with_the_unique_indexes_deciding(
    tmp_path: Path,
) -> None:
    """NSRL rows hold three hashes: a row sharing one hash with an earlier row is a duplicate,
    and a row sharing a hash only with a row left out is not: the unique indexes decide, row
    by row (ON CONFLICT), as in chunks."""
    rng = random.Random(17)
    rows: list[tuple[Any, Any, Any]] = [_row(rng) for _ in range(12)]
    fresh = _row(rng)
    rows[7] = (fresh[0], fresh[1], rows[1][2])  # record 8: the MD5 of record 2
    rows[8] = (_row(rng)[0], fresh[1], _row(rng)[2])  # record 9: the SHA-1 of record 8 only
    bank = _bank()
    trail = _Trail()

    with connection.execute_wrapper(trail):
        result = actions.import_hash_list(SYSTEM, bank, _nsrl(tmp_path / "rds.db", rows))

    ran = [sql for sql, failed in trail.statements if failed is None]
    assert any("DROP CONSTRAINT" in sql for sql in ran)
    assert any("ON CONFLICT DO NOTHING" in sql for sql in ran)
    assert (result.added, result.duplicates) == (11, 1)
    stored = set(BankEntry.objects.filter(bank=bank).values_list("source_line", flat=True))
    assert stored == set(range(1, 13)) - {8}


# SQLite: the move in one transaction with the unique hash indexes built again.


@pytest.fixture
def on_sqlite(transactional_db: None, flushable_audit: None) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the unique indexes are built again on SQLite only")


def _entry_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s",
            [BankEntry._meta.db_table],
        )
        return dict(cursor.fetchall())


def _tricky_nsrl_rows(rng: random.Random) -> list[tuple[Any, Any, Any]]:
    """Twelve NSRL rows: record 8 repeats the MD5 of record 2 (a duplicate), record 9 shares
    only the SHA-1 of the left-out record 8 (kept), record 11 repeats record 3 whole."""
    rows: list[tuple[Any, Any, Any]] = [_row(rng) for _ in range(12)]
    fresh = _row(rng)
    rows[7] = (fresh[0], fresh[1], rows[1][2])
    rows[8] = (_row(rng)[0], fresh[1], _row(rng)[2])
    rows[10] = rows[2]
    return rows


def _import_watched(bank: Bank, path: Path) -> tuple[BankImport, list[str]]:
    trail = _Trail()
    with connection.execute_wrapper(trail):
        result = actions.import_hash_list(SYSTEM, bank, path, fmt="nsrl")
    return result, [sql for sql, failed in trail.statements if failed is None]


@pytest.mark.usefixtures("on_sqlite", "bulk_from_ten_rows")
def test_sqlite_large_import_builds_the_unique_indexes_again_and_keeps_what_chunks_keep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same file into two banks already holding the same entries, one moved in chunks and
    one in bulk: the same rows kept (the unique indexes' row-by-row decision, against the bank's
    active entries and earlier rows of the file, not against a removed entry or another
    bank), and the indexes as before."""
    before = _entry_indexes()
    rng = random.Random(18)
    earlier = [_row(rng) for _ in range(11)]
    rows = _tricky_nsrl_rows(rng)
    rows[4] = earlier[0]  # record 5: active in the bank already
    rows[5] = (_row(rng)[0], earlier[1][1], _row(rng)[2])  # record 6: one hash of an active one
    rows[6] = earlier[2]  # record 7: of a removed entry only
    path = _nsrl(tmp_path / "rds.db", rows)
    stored: dict[str, set[int]] = {}
    for name in ("chunks", "bulk"):
        bank = _bank(name)
        actions.import_hash_list(SYSTEM, bank, _nsrl(tmp_path / f"{name}.db", earlier))
        actions.remove_entry(
            SYSTEM, BankEntry.objects.get(bank=bank, source_line=3), reason="wrong list"
        )
        if name == "chunks":
            monkeypatch.setattr(actions.imports, "BULK_ROWS", 10**9)
        else:
            monkeypatch.setattr(actions.imports, "BULK_ROWS", 10)
        result, ran = _import_watched(bank, path)
        assert any(sql.startswith("DROP INDEX") for sql in ran) == (name == "bulk"), name
        assert (result.status, result.added, result.duplicates) == (ImportStatus.COMPLETED, 8, 4)
        stored[name] = set(
            BankEntry.objects.active()
            .filter(bank=bank, added_by=result)
            .values_list("source_line", flat=True)
        )

    assert stored["bulk"] == stored["chunks"] == set(range(1, 13)) - {5, 6, 8, 11}
    assert _entry_indexes() == before


@pytest.mark.usefixtures("on_sqlite", "bulk_from_ten_rows")
def test_sqlite_large_import_failing_while_the_indexes_are_built_leaves_nothing_and_them_there(
    tmp_path: Path,
) -> None:
    before = _entry_indexes()
    bank = _bank()
    moved: list[int] = []

    def fail_when_building_an_index(execute: Any, sql: str, *args: Any) -> Any:
        if sql.startswith("CREATE UNIQUE INDEX"):
            with connection.cursor() as cursor:  # the rows are in the table by now
                cursor.execute("SELECT COUNT(*) FROM hashbank_bankentry")
                moved.append(cursor.fetchone()[0])
            raise RuntimeError("the machine went down")
        return execute(sql, *args)

    rows = _tricky_nsrl_rows(random.Random(19))
    with connection.execute_wrapper(fail_when_building_an_index), pytest.raises(RuntimeError):
        actions.import_hash_list(SYSTEM, bank, _nsrl(tmp_path / "rds.db", rows), fmt="nsrl")

    assert moved == [10]
    assert not BankEntry.objects.exists()
    assert _entry_indexes() == before
    assert BankImport.objects.get(bank=bank).status == ImportStatus.FAILED


@pytest.mark.usefixtures("on_sqlite", "bulk_from_ten_rows")
def test_sqlite_large_import_into_a_bank_changed_meanwhile_moves_in_chunks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry removed between working out the kept rows and the move: the rows kept would not
    be what the unique indexes decide now, so the import moves in chunks, and keeps the row
    whose hash is no longer active."""
    rng = random.Random(20)
    earlier = [_row(rng) for _ in range(11)]
    bank = _bank()
    actions.import_hash_list(SYSTEM, bank, _nsrl(tmp_path / "earlier.db", earlier))
    rows = [_row(rng) for _ in range(11)] + [earlier[0]]
    work_out = actions.imports._SqliteBulkMove.work_out_kept

    def remove_meanwhile(self: Any, *args: Any, **kwargs: Any) -> int:
        kept = work_out(self, *args, **kwargs)
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute(
                    "UPDATE hashbank_bankentry SET removed_at = '2026-01-01 00:00:00' "
                    "WHERE bank_id = %s AND source_line = 1",
                    [bank.pk],
                )
        finally:
            other.close()
        return kept

    monkeypatch.setattr(actions.imports._SqliteBulkMove, "work_out_kept", remove_meanwhile)
    result, ran = _import_watched(bank, _nsrl(tmp_path / "rds.db", rows))

    assert not any(sql.startswith("DROP INDEX") for sql in ran)
    assert (result.added, result.duplicates) == (12, 0)


@pytest.mark.usefixtures("on_sqlite", "bulk_from_ten_rows")
def test_sqlite_large_import_of_photodna_only_rows_keeps_every_row(tmp_path: Path) -> None:
    """PhotoDNA has no unique index: rows holding only it are all kept, in bulk as in chunks
    (failed before: the kept rows' table had no column after the id)."""
    rng = random.Random(21)
    media = [{"MediaID": n, "Category": 1, "PhotoDNA": random_hex(rng, 64)} for n in range(1, 13)]
    path = tmp_path / "vics.json"
    path.write_text(json.dumps({"odata.metadata": VICS_13, "value": media}), encoding="utf-8")
    bank = _bank("PhotoDNA")

    trail = _Trail()
    with connection.execute_wrapper(trail):
        result = actions.import_hash_list(SYSTEM, bank, path)

    ran = [sql for sql, failed in trail.statements if failed is None]
    assert not any(sql.startswith("DROP INDEX") for sql in ran)
    assert (result.status, result.added, result.duplicates) == (ImportStatus.COMPLETED, 12, 0)
