"""NIST NSRL RDS v3: SQLite databases of known software files (known-good).

Minimal and delta sets have a `FILE` table and a `DISTINCT_HASH` view; the full set builds
`FILE` as a view over `METADATA`. Hashes are read straight from the `METADATA` table when there
is one, else from the `FILE` table: a plain scan is linear, while the `DISTINCT` view makes
SQLite sort every row first; repeats are dropped when the index is built. Hashes are uppercase
in RDS; they are normalised to lowercase. `read_bare_digests` reads in bulk (validating a whole
batch at once and falling back to row-by-row only to name a bad record).

The file comes from outside and is treated as hostile (`muhafiz.untrusted.sqlite`): opened
read-only and immutable, with the schema's SQL untrusted, no memory mapping, no attached
databases and a cap on the size of any one value; only plain tables are read — never a view
(which could run any query, forever), a virtual table or a generated column.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any, ClassVar

from muhafiz.banks.formats.base import DigestBatch, HashListFormat
from muhafiz.banks.hexhash import HEX_LENGTHS, normalize_hex
from muhafiz.banks.model import HashEntry, HashKind, HashListError
from muhafiz.banks.reasons import reason
from muhafiz.untrusted import sqlite as untrusted_sqlite

SQLITE_MAGIC = b"SQLite format 3\x00"
_HASH_SOURCES = ("METADATA", "FILE")
# A hash is at most 64 hex digits; NSRL's longest text (a file or package name) is far below
# this. A larger value is refused by SQLite as it is read, before it reaches memory.
MAX_VALUE_BYTES = untrusted_sqlite.MAX_VALUE_BYTES
_KINDS = {"md5": HashKind.MD5, "sha1": HashKind.SHA1, "sha256": HashKind.SHA256}
_COLUMNS = ("md5", "sha1", "sha256")
_BATCH = 50_000
# A row as read by `read_plain`: (md5, sha1, sha256) in lower case or None, and its record
# number; the `HashEntry(md5=…, sha1=…, sha256=…, line=…)` it stands for.
PlainDigests = tuple[str | None, str | None, str | None, int]


class NsrlRds(HashListFormat):
    name: ClassVar[str] = "nsrl"
    description: ClassVar[str] = "NIST NSRL RDS v3 SQLite (minimal, delta or full)"
    sniff_order: ClassVar[int] = 0

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(SQLITE_MAGIC)

    def read(
        self, path: Path, on_error: Callable[[HashListError], None] | None = None
    ) -> Iterator[HashEntry]:
        """Stream the hash rows. With `on_error`, a bad row is reported to it and reading goes
        on, so that every bad row is named (an import then refuses the whole file); without
        it, the first bad row raises. A damaged database always raises."""
        source = str(path)
        with contextlib.closing(_row_batches(path)) as batches:
            for rows, columns, record in batches:
                for number, row in enumerate(rows, start=record + 1):
                    try:
                        entry = _entry(dict(zip(columns, row, strict=True)), source, number)
                    except HashListError as exc:
                        if on_error is None:
                            raise
                        on_error(exc)
                        continue
                    yield entry

    def read_plain(
        self, path: Path, on_error: Callable[[HashListError], None]
    ) -> Iterator[PlainDigests]:
        """As `read` with `on_error`, each row as a `PlainDigests` tuple instead of a
        `HashEntry`: a batch whose values are all well-formed is checked at C speed (an
        import's fast path; 5 million rows make 5 million records otherwise), any other batch
        row by row, naming every bad row."""
        source = str(path)
        with contextlib.closing(_row_batches(path)) as batches:
            for rows, columns, record in batches:
                plain = _plain_batch(rows, columns, record)
                if plain is None:
                    plain = _plain_slow(rows, columns, source, record, on_error)
                yield from plain

    def read_bare_digests(self, path: Path) -> Iterator[DigestBatch] | None:
        return self._read_bulk(path)

    def _read_bulk(self, path: Path) -> Iterator[DigestBatch]:
        source = str(path)
        with contextlib.closing(_row_batches(path)) as batches:
            for rows, columns, record in batches:
                batch = _bulk_batch(rows, columns)
                if batch is None:
                    batch = _slow_batch(rows, columns, source, record)
                yield batch

    def version(self, path: Path) -> dict[str, Any]:
        """The VERSION rows of the set, for provenance (empty if there is no VERSION table)."""
        connection = _connect(path)
        try:
            found = [o for o in untrusted_sqlite.schema(connection) if o.name.upper() == "VERSION"]
            if not found or not found[0].plain_table:
                return {}  # a view or virtual table could run anything: never read
            cursor = connection.execute(f"SELECT * FROM {_quoted(found[0].name)} LIMIT 100")  # noqa: S608
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        except (sqlite3.DatabaseError, UnicodeDecodeError):
            return {}
        finally:
            connection.close()
        return {"versions": [dict(zip(names, row, strict=True)) for row in rows]}


def check_not_truncated(path: Path) -> None:
    """Compare the page count in the SQLite header with the file size."""
    source = str(path)
    with path.open("rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        raise HashListError(source, None, reason("not_sqlite"))
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size = path.stat().st_size
    if pages and page_size * pages > size:
        raise HashListError(
            source,
            None,
            reason(
                "sqlite_truncated",
                pages=pages,
                page_size=page_size,
                expected=pages * page_size,
                size=size,
            ),
        )


def _row_batches(path: Path) -> Generator[tuple[list[Any], list[str], int]]:
    """The hash columns' rows, `_BATCH` at a time: each batch with the columns' names (lower
    case) and the number of the records before it. Every reader of the set reads through here:
    the file checked for truncation, opened as untrusted, only a plain table read; a database
    that breaks while it is read raises `HashListError`."""
    source = str(path)
    check_not_truncated(path)
    connection = _connect(path)
    try:
        table, columns = _hash_source(connection, source)
        try:
            cursor = connection.execute(f"SELECT {', '.join(columns)} FROM {table}")  # noqa: S608
            record = 0
            while rows := cursor.fetchmany(_BATCH):
                yield rows, columns, record
                record += len(rows)
        except sqlite3.DatabaseError as exc:
            raise _damaged(source, exc) from exc
    finally:
        connection.close()


def _connect(path: Path) -> sqlite3.Connection:
    try:
        return untrusted_sqlite.connect(path, immutable=True)
    except sqlite3.Error as exc:  # pragma: no cover - open is lazy in SQLite
        raise HashListError(str(path), None, reason("sqlite_cannot_open", detail=str(exc))) from exc


def _damaged(source: str, exc: sqlite3.DatabaseError) -> HashListError:
    if untrusted_sqlite.value_too_big(exc):
        return HashListError(source, None, reason("sqlite_value_too_large", limit=MAX_VALUE_BYTES))
    return HashListError(source, None, reason("nsrl_damaged", detail=str(exc)))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _hash_source(connection: sqlite3.Connection, source: str) -> tuple[str, list[str]]:
    """The table to read and its hash columns. Only `sqlite_schema` and column lists are read
    here, which runs none of the file's SQL."""
    try:
        objects = {o.name.upper(): o for o in untrusted_sqlite.schema(connection)}
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        raise HashListError(source, None, reason("sqlite_damaged", detail=str(exc))) from exc
    for wanted in _HASH_SOURCES:
        found = objects.get(wanted)
        if found is None or not found.plain_table:
            continue  # a view or virtual table could run anything: never read
        try:
            info = untrusted_sqlite.columns(connection, found.name)
        except sqlite3.DatabaseError as exc:
            raise HashListError(source, None, reason("sqlite_damaged", detail=str(exc))) from exc
        hashes = [column for column in info if column.name.lower() in _COLUMNS]
        if any(column.generated for column in hashes):  # computed as it is read
            raise HashListError(
                source,
                None,
                reason("nsrl_generated_columns", table=found.name),
            )
        if hashes:
            return _quoted(found.name), [column.name.lower() for column in hashes]
    raise HashListError(
        source,
        None,
        reason("nsrl_no_hash_table"),
    )


def _hex_column(rows: list[Any], index: int, column: str) -> tuple[list[str], bytes] | None:
    """A column of the batch when every value is a hash of the column's exact length: the
    values as read and their digests joined, checked at C speed; None if any value is off (not
    text, NULL, empty, another length, a non-hex character or a space)."""
    values = [row[index] for row in rows]
    if not all(type(value) is str for value in values):
        return None
    if set(map(len, values)) != {HEX_LENGTHS[_KINDS[column]]}:
        return None
    joined = "".join(values)
    try:
        raw = bytes.fromhex(joined)
    except ValueError:
        return None
    if len(raw) * 2 != len(joined):  # fromhex skips whitespace: a space is not a digit
        return None
    return values, raw


def _bulk_batch(rows: list[Any], columns: list[str]) -> DigestBatch | None:
    """All rows' digests per column at C speed, or None if anything is off in this batch."""
    batch = DigestBatch(entries=len(rows))
    for index, column in enumerate(columns):
        checked = _hex_column(rows, index, column)
        if checked is None:
            return None
        batch.digests[_KINDS[column]] = checked[1]
    return batch


def _plain_batch(rows: list[Any], columns: list[str], record: int) -> list[PlainDigests] | None:
    """The rows as `PlainDigests` (hashes in lower case), or None if any value is not a hash of
    its column's exact length (NULL and empty values too: those go row by row)."""
    found: dict[str, list[str]] = {}
    for index, column in enumerate(columns):
        checked = _hex_column(rows, index, column)
        if checked is None:
            return None
        found[column] = list(map(str.lower, checked[0]))
    missing = [None] * len(rows)
    return list(
        zip(
            found.get("md5", missing),
            found.get("sha1", missing),
            found.get("sha256", missing),
            range(record + 1, record + len(rows) + 1),
            strict=True,
        )
    )


def _plain_slow(
    rows: list[Any],
    columns: list[str],
    source: str,
    record: int,
    on_error: Callable[[HashListError], None],
) -> list[PlainDigests]:
    """Row by row, as `read` does: every bad row is reported to `on_error` and left out."""
    plain: list[PlainDigests] = []
    for offset, row in enumerate(rows, start=1):
        try:
            entry = _entry(dict(zip(columns, row, strict=True)), source, record + offset)
        except HashListError as exc:
            on_error(exc)
            continue
        plain.append((entry.md5, entry.sha1, entry.sha256, record + offset))
    return plain


def _slow_batch(rows: list[Any], columns: list[str], source: str, record: int) -> DigestBatch:
    """Row by row: raises naming the first bad record, or collects what bulk parsing refused
    (empty or NULL hash columns)."""
    parts: dict[HashKind, list[bytes]] = {}
    for offset, row in enumerate(rows, start=1):
        entry = _entry(dict(zip(columns, row, strict=True)), source, record + offset)
        for kind, value in (
            (HashKind.MD5, entry.md5),
            (HashKind.SHA1, entry.sha1),
            (HashKind.SHA256, entry.sha256),
        ):
            if value is not None:
                parts.setdefault(kind, []).append(bytes.fromhex(value))
    return DigestBatch(len(rows), {kind: b"".join(values) for kind, values in parts.items()})


def _entry(row: dict[str, Any], source: str, record: int) -> HashEntry:
    values: dict[str, str | None] = {}
    for column, kind in (
        ("md5", HashKind.MD5),
        ("sha1", HashKind.SHA1),
        ("sha256", HashKind.SHA256),
    ):
        value = row.get(column)
        if value is None or value == "":
            values[column] = None
            continue
        if not isinstance(value, str):
            raise HashListError(
                source, record, reason("column_not_text", column=column).at("record", record=record)
            )
        try:
            values[column] = normalize_hex(value, kind, source, record)
        except HashListError as exc:
            raise HashListError(source, record, exc.reason.at("record", record=record)) from exc
    if not any(values.values()):
        raise HashListError(source, record, reason("no_hash").at("record", record=record))
    return HashEntry(
        md5=values.get("md5"), sha1=values.get("sha1"), sha256=values.get("sha256"), line=record
    )
