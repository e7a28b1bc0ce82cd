"""Importing a hash list into a bank: all or nothing and idempotent.

A file already imported into a bank (same SHA-256) adds nothing, an entry whose hash is already
in the bank is counted as a duplicate, and a file with bad rows names each of them and adds
nothing (unless `allow_partial`). Entries are staged in batches and moved into the bank at the
end, a chunk of staged rows per short transaction, so that on SQLite no other writer waits long
for the database's write lock. Moved rows stay out of sight (`BankEntry.objects.active()` shows
an entry only once its import is `completed`) until one last short transaction completes the
import: all or nothing for everyone who reads the bank. An index rebuild is queued after commit.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.db import connections, transaction
from django.db.models import Max, Min
from django.utils import timezone

from muhafiz.audit.actions import record
from muhafiz.banks.formats import HashListFormat, file_sha256
from muhafiz.banks.model import HashEntry, HashListError
from muhafiz.core.locks import LockHeldError, process_lock
from muhafiz.core.permissions import Perm, check_perm
from muhafiz.hashbank.actions.banks import _queue_rebuild, _user
from muhafiz.hashbank.errors import BankError, ImportRejectedError
from muhafiz.hashbank.hashlists import CheckResult, check_hash_list, iter_checked, unreadable
from muhafiz.hashbank.models import (
    HASH_FIELDS,
    Bank,
    BankEntry,
    BankImport,
    ImportStatus,
    StagedEntry,
)

# Entries staged per transaction. Each batch costs a commit and one look-up per hash kind in the
# bank and the import's staged rows; 20,000 keeps a batch's look-up inside SQLite's 32,766 bound
# parameters and its memory to a few MB (benchmarks/imports: 2,000 a batch before).
BATCH = 20_000
# Staged rows moved into the bank per transaction: few enough that no transaction of the move
# holds SQLite's write lock for long (about 30 µs a row; benchmarks/banks/lockhold.py).
SWAP_CHUNK = 2_000
# On SQLite, the pause after each chunk, as a share of the chunk's time (within bounds): a writer
# waiting in SQLite's busy handler polls every 100 ms once it has waited a while, and must find
# the lock free between two chunks.
SWAP_PAUSE_SHARE = 0.5
SWAP_PAUSE_SECONDS = (0.01, 0.1)


def import_hash_list(
    actor: Any,
    bank: Bank,
    path: Path,
    *,
    fmt: str | None = None,
    source_name: str | None = None,
    allow_partial: bool = False,
) -> BankImport:
    """Import the hash list at `path` into `bank`; see the module docstring for the rules.

    Raises `ImportRejectedError` (after recording the rejected attempt) when the file has bad rows
    and `allow_partial` is off, and `BankError` when the file cannot be read at all.
    """
    check_perm(actor, Perm.BANK_MANAGE, bank)
    name = source_name or path.name
    try:
        sha256 = file_sha256(path)
        size = path.stat().st_size
    except OSError as exc:
        raise BankError(f"{path}: cannot read: {exc.strerror or exc}") from exc

    skipped = _skip_if_already_imported(actor, bank, name, sha256, size)
    if skipped is not None:
        return skipped

    try:
        chosen, result = check_hash_list(path, fmt)
    except HashListError as exc:  # unknown format, unreadable or empty file
        raise BankError(str(exc)) from exc

    if result.errors and not allow_partial:
        with transaction.atomic():
            rejected = BankImport.objects.create(
                bank=bank,
                source_name=name,
                source_sha256=sha256,
                source_size=size,
                format=result.format,
                imported_by=_user(actor),
                status=ImportStatus.REJECTED,
                bad=result.bad,
                errors=result.errors,
            )
            record(
                actor,
                "bank.import.reject",
                rejected,
                bank=bank.pk,
                sha256=sha256,
                bad=result.bad,
            )
        raise ImportRejectedError(rejected, result.errors)

    # Inside a caller's transaction (evidence adds confirmed files and marks them at once) the
    # caller's rollback undoes everything and no `running` record is ever seen by others; on its
    # own, the import commits as it goes, holds the bank's process lock while it runs, and a
    # failure cleans up after itself.
    nested = connections[BankImport.objects.db].in_atomic_block
    if nested:
        return _run_import(actor, bank, path, chosen, result, name=name, sha256=sha256, size=size)
    try:
        with process_lock(_lock_name(bank)):
            return _run_import(
                actor, bank, path, chosen, result, name=name, sha256=sha256, size=size, owned=True
            )
    except LockHeldError as exc:
        raise BankError(_running_message(bank)) from exc


def _run_import(
    actor: Any,
    bank: Bank,
    path: Path,
    chosen: HashListFormat,
    result: CheckResult,
    *,
    name: str,
    sha256: str,
    size: int,
    owned: bool = False,
) -> BankImport:
    started = _start_import(
        actor, bank, name=name, sha256=sha256, size=size, result=result, owned=owned
    )
    if started.status == ImportStatus.ALREADY_IMPORTED:
        return started
    bank_import = started
    try:
        # Second pass: the file checked out (or partial imports are allowed); stream it into
        # the staging table, one short transaction a batch.
        second = CheckResult(format=result.format)
        entries = iter_checked(path, chosen, second.add_error)
        staged, duplicates = _stage_entries(bank, bank_import, entries)
        if second.bad != result.bad or file_sha256(path) != sha256:
            raise BankError(f"{path} changed while it was being imported; nothing was imported")
        added = _swap_in(bank, bank_import, chunk=SWAP_CHUNK if owned else None)
        with transaction.atomic():
            Bank.objects.select_for_update().filter(pk=bank.pk).first()
            bank_import.status = ImportStatus.COMPLETED
            bank_import.added = added
            bank_import.duplicates = duplicates + (staged - added) + result.repeats
            bank_import.save(update_fields=["status", "added", "duplicates"])
            record(
                actor,
                "bank.import",
                bank_import,
                bank=bank.pk,
                sha256=sha256,
                format=result.format,
                added=added,
                duplicates=bank_import.duplicates,
                bad=result.bad,
            )
            if added:
                _queue_rebuild()
    except BaseException as exc:
        if owned:
            _abandon_import(actor, bank_import, reason=unreadable(exc))
        raise
    return bank_import


# A running import whose last batch is older than this was interrupted (killed, machine down).
STALE_IMPORT_SECONDS = 600


def _lock_name(bank: Bank) -> str:
    return f"hashbank.import.{bank.pk}"


def _running_message(bank: Bank, source_name: str = "") -> str:
    which = f" ({source_name})" if source_name else ""
    return (
        f"another import into bank {bank.name!r} is running{which}; try again when it has finished"
    )


def abandon_interrupted_imports(actor: Any, bank: Bank) -> int:
    """Mark the bank's `running` imports failed and remove their staged rows, at once, when no
    live process holds the bank's import lock (their process was killed); returns how many.
    Raises `BankError` while an import into the bank runs."""
    check_perm(actor, Perm.BANK_MANAGE, bank)
    try:
        with process_lock(_lock_name(bank)):
            running = list(BankImport.objects.filter(bank=bank, status=ImportStatus.RUNNING))
            for bank_import in running:
                _abandon_import(actor, bank_import, reason=_KILLED)
            return len(running)
    except LockHeldError as exc:
        raise BankError(_running_message(bank)) from exc


_KILLED = "interrupted: its process ended before the import finished"


def _start_import(
    actor: Any,
    bank: Bank,
    *,
    name: str,
    sha256: str,
    size: int,
    result: CheckResult,
    owned: bool = False,
) -> BankImport:
    """The import's record, `running`; or the `already-imported` record when it adds nothing.

    One import into a bank at a time: a second one is refused while the first runs (the same
    file imported twice at once adds once). A `running` one is known dead when this import
    holds the bank's process lock (`owned`: its process was killed), or, for an import inside a
    caller's transaction, once it has made no progress for 10 minutes; it is marked failed and
    its staged rows removed."""
    with transaction.atomic():
        Bank.objects.select_for_update().filter(pk=bank.pk).first()
        skipped = _skip_if_already_imported(actor, bank, name, sha256, size)
        if skipped is not None:
            return skipped
        horizon = timezone.now() - dt.timedelta(seconds=STALE_IMPORT_SECONDS)
        for running in BankImport.objects.filter(bank=bank, status=ImportStatus.RUNNING):
            if owned:
                _abandon_import(actor, running, reason=_KILLED)
                continue
            if running.progress_at is not None and running.progress_at >= horizon:
                raise BankError(_running_message(bank, running.source_name))
            _abandon_import(actor, running, reason="interrupted: no progress for 10 minutes")
        return BankImport.objects.create(
            bank=bank,
            source_name=name,
            source_sha256=sha256,
            source_size=size,
            format=result.format,
            imported_by=_user(actor),
            status=ImportStatus.RUNNING,
            bad=result.bad,
            errors=result.errors,
            progress_at=timezone.now(),
        )


def _abandon_import(actor: Any, bank_import: BankImport, *, reason: str) -> None:
    """A failed or interrupted import: its staged rows, and the rows it had moved into the bank
    (never visible: the import did not complete), go; its record says `failed`."""
    nested = connections[BankImport.objects.db].in_atomic_block
    for rows in (
        StagedEntry.objects.filter(bank_import=bank_import),
        BankEntry.objects.filter(added_by=bank_import),
    ):
        _delete_in_chunks(rows, chunk=None if nested else SWAP_CHUNK)
    with transaction.atomic():
        BankImport.objects.filter(pk=bank_import.pk).update(status=ImportStatus.FAILED)
        bank_import.status = ImportStatus.FAILED
        record(actor, "bank.import.fail", bank_import, bank=bank_import.bank_id, reason=reason)


def _delete_in_chunks(rows: Any, *, chunk: int | None) -> None:
    """Delete `rows` (a queryset), `chunk` rows per transaction; all at once when None."""
    if chunk is None:
        rows.delete()
        return
    while True:
        started = time.monotonic()
        with transaction.atomic():
            ids = list(rows.order_by("pk").values_list("pk", flat=True)[:chunk])
            if not ids:
                return
            rows.model.objects.filter(pk__in=ids).delete()
        _let_writers_in(started)


def _let_writers_in(started: float) -> None:
    """Between two chunks on SQLite, leave the write lock free long enough for a waiting writer
    (PostgreSQL locks rows, not the database: no pause there). `started`: the chunk's start."""
    if connections[BankEntry.objects.db].vendor == "sqlite":
        low, high = SWAP_PAUSE_SECONDS
        time.sleep(min(high, max(low, (time.monotonic() - started) * SWAP_PAUSE_SHARE)))


def _swap_in(bank: Bank, bank_import: BankImport, *, chunk: int | None) -> int:
    """Move the import's staged rows into the bank, `chunk` staged rows per transaction (all in
    one statement when None: inside a caller's transaction); returns how many were added.

    The moved rows carry the import (`added_by`), which is still `running`, so nobody sees them
    until the caller completes it. Imports into one bank run one at a time, so the staged rows
    were checked against every active entry; the guard against entries that appeared meanwhile
    keeps the bank's one-active-entry-per-hash rule whatever happens."""
    connection = connections[BankEntry.objects.db]
    ops = connection.ops
    entry_table = ops.quote_name(BankEntry._meta.db_table)
    staged_table = ops.quote_name(StagedEntry._meta.db_table)
    copied = [ops.quote_name(c) for c in _STAGED_COLUMNS]
    staged_id = f"s.{ops.quote_name('id')}"
    now = BankEntry._meta.get_field("added_at").get_db_prep_save(timezone.now(), connection)
    # One probe per hash, written as the partial unique index on (hash, bank) reads (its
    # condition spelled out), so each is an index lookup: a probe with OR across the hashes
    # scans every entry of the bank, for each row of each chunk.
    absent = " AND ".join(
        f"NOT EXISTS (SELECT 1 FROM {entry_table} e WHERE e.{q} = s.{q} AND e.{q} IS NOT NULL "  # noqa: S608 - names only
        f"AND e.{ops.quote_name('bank_id')} = %s AND e.{ops.quote_name('removed_at')} IS NULL)"
        for q in (ops.quote_name(f) for f in HASH_FIELDS)
    )
    sql = (
        f"INSERT INTO {entry_table} ({', '.join(copied)}, {ops.quote_name('bank_id')}, "  # noqa: S608 - names only
        f"{ops.quote_name('added_by_id')}, {ops.quote_name('added_at')}, "
        f"{ops.quote_name('removal_reason')}) "
        f"SELECT {', '.join('s.' + c for c in copied)}, %s, %s, %s, '' FROM {staged_table} s "
        f"WHERE s.{ops.quote_name('bank_import_id')} = %s AND {staged_id} BETWEEN %s AND %s "
        f"AND {absent} ORDER BY {staged_id}"
    )
    staged = StagedEntry.objects.filter(bank_import=bank_import)
    span = staged.aggregate(first=Min("pk"), last=Max("pk"))
    if span["first"] is None:
        return 0
    step = (span["last"] - span["first"] + 1) if chunk is None else chunk
    added = 0
    for low in range(span["first"], span["last"] + 1, step):
        high = low + step - 1
        started = time.monotonic()
        with transaction.atomic(), connection.cursor() as cursor:
            probes = [bank.pk] * len(HASH_FIELDS)
            cursor.execute(sql, [bank.pk, bank_import.pk, now, bank_import.pk, low, high, *probes])
            added += max(int(cursor.rowcount), 0)
            staged.filter(pk__gte=low, pk__lte=high).delete()
            BankImport.objects.filter(pk=bank_import.pk).update(progress_at=timezone.now())
        if chunk is not None:
            _let_writers_in(started)
    return added


def _skip_if_already_imported(
    actor: Any, bank: Bank, name: str, sha256: str, size: int
) -> BankImport | None:
    """Record and return an `already-imported` attempt when this file is in the bank already."""
    earlier = (
        BankImport.objects.filter(bank=bank, source_sha256=sha256, status=ImportStatus.COMPLETED)
        .order_by("imported_at")
        .first()
    )
    if earlier is None:
        return None
    with transaction.atomic():
        skipped = BankImport.objects.create(
            bank=bank,
            source_name=name,
            source_sha256=sha256,
            source_size=size,
            format=earlier.format,
            imported_by=_user(actor),
            status=ImportStatus.ALREADY_IMPORTED,
        )
        record(
            actor,
            "bank.import.skip",
            skipped,
            bank=bank.pk,
            sha256=sha256,
            earlier_import=earlier.pk,
        )
    return skipped


_STAGED_COLUMNS = (
    "md5", "sha1", "sha256", "pdq", "pdq_quality", "photodna", "category", "series",
    "victim_identified", "offender_identified", "tags", "note", "source_line",
)  # fmt: skip


def _stage_entries(
    bank: Bank, bank_import: BankImport, entries: Iterable[HashEntry]
) -> tuple[int, int]:
    """Stage the entries not yet in the bank (nor staged before them), one transaction a
    batch; returns (staged, duplicates)."""
    staged = duplicates = 0
    writer = _staging_writer(bank_import)
    for batch in _batches(entries, BATCH):
        with transaction.atomic():
            present = _present_hashes(bank, bank_import, batch)
            rows: list[HashEntry] = []
            for entry in batch:
                values = [(f, getattr(entry, f)) for f in HASH_FIELDS if getattr(entry, f)]
                if not values and entry.photodna is None:
                    continue
                if any(value in present[f] for f, value in values):
                    duplicates += 1
                    continue
                for f, value in values:
                    present[f].add(value)
                rows.append(entry)
            writer.insert(rows)
            staged += len(rows)
            BankImport.objects.filter(pk=bank_import.pk).update(progress_at=timezone.now())
    return staged, duplicates


class _StagingWriter:
    """Inserts staged entries with one `executemany` a batch.

    `bulk_create` spends about a millisecond of Python per row preparing values; NSRL-size
    known-good lists have tens of millions of rows, so the values are prepared here once per
    column kind instead. Same table, same columns as the ORM would use.
    """

    def __init__(self, bank_import: BankImport) -> None:
        self.connection = connections[StagedEntry.objects.db]
        ops = self.connection.ops
        table = ops.quote_name(StagedEntry._meta.db_table)
        columns = ", ".join(ops.quote_name(c) for c in ("bank_import_id", *_STAGED_COLUMNS))
        marks = ", ".join(["%s"] * (len(_STAGED_COLUMNS) + 1))
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - names only
        self.copy_sql = f"COPY {table} ({columns}) FROM STDIN"
        self.tags_field = StagedEntry._meta.get_field("tags")
        self.no_tags = self.tags_field.get_db_prep_save([], self.connection)
        self.import_id = bank_import.pk

    def insert(self, entries: list[HashEntry]) -> None:
        if not entries:
            return
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, self.rows(entries))

    def rows(self, entries: list[HashEntry]) -> list[tuple[Any, ...]]:
        return [
            (
                self.import_id,
                e.md5,
                e.sha1,
                e.sha256,
                e.pdq,
                e.pdq_quality,
                e.photodna,
                e.category,
                e.series or "",
                e.victim_identified,
                e.offender_identified,
                self.tags_field.get_db_prep_save(list(e.tags), self.connection)
                if e.tags
                else self.no_tags,
                e.note or "",
                e.line,
            )
            for e in entries
        ]


class _CopyStagingWriter(_StagingWriter):
    """PostgreSQL: staged entries through `COPY … FROM STDIN`, one stream a batch, which
    PostgreSQL loads without parsing and planning an INSERT per row."""

    def insert(self, entries: list[HashEntry]) -> None:
        if not entries:
            return
        with self.connection.cursor() as cursor, cursor.cursor.copy(self.copy_sql) as copy:
            for row in self.rows(entries):
                copy.write_row(row)


def _staging_writer(bank_import: BankImport) -> _StagingWriter:
    """COPY on PostgreSQL, large `executemany` batches elsewhere (SQLite)."""
    if connections[StagedEntry.objects.db].vendor == "postgresql":
        return _CopyStagingWriter(bank_import)
    return _StagingWriter(bank_import)


def _batches(entries: Iterable[HashEntry], size: int) -> Iterator[list[HashEntry]]:
    batch: list[HashEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _present_hashes(
    bank: Bank, bank_import: BankImport, batch: Iterable[HashEntry]
) -> dict[str, set[str]]:
    """Hashes of the batch already active in the bank or staged earlier by this import."""
    present: dict[str, set[str]] = {}
    for f in HASH_FIELDS:
        wanted = {getattr(e, f) for e in batch if getattr(e, f)}
        found: set[str] = set()
        if wanted:
            found = set(
                BankEntry.objects.active()
                .filter(bank=bank, **{f"{f}__in": wanted})
                .values_list(f, flat=True)
            )
            found |= set(
                StagedEntry.objects.filter(
                    bank_import=bank_import, **{f"{f}__in": wanted}
                ).values_list(f, flat=True)
            )
        present[f] = found
    return present
