"""NIST NSRL RDS v3: SQLite databases of known software files (known-good).

Minimal and delta sets have a `FILE` table and a `DISTINCT_HASH` view; the full set builds
`FILE` as a view over `METADATA`. Hashes are read from `DISTINCT_HASH` when present (one row
per distinct file), else from `FILE`, else `METADATA`. Hashes are uppercase in RDS; they are
normalised to lowercase. The database is opened read-only and immutable: never modified.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from muhafiz.banks.formats.base import HashListFormat
from muhafiz.banks.hexhash import normalize_hex
from muhafiz.banks.model import HashEntry, HashKind, HashListError

SQLITE_MAGIC = b"SQLite format 3\x00"
_HASH_SOURCES = ("DISTINCT_HASH", "FILE", "METADATA")
_COLUMNS = ("md5", "sha1", "sha256")
_BATCH = 50_000


class NsrlRds(HashListFormat):
    name: ClassVar[str] = "nsrl"
    description: ClassVar[str] = "NIST NSRL RDS v3 SQLite (minimal, delta or full)"
    sniff_order: ClassVar[int] = 0

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.startswith(SQLITE_MAGIC)

    def read(self, path: Path) -> Iterator[HashEntry]:
        source = str(path)
        check_not_truncated(path)
        connection = _connect(path)
        try:
            table, columns = _hash_source(connection, source)
            select = ", ".join(columns)
            try:
                cursor = connection.execute(f"SELECT {select} FROM {table}")  # noqa: S608
                record = 0
                while rows := cursor.fetchmany(_BATCH):
                    for row in rows:
                        record += 1
                        yield _entry(dict(zip(columns, row, strict=True)), source, record)
            except sqlite3.DatabaseError as exc:
                raise HashListError(
                    source, None, f"damaged or truncated NSRL database: {exc}"
                ) from exc
        finally:
            connection.close()

    def version(self, path: Path) -> dict[str, Any]:
        """The VERSION row(s) of the set, for provenance (empty if the table is missing)."""
        connection = _connect(path)
        try:
            rows = connection.execute("SELECT * FROM VERSION").fetchall()
            names = [d[0] for d in connection.execute("SELECT * FROM VERSION").description]
        except sqlite3.DatabaseError:
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
        raise HashListError(source, None, "not an SQLite database (or truncated header)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    size = path.stat().st_size
    if pages and page_size * pages > size:
        raise HashListError(
            source,
            None,
            f"truncated SQLite file: header says {pages} pages of {page_size} bytes "
            f"({pages * page_size} bytes), file has {size}",
        )


def _connect(path: Path) -> sqlite3.Connection:
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        return sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:  # pragma: no cover - open is lazy in SQLite
        raise HashListError(str(path), None, f"cannot open SQLite database: {exc}") from exc


def _hash_source(connection: sqlite3.Connection, source: str) -> tuple[str, list[str]]:
    try:
        objects = {
            str(name).upper(): str(name)
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
            )
        }
    except sqlite3.DatabaseError as exc:
        raise HashListError(source, None, f"damaged SQLite database: {exc}") from exc
    for wanted in _HASH_SOURCES:
        name = objects.get(wanted)
        if name is None:
            continue
        try:
            info = connection.execute(f"PRAGMA table_info({name})").fetchall()
        except sqlite3.DatabaseError as exc:
            raise HashListError(source, None, f"damaged SQLite database: {exc}") from exc
        columns = [str(row[1]).lower() for row in info if str(row[1]).lower() in _COLUMNS]
        if columns:
            return name, columns
    raise HashListError(
        source,
        None,
        "not an NSRL RDS v3 database: no DISTINCT_HASH, FILE or METADATA with hash columns",
    )


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
            raise HashListError(source, record, f"record {record}: {column} is not text")
        try:
            values[column] = normalize_hex(value, kind, source, record)
        except HashListError as exc:
            raise HashListError(source, record, f"record {record}: {exc.message}") from exc
    if not any(values.values()):
        raise HashListError(source, record, f"record {record}: no hash")
    return HashEntry(
        md5=values.get("md5"), sha1=values.get("sha1"), sha256=values.get("sha256"), line=record
    )
