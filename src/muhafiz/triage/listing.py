"""The files a scan has listed and not yet processed, kept on disk, handed out largest first.

A disk image or a phone lists hundreds of thousands of files before the first is read; held as
`Unit` objects they cost about 300 bytes each in the main process for the whole scan (a 500 GB
image with millions of files: gigabytes). They go instead into a private temporary SQLite
database (SQLite's own temporary file, unlinked as soon as it is opened, so that even a killed
scan leaves nothing behind; it lives in SQLITE_TMPDIR, TMPDIR or /var/tmp), and come back in
order of size through an index, a page at a time. Memory stays flat whatever the count.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

from muhafiz.triage.sources.base import Unit

_INSERT_BATCH = 5000
_READ_BATCH = 2000
_CACHE_KIB = 4096


class Listing:
    """Units to process: `add` them while walking, `seal`, then iterate (largest first; equal
    sizes in the order they were added), as often as needed."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect("", isolation_level=None)  # "": private, on disk, temporary
        self._conn.execute(f"PRAGMA cache_size = -{_CACHE_KIB}")
        self._conn.execute("PRAGMA journal_mode = OFF")
        self._conn.execute("PRAGMA synchronous = OFF")
        self._conn.execute(
            "CREATE TABLE units (seq INTEGER PRIMARY KEY, size INTEGER NOT NULL,"
            " source_id INTEGER NOT NULL, path TEXT NOT NULL, locator BLOB NOT NULL,"
            " path_raw BLOB)"
        )
        self._pending: list[tuple[int, int, str, bytes, bytes | None]] = []
        self._sealed = False
        self.count = 0
        self.total_bytes = 0

    def add(self, unit: Unit) -> None:
        assert not self._sealed, "the listing is sealed"
        # A folder's locator is its absolute path, undecodable name bytes as surrogates.
        locator = unit.locator.encode("utf-8", "surrogateescape")
        self._pending.append((unit.size, unit.source_id, unit.path, locator, unit.path_raw))
        self.count += 1
        self.total_bytes += unit.size
        if len(self._pending) >= _INSERT_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._conn.execute("BEGIN")
            self._conn.executemany(
                "INSERT INTO units (size, source_id, path, locator, path_raw)"
                " VALUES (?, ?, ?, ?, ?)",
                self._pending,
            )
            self._conn.execute("COMMIT")
            self._pending = []

    def seal(self) -> None:
        """The walk is over: index the units by size for reading."""
        if not self._sealed:
            self._flush()
            self._conn.execute("CREATE INDEX units_by_size ON units (size DESC, seq)")
            self._sealed = True

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Unit]:
        self.seal()
        # Pages by key (size, seq): no statement stays open between pages.
        last: tuple[int, int] | None = None
        while True:
            if last is None:
                rows = self._conn.execute(
                    "SELECT size, seq, source_id, path, locator, path_raw FROM units"
                    " ORDER BY size DESC, seq LIMIT ?",
                    (_READ_BATCH,),
                ).fetchall()
            else:
                rows = self._conn.execute(
                    "SELECT size, seq, source_id, path, locator, path_raw FROM units"
                    " WHERE size < ? OR (size = ? AND seq > ?)"
                    " ORDER BY size DESC, seq LIMIT ?",
                    (last[0], last[0], last[1], _READ_BATCH),
                ).fetchall()
            if not rows:
                return
            for size, _seq, source_id, path, locator, path_raw in rows:
                locator_text = bytes(locator).decode("utf-8", "surrogateescape")
                yield Unit(int(source_id), str(path), locator_text, int(size), path_raw)
            last = (int(rows[-1][0]), int(rows[-1][1]))

    def close(self) -> None:
        self._conn.close()
