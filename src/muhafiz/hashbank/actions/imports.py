"""Importing a hash list into a bank: all or nothing and idempotent.

A file already imported into a bank (same SHA-256) adds nothing, an entry whose hash is already
in the bank is counted as a duplicate, and a file with bad rows names each of them and adds
nothing (unless `allow_partial`).

The file is read once, into a temporary table of the import's own database session (`COPY` on
PostgreSQL, large `executemany` batches on SQLite). A temporary table is written without
taking the database's write lock (SQLite keeps it in a file of its own) or writing the WAL
(PostgreSQL), and it vanishes with the session when the process is killed. A file with bad rows
stops there. Otherwise its rows move into the bank a chunk per transaction, one `INSERT …
SELECT … ON CONFLICT DO NOTHING` a chunk: the bank's unique indexes (one active entry per hash)
drop entries already in the bank and repeats within the file, with no look-up in Python. On
SQLite a chunk is sized to hold the write lock about a tenth of a second and a pause follows it,
so other writers (the web application) get in; PostgreSQL locks rows, not the database, and
moves large chunks. Moved rows stay out of sight (`BankEntry.objects.active()` shows an entry
only once its import is `completed`) until one last short transaction completes the import:
all or nothing for everyone who reads the bank. A failed or killed import's moved rows are
deleted in chunks of the same kind. An index rebuild is queued after commit. A large import on
PostgreSQL moves in one transaction with the entry table's keys dropped and added back, and a
list of one hash column there by a plain `INSERT` of the first row of each hash not in the bank
(decision 0107); on SQLite, in one transaction with the unique hash indexes dropped and built
again, the rows to keep worked out first as the indexes would decide (decision 0111).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, cast

from django.db import DatabaseError, OperationalError, connections, transaction
from django.utils import timezone

from muhafiz.audit.actions import record
from muhafiz.banks.formats import HashListFormat, detect_format, file_sha256, get_format
from muhafiz.banks.model import HashEntry, HashListError
from muhafiz.core.locks import LockHeldError, process_lock
from muhafiz.core.permissions import Perm, check_perm
from muhafiz.hashbank.actions.banks import _queue_rebuild, _user
from muhafiz.hashbank.errors import (
    BankError,
    ImportChangedError,
    ImportRejectedError,
    ImportRunningError,
)
from muhafiz.hashbank.hashlists import CheckResult, PlainRow, iter_checked_rows, unreadable
from muhafiz.hashbank.models import HASH_FIELDS, Bank, BankEntry, BankImport, ImportStatus

# Entries written to the temporary table per statement (one COPY stream or one executemany).
STAGE_BATCH = 50_000
# A write transaction on the bank's tables (a chunk of the move, or of a failed import's
# clean-up) is sized to take about this long, within (fewest, most) rows. SQLite has one write
# lock for the whole database: a writer waiting for it must not wait long. PostgreSQL locks
# rows: its chunks are large, for speed.
CHUNK_SECONDS = {"sqlite": 0.1, "postgresql": 2.0}
CHUNK_ROWS = {"sqlite": (200, 20_000), "postgresql": (10_000, 500_000)}
FIRST_CHUNK = {"sqlite": 1_000, "postgresql": 50_000}
# On SQLite, the pause after each chunk, as a share of the chunk's time (within bounds): a writer
# waiting in SQLite's busy handler polls every 100 ms once it has waited a while, and must find
# the lock free between two chunks.
SWAP_PAUSE_SHARE = 0.5
SWAP_PAUSE_SECONDS = (0.01, 0.1)
# PostgreSQL: at most this much memory for the import's temporary table, and for sorting a chunk
# of its rows before they move (at most `CHUNK_ROWS` rows of about 200 bytes).
TEMP_TABLE_MEMORY = "256MB"
SORT_MEMORY = "256MB"
# PostgreSQL: an import that moves at least `BULK_ROWS` rows, and at least `BULK_SHARE` of the
# rows the entry table holds, moves them in one transaction with the table's foreign keys to the
# bank and to the import dropped and added back (checked in one join each) instead of checked
# row by row; it holds the entry, bank and import tables (ACCESS EXCLUSIVE) while it moves, and
# waits at most `BULK_LOCK_WAIT` for them, else moves in chunks as usual. Decision 0107.
BULK_ROWS = 200_000
BULK_SHARE = 0.1
BULK_LOCK_WAIT = "2s"
SQLITE_CACHE_KIB = 256 * 1024  # SQLite: the page cache of the connection while it imports
# How often a running import says it is alive (`progress_at`) while it reads its file.
PROGRESS_SECONDS = 5.0


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
        chosen: HashListFormat = get_format(fmt) if fmt else detect_format(path)
    except HashListError as exc:  # unknown format, unreadable or empty file
        raise BankError(str(exc)) from exc

    source = _Source(path=path, chosen=chosen, name=name, sha256=sha256, size=size)
    # Inside a caller's transaction (evidence adds confirmed files and marks them at once) the
    # caller's rollback undoes everything and no `running` record is ever seen by others; on its
    # own, the import commits as it goes, holds the bank's process lock while it runs, and a
    # failure cleans up after itself.
    nested = connections[BankImport.objects.db].in_atomic_block
    if nested:
        return _run_import(actor, bank, source, allow_partial=allow_partial)
    try:
        with process_lock(_lock_name(bank)):
            return _run_import(actor, bank, source, allow_partial=allow_partial, owned=True)
    except LockHeldError as exc:
        raise ImportRunningError(_running_message(bank)) from exc


class _Source:
    """The file being imported, as it was when the import began."""

    def __init__(
        self, *, path: Path, chosen: HashListFormat, name: str, sha256: str, size: int
    ) -> None:
        self.path, self.chosen, self.name, self.sha256, self.size = path, chosen, name, sha256, size


def _run_import(
    actor: Any, bank: Bank, source: _Source, *, allow_partial: bool, owned: bool = False
) -> BankImport:
    if owned:
        # This import holds the bank's lock: a `running` import is dead (its process was
        # killed). Its moved rows go a chunk per transaction, before the import starts.
        for dead in BankImport.objects.filter(bank=bank, status=ImportStatus.RUNNING):
            _abandon_import(actor, dead, reason=_KILLED)
    started = _start_import(actor, bank, source)
    if started.status == ImportStatus.ALREADY_IMPORTED:
        return started
    bank_import = started
    staging = _Staging(bank_import, nested=not owned)
    try:
        staging.create()
        result = CheckResult(format=source.chosen.name)
        staged = staging.load(
            iter_checked_rows(source.path, source.chosen, result.add_error, result.count_repeat),
            result,
        )
        if file_sha256(source.path) != source.sha256:
            raise ImportChangedError(
                f"{source.path} changed while it was being imported; nothing was imported"
            )
        if result.errors and not allow_partial:
            staging.drop()
            _reject(actor, bank_import, result)
            raise ImportRejectedError(bank_import, result.errors)
        added = staging.move_into(bank)
        staging.drop()
        with transaction.atomic():
            Bank.objects.select_for_update().filter(pk=bank.pk).first()
            bank_import.status = ImportStatus.COMPLETED
            bank_import.added = added
            bank_import.duplicates = (staged - added) + result.repeats
            bank_import.bad = result.bad
            bank_import.errors = result.errors
            bank_import.save(update_fields=["status", "added", "duplicates", "bad", "errors"])
            record(
                actor,
                "bank.import",
                bank_import,
                bank=bank.pk,
                sha256=source.sha256,
                format=result.format,
                added=added,
                duplicates=bank_import.duplicates,
                bad=result.bad,
            )
            if added:
                _queue_rebuild()
    except ImportRejectedError:
        raise
    except BaseException as exc:
        if owned:
            with contextlib.suppress(DatabaseError):  # gone with the session anyway
                staging.drop()
            _abandon_import(actor, bank_import, reason=unreadable(exc).message)
        raise
    return bank_import


def _reject(actor: Any, bank_import: BankImport, result: CheckResult) -> None:
    """The file has bad rows: its record says `rejected`, names them, and nothing was added."""
    with transaction.atomic():
        bank_import.status = ImportStatus.REJECTED
        bank_import.bad = result.bad
        bank_import.errors = result.errors
        bank_import.save(update_fields=["status", "bad", "errors"])
        record(
            actor,
            "bank.import.reject",
            bank_import,
            bank=bank_import.bank_id,
            sha256=bank_import.source_sha256,
            bad=result.bad,
        )


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
    """Mark the bank's `running` imports failed and remove their moved rows, a chunk at a time,
    when no live process holds the bank's import lock (their process was killed); returns how
    many. Raises `BankError` while an import into the bank runs."""
    check_perm(actor, Perm.BANK_MANAGE, bank)
    try:
        with process_lock(_lock_name(bank)):
            running = list(BankImport.objects.filter(bank=bank, status=ImportStatus.RUNNING))
            for bank_import in running:
                _abandon_import(actor, bank_import, reason=_KILLED)
            return len(running)
    except LockHeldError as exc:
        raise ImportRunningError(_running_message(bank)) from exc


_KILLED = "interrupted: its process ended before the import finished"


def _start_import(actor: Any, bank: Bank, source: _Source) -> BankImport:
    """The import's record, `running`; or the `already-imported` record when it adds nothing.

    One import into a bank at a time: a second one is refused while the first runs (the same
    file imported twice at once adds once). An import holding the bank's process lock has
    already abandoned the `running` ones (their process was killed); one inside a caller's
    transaction takes a `running` import for dead once it has made no progress for 10 minutes,
    and removes its rows (in this transaction: at once)."""
    with transaction.atomic():
        Bank.objects.select_for_update().filter(pk=bank.pk).first()
        skipped = _skip_if_already_imported(actor, bank, source.name, source.sha256, source.size)
        if skipped is not None:
            return skipped
        horizon = timezone.now() - dt.timedelta(seconds=STALE_IMPORT_SECONDS)
        for running in BankImport.objects.filter(bank=bank, status=ImportStatus.RUNNING):
            if running.progress_at is not None and running.progress_at >= horizon:
                raise ImportRunningError(_running_message(bank, running.source_name))
            _abandon_import(actor, running, reason="interrupted: no progress for 10 minutes")
        return BankImport.objects.create(
            bank=bank,
            source_name=source.name,
            source_sha256=source.sha256,
            source_size=source.size,
            format=source.chosen.name,
            imported_by=_user(actor),
            status=ImportStatus.RUNNING,
            progress_at=timezone.now(),
        )


def _abandon_import(actor: Any, bank_import: BankImport, *, reason: str) -> None:
    """A failed or interrupted import: the rows it had moved into the bank (never visible: the
    import did not complete) go, a chunk per transaction; its record says `failed`."""
    connection = connections[BankEntry.objects.db]
    ops = connection.ops
    table = ops.quote_name(BankEntry._meta.db_table)
    pk, by = ops.quote_name("id"), ops.quote_name("added_by_id")
    sql = (
        f"DELETE FROM {table} WHERE {pk} IN (SELECT {pk} FROM {table} "  # noqa: S608 - names only
        f"WHERE {by} = %s ORDER BY {pk} LIMIT %s)"
    )
    if connection.in_atomic_block:
        BankEntry.objects.filter(added_by=bank_import).delete()
    else:
        chunks = _Chunks(connection.vendor)
        while True:
            rows, started = chunks.size, time.monotonic()
            with transaction.atomic(), connection.cursor() as cursor:
                _no_wait_for_disk(cursor)
                cursor.execute(sql, [bank_import.pk, rows])
                deleted = int(cursor.rowcount)
            chunks.took(rows, started)
            if deleted < rows:
                break
    with transaction.atomic():
        BankImport.objects.filter(pk=bank_import.pk).update(status=ImportStatus.FAILED)
        bank_import.status = ImportStatus.FAILED
        record(actor, "bank.import.fail", bank_import, bank=bank_import.bank_id, reason=reason)


def _no_wait_for_disk(cursor: Any) -> None:
    """PostgreSQL: this chunk's commit does not wait for its WAL to reach the disk. Its rows are
    out of sight until the import completes, and that last commit waits as usual, for every
    write before it too (the WAL is flushed in order); after a crash, the import is `running`
    and its rows are removed like a killed one's."""
    if cursor.db.vendor == "postgresql":
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


class _Chunks:
    """How many rows the next write transaction on the bank's tables takes: sized from the
    last one to take about `CHUNK_SECONDS`, within `CHUNK_ROWS`; on SQLite a pause follows
    each chunk, so that a waiting writer gets the lock."""

    def __init__(self, vendor: str) -> None:
        self.vendor = vendor if vendor in CHUNK_SECONDS else "sqlite"
        self.size = FIRST_CHUNK[self.vendor]

    def took(self, rows: int, started: float) -> None:
        """The chunk of `rows` rows that began at `started` (monotonic) has committed."""
        elapsed = max(time.monotonic() - started, 1e-4)
        fewest, most = CHUNK_ROWS[self.vendor]
        wanted = rows * CHUNK_SECONDS[self.vendor] / elapsed
        # Grow at most twofold at a time (the first chunks run with a cold cache), shrink at once.
        self.size = int(max(fewest, min(most, wanted, rows * 2)))
        if self.vendor == "sqlite":
            low, high = SWAP_PAUSE_SECONDS
            time.sleep(min(high, max(low, elapsed * SWAP_PAUSE_SHARE)))


_STAGED_COLUMNS = (
    "md5", "sha1", "sha256", "pdq", "pdq_quality", "photodna", "category", "series",
    "victim_identified", "offender_identified", "tags", "note", "source_line",
)  # fmt: skip
# A common PDQ-list line as a `COPY` text row (number, hash, quality, line): md5, sha1 and sha256
# empty before the hash; PhotoDNA, category, series, the two flags, tags and note after the
# quality.
_PLAIN_PDQ_ROW = "{}\t\\N\t\\N\t\\N\t{}\t{}\t\\N\t\\N\t\t\\N\t\\N\t[]\t\t{}\n"
# An NSRL row (number, md5, sha1, sha256, record; a missing hash is `\N`): no PDQ and no details.
_PLAIN_DIGESTS_ROW = "{}\t{}\t{}\t{}\t\\N\t\\N\t\\N\t\\N\t\t\\N\t\\N\t[]\t\t{}\n"
_SQLITE_DIGEST_DETAILS = (None, None, None, None, "", None, None, "[]", "")
_SQLITE_PLAIN_DETAILS = (None, None, "", None, None, "[]", "")
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """A value as a field of a `COPY … FROM STDIN` text row."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    return str(value).translate(_COPY_ESCAPES)


class _Staging:
    """The import's entries in a temporary table of this database session, numbered in file
    order, and their move into the bank.

    Nobody else sees the table; writing it takes no lock on the database's tables (SQLite
    keeps temporary tables in a separate file with its own lock) and PostgreSQL writes no WAL
    for it. Killed, the process takes the table with it.
    """

    def __init__(self, bank_import: BankImport, *, nested: bool) -> None:
        self.connection = connections[BankEntry.objects.db]
        self.vendor = self.connection.vendor
        self.bank_import = bank_import
        self.nested = nested
        ops = self.connection.ops
        self.table = ops.quote_name(f"hashbank_import_{bank_import.pk}")
        self.columns = [ops.quote_name(c) for c in _STAGED_COLUMNS]
        self.tags_encoder = cast("Any", BankEntry._meta.get_field("tags")).encoder
        self.last = 0
        self.created = False
        self.cache_size: list[int] = []
        self._filled: list[tuple[str, int]] | None = None

    def create(self) -> None:
        fields = ", ".join(
            f"{column} {BankEntry._meta.get_field(name).db_type(self.connection)}"
            for name, column in zip(_STAGED_COLUMNS, self.columns, strict=True)
        )
        key = "INTEGER PRIMARY KEY" if self.vendor == "sqlite" else "bigint PRIMARY KEY"
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                # The session's own buffers for temporary tables (8 MB by default: a large file's
                # table went through temporary files). Taken only as used, and only before the
                # session's first temporary table (later, the setting changes nothing).
                cursor.execute(f"SET temp_buffers TO '{TEMP_TABLE_MEMORY}'")
            else:
                # SQLite's page cache of this connection (2 MB by default): the bank's unique
                # indexes take rows in hash order, one page here and one there, and with the
                # default cache each chunk read the same pages again. Set back when done.
                # The temporary database's cache too (the staged rows; a large import's kept
                # rows with their unique constraints).
                for schema in ("main", "temp"):
                    cursor.execute(f"PRAGMA {schema}.cache_size")
                    self.cache_size.append(int(cursor.fetchone()[0]))
                    cursor.execute(f"PRAGMA {schema}.cache_size = -{SQLITE_CACHE_KIB}")
            cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
            cursor.execute(f"CREATE TEMPORARY TABLE {self.table} (id {key}, {fields})")
        self.created = True

    def drop(self) -> None:
        if self.created:
            self.created = False
            with self.connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.table}")
                for schema, size in zip(("main", "temp"), self.cache_size, strict=False):
                    cursor.execute(f"PRAGMA {schema}.cache_size = {size}")

    def load(
        self, entries: Iterable[HashEntry | PlainRow], result: CheckResult | None = None
    ) -> int:
        """Write the entries (those with a hash to match on); returns how many. Every
        `PROGRESS_SECONDS`, and once the file is read, the import says it is alive and how many
        rows it has read (written, and bad or repeated ones counted in `result`): one
        `UPDATE` of its record, read by the upload's page."""
        said_alive = time.monotonic()
        write = self.copy if self.vendor == "postgresql" else self.insert
        for batch in _batches(entries, STAGE_BATCH):
            write(batch)
            if not self.nested and time.monotonic() - said_alive > PROGRESS_SECONDS:
                self.say_alive(result)
                said_alive = time.monotonic()
        if not self.nested:
            self.say_alive(result)
        return self.last

    def say_alive(self, result: CheckResult | None) -> None:
        skipped = result.bad + result.repeats if result is not None else 0
        BankImport.objects.filter(pk=self.bank_import.pk).update(
            progress_at=timezone.now(), rows_read=self.last + skipped
        )

    def copy(self, batch: list[HashEntry | PlainRow]) -> None:
        """PostgreSQL: the batch as one `COPY` stream of text rows made here (psycopg's
        `write_row` adapting 14 values a row took a third of the import's own time)."""
        lines = []
        number = self.last
        plain_row = _PLAIN_PDQ_ROW.format
        digests_row = _PLAIN_DIGESTS_ROW.format
        for item in batch:
            if isinstance(item, tuple):
                number += 1
                if len(item) == 4:
                    md5, sha1, sha256 = (r"\N" if h is None else h for h in item[:3])
                    lines.append(digests_row(number, md5, sha1, sha256, item[3]))
                    continue
                quality = "\\N" if item[1] is None else item[1]
                lines.append(plain_row(number, item[0], quality, item[2]))
            elif (values := self.values(item)) is not None:
                number += 1
                lines.append("\t".join([str(number), *map(_copy_text, values)]) + "\n")
        self.last = number
        if not lines:
            return
        sql = f"COPY {self.table} ({', '.join(['id', *self.columns])}) FROM STDIN"
        with self.connection.cursor() as cursor, cursor.cursor.copy(sql) as stream:
            stream.write("".join(lines))

    def insert(self, batch: list[HashEntry | PlainRow]) -> None:
        """SQLite: the batch in one `executemany`, in a transaction that takes no lock on the
        database (it writes only the temporary table)."""
        rows: list[tuple[Any, ...]] = []
        number = self.last
        for item in batch:
            if isinstance(item, tuple):
                number += 1
                if len(item) == 4:
                    rows.append(
                        (number, item[0], item[1], item[2], *_SQLITE_DIGEST_DETAILS, item[3])
                    )
                    continue
                rows.append(
                    (number, None, None, None, item[0], item[1], *_SQLITE_PLAIN_DETAILS, item[2])
                )
            elif (values := self.values(item)) is not None:
                number += 1
                rows.append((number, *values))
        self.last = number
        if not rows:
            return
        columns = ", ".join(["id", *self.columns])
        marks = ", ".join(["%s"] * (len(self.columns) + 1))
        sql = f"INSERT INTO {self.table} ({columns}) VALUES ({marks})"  # noqa: S608 - names only
        with self.connection.cursor() as cursor:
            if self.nested:
                cursor.executemany(sql, rows)
                return
            # Not `transaction.atomic()`: the project's SQLite transactions are IMMEDIATE and
            # would take the database's write lock; a deferred one writing only the temporary
            # table takes none.
            cursor.execute("BEGIN DEFERRED")
            try:
                cursor.executemany(sql, rows)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")

    def values(self, e: HashEntry) -> tuple[Any, ...] | None:
        """An entry's values in `_STAGED_COLUMNS` order (tags as JSON text); None for an
        entry with no hash to match on."""
        if not (e.md5 or e.sha1 or e.sha256 or e.pdq or e.photodna is not None):
            return None
        tags = json.dumps(list(e.tags), cls=self.tags_encoder) if e.tags else "[]"
        return (
            e.md5, e.sha1, e.sha256, e.pdq, e.pdq_quality, e.photodna, e.category,
            e.series or "", e.victim_identified, e.offender_identified, tags, e.note or "", e.line,
        )  # fmt: skip

    def hash_column(self) -> str | None:
        """The one hash column every staged row fills (a PDQ list, a list of one digest), or
        None (several columns filled, as in NSRL, or a row without it)."""
        filled = self.filled()
        if len(filled) != 1 or filled[0][1] != self.last:
            return None
        return filled[0][0]

    def filled(self) -> list[tuple[str, int]]:
        """The hash columns with a unique index that staged rows fill, each with how many (read
        once: one pass over the staged rows)."""
        if self._filled is None:
            counts = ", ".join(f"COUNT({self.connection.ops.quote_name(c)})" for c in HASH_FIELDS)
            with self.connection.cursor() as cursor:
                cursor.execute(f"SELECT {counts} FROM {self.table}")  # noqa: S608 - names only
                row = cursor.fetchone()
            self._filled = [(c, int(n)) for c, n in zip(HASH_FIELDS, row, strict=True) if n]
        return self._filled

    def order(self, column: str | None) -> str:
        """The order the rows move in: file order, except when one hash column is filled
        (`hash_column`): then by that hash, in file order within a hash. The rows of a chunk
        then reach the bank's unique index of that hash in its own order, a leaf page after
        another (a third less of the database's time at 500,000 PDQ hashes than in file
        order); which of two rows of the same hash is kept (the first) is unchanged, and rows
        of different hashes never conflict."""
        if column is None:
            return "id"
        # Hex digits order alike in every collation; "C" compares bytes (no locale rules).
        collate = ' COLLATE "C"' if self.vendor == "postgresql" else ""
        return f"{self.connection.ops.quote_name(column)}{collate}, id"

    def move_into(self, bank: Bank) -> int:
        """Move the rows into the bank, a chunk per transaction (all in one statement inside a
        caller's transaction); returns how many were added.

        The moved rows carry the import (`added_by`), which is still `running`, so nobody sees
        them until the caller completes it. A row whose hash is already active in the bank,
        or was moved before it from this file, conflicts with the bank's unique index of that
        hash and is left out (a duplicate)."""
        if not self.last:
            return 0
        ops = self.connection.ops
        entry_table = ops.quote_name(BankEntry._meta.db_table)
        now = BankEntry._meta.get_field("added_at").get_db_prep_save(
            timezone.now(), self.connection
        )
        column = self.hash_column()
        insert = (
            f"INSERT INTO {entry_table} ({', '.join(self.columns)}, "
            f"{ops.quote_name('bank_id')}, {ops.quote_name('added_by_id')}, "
            f"{ops.quote_name('added_at')}, {ops.quote_name('removal_reason')}) "
        )
        sql = (
            f"{insert}SELECT {', '.join(self.columns)}, %s, %s, %s, '' "  # noqa: S608 - names only
            f"FROM {self.table} WHERE id BETWEEN %s AND %s ORDER BY {self.order(column)} "
            "ON CONFLICT DO NOTHING"
        )
        values = [bank.pk, self.bank_import.pk, now]
        if self.nested:
            with self.connection.cursor() as cursor:
                cursor.execute(sql, [*values, 1, self.last])
                return max(int(cursor.rowcount), 0)
        if self.vendor == "postgresql" and self.last >= BULK_ROWS:
            first = self.first_of_each_hash(insert, column)
            if first is None:
                added = self.move_unchecked(sql, [*values, 1, self.last])
            else:
                added = self.move_unchecked(first, [*values, bank.pk])
            if added is not None:
                return added
        if self.vendor == "sqlite" and self.last >= BULK_ROWS:
            moved = _SqliteBulkMove(self, bank).run(insert, values)
            if moved is not None:
                return moved
        added, low = 0, 1
        chunks = _Chunks(self.vendor)
        while low <= self.last:
            rows, started = chunks.size, time.monotonic()
            with transaction.atomic(), self.connection.cursor() as cursor:
                _no_wait_for_disk(cursor)
                if self.vendor == "postgresql":  # the chunk is sorted in memory, not on disk
                    cursor.execute(f"SET LOCAL work_mem TO '{SORT_MEMORY}'")
                cursor.execute(sql, [*values, low, low + rows - 1])
                added += max(int(cursor.rowcount), 0)
                BankImport.objects.filter(pk=self.bank_import.pk).update(progress_at=timezone.now())
            chunks.took(rows, started)
            low += rows
        return added

    def first_of_each_hash(self, insert: str, column: str | None) -> str | None:
        """PostgreSQL, the move in one transaction holding the entry table (`move_unchecked`),
        when every row fills the same one hash column: the first row of each hash in the file,
        unless the hash is active in the bank already, inserted by a plain `INSERT … SELECT
        DISTINCT ON … WHERE NOT EXISTS`. The same rows as `ON CONFLICT DO NOTHING` leaves in
        (the bank's unique index of that hash holds exactly the rows not removed), for half
        the database's time: no conflict check and speculative insertion per row (decision
        0107). Nobody else writes the table meanwhile, and the unique index is still there:
        a row it would refuse fails the whole move instead of slipping in. None when the rows
        fill several hash columns (NSRL): a row repeating one hash of a row left out is not a
        repeat of it, and only the unique indexes, row by row, decide those."""
        if column is None:
            return None
        ops = self.connection.ops
        entry_table = ops.quote_name(BankEntry._meta.db_table)
        hashed = ops.quote_name(column)
        return (
            f'{insert}SELECT DISTINCT ON (s.{hashed} COLLATE "C") '  # noqa: S608 - names only
            f"{', '.join(self.columns)}, %s, %s, %s, '' FROM {self.table} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {entry_table} e WHERE e.{hashed} = s.{hashed} "
            f"AND e.{ops.quote_name('bank_id')} = %s AND e.{ops.quote_name('removed_at')} IS NULL) "
            f'ORDER BY s.{hashed} COLLATE "C", s.id'
        )

    def move_unchecked(self, sql: str, params: list[Any]) -> int | None:
        """PostgreSQL: move every row in one transaction, with the entry table's foreign keys
        to the bank and to the import dropped first and added back after, validated by one
        join each over the whole table (`ADD CONSTRAINT`); returns how many were added, or None
        (nothing done) when the import is small beside the table, or the tables' locks are not
        free within `BULK_LOCK_WAIT`, or waiting for them deadlocked (`NOT_NOW`). The two checks
        per row are half of the server's work otherwise. Dropping a key locks the entry table
        and both tables it refers to (ACCESS EXCLUSIVE) until the commit: readers of banks wait
        for the move (decision 0107). A failure rolls it all back, the keys with it."""
        ops = self.connection.ops
        table = BankEntry._meta.db_table
        referred = [Bank._meta.db_table, BankImport._meta.db_table]
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])
            held = max(float(cursor.fetchone()[0]), 0.0)  # -1: never analysed
        if self.last < BULK_SHARE * held:
            return None
        try:
            with transaction.atomic(), self.connection.cursor() as cursor:
                _no_wait_for_disk(cursor)
                cursor.execute(f"SET LOCAL lock_timeout TO '{BULK_LOCK_WAIT}'")
                cursor.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'f' "
                    "AND confrelid::regclass::text = ANY(%s) ORDER BY conname",
                    [table, referred],
                )
                keys = cursor.fetchall()
                quoted = ops.quote_name(table)
                drops = ", ".join(f"DROP CONSTRAINT {ops.quote_name(name)}" for name, _ in keys)
                cursor.execute(f"ALTER TABLE {quoted} {drops}")
                cursor.execute("SET LOCAL lock_timeout TO 0")
                cursor.execute(f"SET LOCAL work_mem TO '{SORT_MEMORY}'")
                cursor.execute(sql, params)
                added = max(int(cursor.rowcount), 0)
                # The other keys' checks (the remover: NULL here) are deferred to the commit,
                # and a table with checks pending cannot be altered: they run now.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                adds = ", ".join(
                    f"ADD CONSTRAINT {ops.quote_name(name)} {definition}"
                    for name, definition in keys
                )
                cursor.execute(f"ALTER TABLE {quoted} {adds}")
                BankImport.objects.filter(pk=self.bank_import.pk).update(progress_at=timezone.now())
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) not in NOT_NOW:
                raise
            return None
        return added


class _BankChangedError(Exception):
    """The bank's active entries changed between working out the rows to keep and the move."""


class _SqliteBulkMove:
    """SQLite, a large import: the rows `ON CONFLICT DO NOTHING` would keep are worked out in
    the temporary database, then moved in one write transaction with the entry table's unique
    hash indexes dropped and created again (decision 0111).

    In chunks, every commit writes each index page its rows touched to the WAL (and the
    checkpoint writes it again to the database): with indexes keyed by random hashes, about
    12 KB per row once the indexes outgrow memory, and more as they grow (5 M NSRL rows wrote
    over 500 GB and had not finished after 47 minutes). Building an index from sorted rows
    writes each of its pages once.

    Which rows are kept is decided exactly as row by row: a temporary table with a unique
    constraint on each hash column the import fills takes the staged rows in file order, after
    those whose hash is active in the bank already, `ON CONFLICT DO NOTHING` (a row sharing a
    hash only with a row left out is kept). That runs before the write lock is taken; in the
    write transaction, the bank's active entries are checked to be as they were (else the
    rows move in chunks), and creating the unique indexes again checks every row of the table.
    Any failure rolls the whole move back, the indexes with it.

    The cost: the database's write lock is held for the whole move (minutes at millions of
    rows). Readers go on (WAL); other writers wait, and one that waits longer than its busy
    timeout fails with "database is locked". So only an import that owns its run, of at least
    `BULK_ROWS` rows and `BULK_SHARE` of the table, moves this way, as on PostgreSQL.
    """

    def __init__(self, staging: _Staging, bank: Bank) -> None:
        self.staging, self.bank = staging, bank
        self.connection = staging.connection
        ops = self.connection.ops
        self.entry_table = ops.quote_name(BankEntry._meta.db_table)
        self.kept = ops.quote_name(f"hashbank_import_{staging.bank_import.pk}_kept")

    def run(self, insert: str, values: list[Any]) -> int | None:
        """Move the kept rows; returns how many, or None (nothing done: the import is small
        beside the table, or the bank changed meanwhile) to move in chunks instead."""
        staging = self.staging
        with self.connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {self.entry_table}")  # noqa: S608
            held = int(cursor.fetchone()[0])  # ids only grow: at least the rows held
        if staging.last < BULK_SHARE * held:
            return None
        columns = [c for c, _ in staging.filled()]
        indexes = self.unique_indexes(columns)
        before = self.active_entries()
        kept = self.work_out_kept(columns, bank_has_entries=before[0] > 0)
        ops = self.connection.ops
        moved_columns = ", ".join(f"s.{c}" for c in staging.columns)
        move = (
            f"{insert}SELECT {moved_columns}, %s, %s, %s, '' "  # noqa: S608 - names only
            f"FROM {self.kept} k JOIN {staging.table} s ON s.id = k.id ORDER BY k.id"
        )
        try:
            with transaction.atomic(), self.connection.cursor() as cursor:
                if self.active_entries() != before:
                    raise _BankChangedError
                for name, _ in indexes:
                    cursor.execute(f"DROP INDEX {ops.quote_name(name)}")
                cursor.execute(move, values)
                added = max(int(cursor.rowcount), 0)
                if added != kept:  # rolled back with everything else
                    raise BankError(f"the move added {added} rows where {kept} were to be kept")
                for _, definition in indexes:
                    cursor.execute(definition)
                BankImport.objects.filter(pk=staging.bank_import.pk).update(
                    progress_at=timezone.now()
                )
        except _BankChangedError:
            return None
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.kept}")
        return added

    def unique_indexes(self, columns: list[str]) -> list[tuple[str, str]]:
        """The entry table's unique index of each column, as (name, `CREATE` statement)."""
        per_field = {c.fields[0]: c.name for c in BankEntry._meta.constraints}  # type: ignore[attr-defined]
        names = [per_field[c] for c in columns]
        marks = ", ".join(["%s"] * len(names))
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' "  # noqa: S608
                f"AND tbl_name = %s AND name IN ({marks}) ORDER BY name",
                [BankEntry._meta.db_table, *names],
            )
            found = [(str(name), str(sql)) for name, sql in cursor.fetchall()]
        if len(found) != len(names):
            raise BankError(f"the bank entries' unique indexes are not all there: {names}")
        return found

    def active_entries(self) -> tuple[int, int]:
        """How many active entries the bank holds, and its newest entry's id."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT COUNT(*) FILTER (WHERE removed_at IS NULL), "  # noqa: S608
                f"COALESCE(MAX(id), 0) FROM {self.entry_table} WHERE bank_id = %s",
                [self.bank.pk],
            )
            count, newest = cursor.fetchone()
        return int(count), int(newest)

    def work_out_kept(self, columns: list[str], *, bank_has_entries: bool) -> int:
        """Fill the temporary table of kept rows (their ids); returns how many. Writes only the
        temporary database, in a deferred transaction: no lock on the database's tables."""
        ops = self.connection.ops
        quoted = [ops.quote_name(c) for c in columns]
        # Rows with no hash of a unique index (PhotoDNA only) are all kept, as in chunks.
        fields = "".join(f", {q} TEXT UNIQUE" for q in quoted)
        not_in_bank = " AND ".join(
            f"NOT EXISTS (SELECT 1 FROM {self.entry_table} e WHERE e.{q} = s.{q} "  # noqa: S608
            f"AND e.bank_id = %s AND e.removed_at IS NULL)"
            for q in quoted
        )
        where = f"WHERE {not_in_bank} " if bank_has_entries and quoted else ""
        params = [self.bank.pk] * len(quoted) if where else []
        with self.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {self.kept}")
            cursor.execute(f"CREATE TEMPORARY TABLE {self.kept} (id INTEGER PRIMARY KEY{fields})")
            cursor.execute("BEGIN DEFERRED")
            try:
                cursor.execute(
                    f"INSERT INTO {self.kept} (id{''.join(f', {q}' for q in quoted)}) "  # noqa: S608
                    f"SELECT s.id{''.join(f', s.{q}' for q in quoted)} "
                    f"FROM {self.staging.table} s {where}ORDER BY s.id ON CONFLICT DO NOTHING",
                    params,
                )
                kept = int(cursor.rowcount)
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.execute("COMMIT")
        return kept


# PostgreSQL's error codes for a lock not granted within `lock_timeout`, and for a deadlock
# broken by cancelling this transaction (a session that holds one of the three tables and waits
# for another): either way nothing was done, and the import moves in chunks instead.
NOT_NOW = frozenset({"55P03", "40P01"})


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


def _batches(
    entries: Iterable[HashEntry | PlainRow], size: int
) -> Iterator[list[HashEntry | PlainRow]]:
    batch: list[HashEntry | PlainRow] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
