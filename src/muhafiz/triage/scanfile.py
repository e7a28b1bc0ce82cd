"""The scan file: one portable SQLite file with everything a scan found (docs/scan-file.md).

Only the main scan process writes it. Records are keyed by (source_id, path), never by insertion
order, so the same source and settings give the same rows whatever the worker count, and a
resumed scan ends with the rows an uninterrupted one would have.
"""

from __future__ import annotations

import datetime as dt
import functools
import getpass
import json
import re
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from string import Formatter
from typing import Any

import numpy as np
import numpy.typing as npt

from muhafiz.banks.index.pdq import MihLayout, PdqIndex, hex_to_words, popcount_rows
from muhafiz.triage.records import FileRecord, Issue
from muhafiz.untrusted import sqlite as untrusted_sqlite

FORMAT_NAME = "muhafiz-scan"
SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE sources (
    source_id INTEGER PRIMARY KEY,
    argument TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    size INTEGER,
    sha256 TEXT,
    details TEXT,
    verification TEXT
);

CREATE TABLE banks (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    entries INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE files (
    source_id INTEGER NOT NULL REFERENCES sources (source_id),
    path TEXT NOT NULL,
    parent TEXT,
    depth INTEGER NOT NULL,
    kind TEXT NOT NULL,
    size INTEGER,
    path_raw BLOB,
    mtime TEXT,
    atime TEXT,
    ctime TEXT,
    time_zone TEXT,
    timestamps_reliable INTEGER NOT NULL,
    timestamp_note TEXT,
    mime TEXT,
    ext_mismatch INTEGER NOT NULL,
    md5 TEXT,
    sha1 TEXT,
    sha256 TEXT,
    pdq TEXT,
    pdq_quality INTEGER,
    width INTEGER,
    height INTEGER,
    exif_make TEXT,
    exif_model TEXT,
    exif_software TEXT,
    exif_datetime TEXT,
    exif_offset TEXT,
    gps_lat REAL,
    gps_lon REAL,
    link_target TEXT,
    archive_format TEXT,
    known_good INTEGER NOT NULL DEFAULT 0,
    deleted INTEGER NOT NULL DEFAULT 0,
    device_path TEXT,
    created TEXT,
    carved INTEGER NOT NULL DEFAULT 0,
    carved_offset INTEGER,
    inode INTEGER,
    PRIMARY KEY (source_id, path)
) WITHOUT ROWID;
CREATE INDEX files_sha256 ON files (sha256);

CREATE TABLE image_hashes (
    source_id INTEGER NOT NULL,
    algorithm TEXT NOT NULL,
    stored TEXT,
    computed TEXT,
    result TEXT NOT NULL,
    PRIMARY KEY (source_id, algorithm)
) WITHOUT ROWID;

CREATE TABLE nested_images (
    source_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    format TEXT NOT NULL,
    verification TEXT NOT NULL,
    hashes TEXT NOT NULL,
    details TEXT,
    PRIMARY KEY (source_id, path)
) WITHOUT ROWID;

CREATE TABLE videos (
    source_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    container TEXT,
    codec TEXT,
    duration REAL,
    frame_rate REAL,
    created TEXT,
    location TEXT,
    frames_hashed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, path),
    FOREIGN KEY (source_id, path) REFERENCES files (source_id, path)
) WITHOUT ROWID;

CREATE TABLE video_frames (
    source_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    frame INTEGER NOT NULL,
    seconds REAL NOT NULL,
    quality INTEGER NOT NULL,
    pdq TEXT,
    PRIMARY KEY (source_id, path, frame)
) WITHOUT ROWID;

CREATE TABLE matches (
    source_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    bank TEXT NOT NULL,
    bank_kind TEXT NOT NULL,
    kind TEXT NOT NULL,
    distance INTEGER NOT NULL,
    entry_line INTEGER NOT NULL,
    entry_hash TEXT NOT NULL,
    category INTEGER,
    series TEXT,
    note TEXT,
    frame_times TEXT,
    query_percent REAL,
    compared_percent REAL,
    PRIMARY KEY (source_id, path, bank, kind, entry_hash, entry_line),
    FOREIGN KEY (source_id, path) REFERENCES files (source_id, path)
) WITHOUT ROWID;

CREATE TABLE errors (
    source_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    code TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (source_id, path, code)
) WITHOUT ROWID;

CREATE TABLE pdq_clusters (
    cluster INTEGER NOT NULL,
    source_id INTEGER NOT NULL,
    path TEXT NOT NULL,
    PRIMARY KEY (source_id, path)
) WITHOUT ROWID;

CREATE TABLE custody (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    detail TEXT NOT NULL
);

CREATE VIEW duplicate_groups AS
    SELECT sha256, COUNT(*) AS copies, MIN(size) AS size
    FROM files
    WHERE sha256 IS NOT NULL AND size > 0
    GROUP BY sha256
    HAVING COUNT(*) > 1;
"""

FILE_COLUMNS = (
    "source_id", "path", "parent", "depth", "kind", "size", "path_raw", "mtime", "atime",
    "ctime", "time_zone", "timestamps_reliable", "timestamp_note", "mime", "ext_mismatch", "md5",
    "sha1", "sha256", "pdq", "pdq_quality", "width", "height", "exif_make", "exif_model",
    "exif_software", "exif_datetime", "exif_offset", "gps_lat", "gps_lon", "link_target",
    "archive_format", "known_good", "deleted", "device_path", "created", "carved",
    "carved_offset", "inode",
)  # fmt: skip

# Columns and tables added after schema version 1 first shipped, without raising the version:
# they have defaults, old readers ignore them, and `ScanWriter.resume` adds them to an older
# scan file so that it can be continued.
ADDED_COLUMNS = (
    ("sources", "details", "TEXT"),
    ("files", "deleted", "INTEGER NOT NULL DEFAULT 0"),
    ("files", "device_path", "TEXT"),
    ("files", "created", "TEXT"),
    ("matches", "frame_times", "TEXT"),
    ("matches", "query_percent", "REAL"),
    ("matches", "compared_percent", "REAL"),
    ("sources", "verification", "TEXT"),
    ("files", "carved", "INTEGER NOT NULL DEFAULT 0"),
    ("files", "carved_offset", "INTEGER"),
    ("files", "inode", "INTEGER"),
    ("nested_images", "details", "TEXT"),
)
ADDED_TABLES = ("videos", "video_frames", "image_hashes", "nested_images")

MATCH_COLUMNS = (
    "source_id", "path", "bank", "bank_kind", "kind", "distance", "entry_line", "entry_hash",
    "category", "series", "note", "frame_times", "query_percent", "compared_percent",
)  # fmt: skip

# Tables whose rows are the scan's findings; equal across reruns of the same scan.
RECORD_TABLES = (
    "files", "matches", "errors", "pdq_clusters", "sources", "banks", "videos", "video_frames",
    "image_hashes", "nested_images",
)  # fmt: skip


# What an image or extraction opened from inside an archive learned (`nested_images.details`):
# at most this many bytes of JSON; past it, only the device's fields and the format are kept.
NESTED_DETAILS_BYTES = 100_000
_DEVICE_KEYS = (
    "format", "make", "model", "device_name", "imei", "meid", "serial", "phone_number",
    "extraction_type", "ios_version", "report",
)  # fmt: skip


def nested_details_json(details: dict[str, Any] | None) -> str | None:
    if not details:
        return None
    text = json.dumps(details, sort_keys=True, default=str)
    if len(text.encode()) <= NESTED_DETAILS_BYTES:
        return text
    kept = {k: str(details[k])[:1000] for k in _DEVICE_KEYS if details.get(k) is not None}
    return json.dumps({**kept, "truncated": True}, sort_keys=True)


# Why a scan file cannot be created, opened or read: a stable code and its English sentence
# (Python format fields name its values; `path` is the file's, said by the command line and the
# logs only). The server says the same reason in the reader's language from the code and the
# values (`muhafiz.evidence.reasons`): codes and the names of their values are a contract, never
# renamed; a new reason gets a new code (a test on the server fails until it has its Urdu).
REASONS: dict[str, str] = {
    "exists": "{path} already exists; use --resume to continue it",
    "cannot_create": "{path}: cannot create the scan file: {detail}",
    "missing": "{path}: no such scan file",
    "unreadable": "{path}: not a readable scan file ({detail})",
    "not_scan_file": "{path}: not a Muhafiz scan file",
    "not_scan_file_because": "{path}: not a Muhafiz scan file ({detail})",
    "schema_not_text": "{path}: not a Muhafiz scan file (its schema is not text)",
    "no_tables": "{path}: not a Muhafiz scan file (it has none of its tables)",
    "schema_version": (
        "{path}: scan-file schema version {version} is not supported "
        "(this tool reads version {supported})"
    ),
    "too_slow": "{path}: reading the scan file took longer than {seconds} seconds",
    "foreign_object": (
        "{path}: holds a {kind} {name!r} that is not part of the scan-file schema; "
        "it is refused unread"
    ),
    "wrong_kind": (
        "{path}: {name!r} is a {kind}, not a {expected} as in the scan-file schema; "
        "it is refused unread"
    ),
    "defined_differently": (
        "{path}: {kind} {name!r} is defined differently from the scan-file schema; "
        "it is refused unread"
    ),
    "schema_missing": "{path}: the scan-file schema's {listed} is missing",
    "other_columns": (
        "{path}: table {table!r} has other columns than the scan-file schema ({parts})"
    ),
    "column_declared": (
        "{path}: table {table!r}, column {column!r} is declared differently from the "
        "scan-file schema (type, key or a generated column)"
    ),
    "damaged": "{path}: the scan file is damaged ({detail})",
    # `what` is `ColumnRule.describe()`; the rule's parts are values too (`ColumnRule.params`).
    "bad_values": "{path}: table {table!r}, column {column!r}: {count} value(s) are not {what}",
}


class ScanFileError(Exception):
    """The scan file cannot be created, opened or resumed: `code` (a key of `REASONS`, or empty
    for a reason given as plain text) and its values (`params`, never the path, which is
    `path`) say why; the message is the English sentence."""

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        params: dict[str, str | int] | None = None,
        path: Path | str = "",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.params: dict[str, str | int] = dict(params or {})
        self.path = str(path)

    @classmethod
    def of(cls, code: str, path: Path | str, **params: str | int) -> ScanFileError:
        """The reason `code` for the file at `path`, its sentence filled with `params`."""
        return cls(REASONS[code].format(path=path, **params), code=code, params=params, path=path)

    def shown(self) -> dict[str, str]:
        """Each value of the sentence as the English shows it (`{name!r}` quoted)."""
        template = REASONS.get(self.code, "")
        return {
            name: repr(self.params[name]) if conversion == "r" else str(self.params[name])
            for _, name, _, conversion in Formatter().parse(template)
            if name and name in self.params
        }


@dataclass(frozen=True, slots=True)
class MatchRow:
    source_id: int
    path: str
    bank: str
    bank_kind: str
    kind: str
    distance: int
    entry_line: int
    entry_hash: str
    category: int | None
    series: str | None
    note: str | None
    # Video matches: the query video's matching time stamps (seconds, comma-separated) and, for
    # a whole-video (vPDQ) match, the share of matching frames on each side.
    frame_times: str | None = None
    query_percent: float | None = None
    compared_percent: float | None = None


@dataclass(frozen=True, slots=True)
class SourceRow:
    source_id: int
    argument: str
    kind: str
    description: str


@dataclass(frozen=True, slots=True)
class BankRow:
    name: str
    kind: str
    path: str
    format: str
    sha256: str
    entries: int


def now_utc() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _actor(examiner: str | None) -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        user = "unknown"
    return f"{examiner} (OS user {user})" if examiner else f"OS user {user}"


class DoneUnits(AbstractSet[tuple[int, str]]):
    """The (source_id, path) of top-level files already recorded, asked of the scan file one
    at a time: a resumed scan of millions of files does not hold them all in memory."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __contains__(self, item: object) -> bool:
        if not isinstance(item, tuple) or len(item) != 2:
            return False
        found = self._conn.execute(
            "SELECT 1 FROM files WHERE source_id = ? AND path = ? AND parent IS NULL", item
        ).fetchone()
        return found is not None

    def __len__(self) -> int:
        row = self._conn.execute("SELECT COUNT(*) FROM files WHERE parent IS NULL").fetchone()
        return int(row[0])

    def __iter__(self) -> Iterator[tuple[int, str]]:
        rows = self._conn.execute("SELECT source_id, path FROM files WHERE parent IS NULL")
        return ((int(s), str(p)) for s, p in rows.fetchall())


class ScanWriter:
    """Writes a scan file. Open with `create` or `resume`; call `close` when done."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.examiner = self.meta().get("examiner") or None

    @classmethod
    def create(
        cls,
        path: Path,
        *,
        meta: dict[str, str],
        sources: Sequence[SourceRow],
        banks: Sequence[BankRow],
    ) -> ScanWriter:
        if path.exists():
            raise ScanFileError.of("exists", path)
        try:
            conn = sqlite3.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise ScanFileError.of("cannot_create", path, detail=str(exc)) from exc
        _tune(conn)
        conn.executescript(SCHEMA)
        with _Transaction(conn):
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [
                    ("format", FORMAT_NAME),
                    ("schema_version", str(SCHEMA_VERSION)),
                    ("status", "running"),
                    *sorted(meta.items()),
                ],
            )
            conn.executemany(
                "INSERT INTO sources (source_id, argument, kind, description) VALUES (?, ?, ?, ?)",
                [(s.source_id, s.argument, s.kind, s.description) for s in sources],
            )
            conn.executemany(
                "INSERT INTO banks VALUES (?, ?, ?, ?, ?, ?)",
                [(b.name, b.kind, b.path, b.format, b.sha256, b.entries) for b in banks],
            )
        return cls(path, conn)

    @classmethod
    def resume(cls, path: Path) -> ScanWriter:
        if not path.is_file():
            raise ScanFileError.of("missing", path)
        conn = sqlite3.connect(path, isolation_level=None)
        _tune(conn)
        check_schema(conn, path)
        check_format(conn, path)
        _add_missing(conn)
        return cls(path, conn)

    def meta(self) -> dict[str, str]:
        return dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def sources(self) -> list[SourceRow]:
        rows = self.conn.execute(
            "SELECT source_id, argument, kind, description FROM sources ORDER BY source_id"
        )
        return [SourceRow(*row) for row in rows]

    def banks(self) -> list[BankRow]:
        return [BankRow(*row) for row in self.conn.execute("SELECT * FROM banks ORDER BY name")]

    def set_source_details(self, source_id: int, details: dict[str, Any]) -> None:
        """What a source learned about itself while listing (a phone's make, model, IMEI)."""
        self.conn.execute(
            "UPDATE sources SET details = ? WHERE source_id = ?",
            (json.dumps(details, sort_keys=True, ensure_ascii=False), source_id),
        )

    def set_image_verification(
        self, source_id: int, verdict: str, rows: Sequence[tuple[str, str | None, str | None, str]]
    ) -> None:
        """The acquisition-hash check of a disk image: `verdict` (match, mismatch, none-stored,
        not-verified) and one (algorithm, stored, computed, result) row per stored hash."""
        self.conn.execute("DELETE FROM image_hashes WHERE source_id = ?", (source_id,))
        self.conn.executemany(
            "INSERT INTO image_hashes VALUES (?, ?, ?, ?, ?)",
            [(source_id, *row) for row in rows],
        )
        self.conn.execute(
            "UPDATE sources SET verification = ? WHERE source_id = ?", (verdict, source_id)
        )

    def set_nested_image(
        self,
        source_id: int,
        path: str,
        format_name: str,
        verdict: str,
        rows: Sequence[tuple[str, str | None, str | None, str]],
        *,
        details: dict[str, Any] | None = None,
    ) -> None:
        """A disk image found inside a folder source (at `path`) and its acquisition-hash check:
        `verdict` as for a source, rows (algorithm, stored, computed, result) as JSON; or a disk
        image or phone extraction opened from inside an archive, with what its walk learned
        (`details`: its device for a phone extraction, whose `verdict` is '')."""
        self.conn.execute(
            "INSERT OR REPLACE INTO nested_images"
            " (source_id, path, format, verification, hashes, details) VALUES (?, ?, ?, ?, ?, ?)",
            (
                source_id,
                path,
                format_name,
                verdict,
                json.dumps([list(r) for r in rows]),
                nested_details_json(details),
            ),
        )

    def log(self, action: str, detail: str = "") -> None:
        self.conn.execute(
            "INSERT INTO custody (at, actor, action, detail) VALUES (?, ?, ?, ?)",
            (now_utc(), _actor(self.examiner), action, detail),
        )

    def done_units(self) -> DoneUnits:
        """Top-level files already recorded: a resumed scan skips them."""
        return DoneUnits(self.conn)

    def begin(self) -> None:
        self.conn.execute("BEGIN")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def write_records(self, records: Iterable[FileRecord], matches: Iterable[MatchRow]) -> None:
        """Insert records (replacing any earlier copy of the same path) and their matches."""
        rows = []
        issues: list[Issue] = []
        videos: list[FileRecord] = []
        for r in records:
            rows.append(
                (
                    r.source_id, r.path, r.parent, r.depth, r.kind, r.size, r.path_raw, r.mtime,
                    r.atime, r.ctime, r.time_zone, int(r.timestamps_reliable), r.timestamp_note,
                    r.mime, int(r.ext_mismatch), r.md5, r.sha1, r.sha256, r.pdq, r.pdq_quality,
                    r.width, r.height, r.exif_make, r.exif_model, r.exif_software,
                    r.exif_datetime, r.exif_offset, r.gps_lat, r.gps_lon, r.link_target,
                    r.archive_format, 0, int(r.deleted), r.device_path, r.created,
                    int(r.carved), r.carved_offset, r.inode,
                )
            )  # fmt: skip
            issues.extend(r.issues)
            if r.video is not None:
                videos.append(r)
            if r.nested_image is not None:  # a disk image opened from inside an archive
                fmt, verdict, hashes, details = r.nested_image
                self.set_nested_image(r.source_id, r.path, fmt, verdict, hashes, details=details)
        placeholders = ", ".join("?" * len(FILE_COLUMNS))
        self.conn.executemany(
            f"INSERT OR REPLACE INTO files ({', '.join(FILE_COLUMNS)}) VALUES ({placeholders})",  # noqa: S608 - fixed column names
            rows,
        )
        self.write_issues(issues)
        self._write_videos(videos)
        match_rows = [
            (
                m.source_id, m.path, m.bank, m.bank_kind, m.kind, m.distance, m.entry_line,
                m.entry_hash, m.category, m.series, m.note, m.frame_times, m.query_percent,
                m.compared_percent,
            )
            for m in matches
        ]  # fmt: skip
        self.conn.executemany(
            f"INSERT OR REPLACE INTO matches ({', '.join(MATCH_COLUMNS)})"  # noqa: S608 - fixed
            f" VALUES ({', '.join('?' * len(MATCH_COLUMNS))})",
            match_rows,
        )
        self.conn.executemany(
            "UPDATE files SET known_good = 1 WHERE source_id = ? AND path = ?",
            sorted({(m.source_id, m.path) for m in matches if m.bank_kind == "known-good"}),
        )

    def _write_videos(self, records: list[FileRecord]) -> None:
        for r in records:
            video = r.video
            assert video is not None
            key = (r.source_id, r.path)
            self.conn.execute("DELETE FROM video_frames WHERE source_id = ? AND path = ?", key)
            self.conn.execute(
                "INSERT OR REPLACE INTO videos VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    *key, video.container, video.codec, video.duration, video.frame_rate,
                    video.created, video.location, len(video.frames),
                ),
            )  # fmt: skip
            self.conn.executemany(
                "INSERT OR REPLACE INTO video_frames VALUES (?, ?, ?, ?, ?, ?)",
                [(*key, f.frame, f.seconds, f.quality, f.pdq) for f in video.frames],
            )

    def write_issues(self, issues: Iterable[Issue]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO errors VALUES (?, ?, ?, ?, ?)",
            [(i.source_id, i.path, i.code.value, i.severity.value, i.message) for i in issues],
        )

    def finish(self, cluster_distance: int, min_quality: int) -> None:
        """Derive the whole-scan results (clusters, source hashes) and mark the scan complete."""
        with _Transaction(self.conn):
            self.conn.execute("DELETE FROM pdq_clusters")
            rows = self.conn.execute(
                "SELECT source_id, path, pdq FROM files WHERE pdq IS NOT NULL AND pdq_quality >= ?"
                " ORDER BY source_id, path",
                (min_quality,),
            ).fetchall()
            clusters = pdq_clusters([row[2] for row in rows], cluster_distance)
            self.conn.executemany(
                "INSERT INTO pdq_clusters VALUES (?, ?, ?)",
                [
                    (number, rows[i][0], rows[i][1])
                    for number, members in enumerate(clusters, start=1)
                    for i in members
                ],
            )
            self.conn.execute(
                "UPDATE sources SET"
                " size = (SELECT size FROM files f WHERE f.source_id = sources.source_id"
                "         AND f.parent IS NULL),"
                " sha256 = (SELECT sha256 FROM files f WHERE f.source_id = sources.source_id"
                "           AND f.parent IS NULL)"
                " WHERE kind = 'file'"
            )
            self.set_meta("status", "complete")
            self.set_meta("finished_at", now_utc())

    def close(self) -> None:
        # Back to a single self-contained file: no -wal or -shm beside it.
        try:
            self.conn.execute("PRAGMA journal_mode = DELETE")
        except sqlite3.OperationalError:
            pass  # a reader holds the file open; the WAL stays valid and is merged on next open
        finally:
            self.conn.close()


def pdq_clusters(hexes: Sequence[str], max_distance: int) -> list[list[int]]:
    """Groups (of 2 or more) of hashes linked by distance <= max_distance, as index lists.

    Single linkage (union-find). Copies of one picture share a hash and are one node; the
    distinct hashes are joined with themselves through the banks' exact PDQ index (multi-index
    hashing, docs/decisions/0101), not by comparing every pair: 200,000 pictures would be 2·10¹⁰
    comparisons. Clusters are ordered by their first member, members ascending, so numbering is
    deterministic.
    """
    n = len(hexes)
    if n < 2:
        return []
    unique, inverse = np.unique(hex_to_words(list(hexes)), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    parent = list(range(unique.shape[0]))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in _near_pairs(unique, max_distance):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i, node in enumerate(inverse.tolist()):
        groups.setdefault(find(node), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


# Below this many distinct hashes a vectorised comparison of every pair is as quick as an index.
CLUSTER_INDEX_FROM = 4096
CLUSTER_QUERY_BLOCK = 8192


def _near_pairs(words: npt.NDArray[np.uint64], max_distance: int) -> Iterator[tuple[int, int]]:
    """Every pair (a < b) of rows of `words` within `max_distance` of each other."""
    m = words.shape[0]
    layout: MihLayout | None = None
    if m >= CLUSTER_INDEX_FROM:
        try:
            layout = MihLayout.for_size(m, max_distance)
        except ValueError:  # a distance under ~10 bits leaves too few chunks: compare all pairs
            layout = None
    if layout is None:
        for i in range(m - 1):
            distances = popcount_rows(words[i + 1 :] ^ words[i])
            for j in np.flatnonzero(distances <= max_distance).tolist():
                yield i, i + 1 + j
        return
    index = PdqIndex.build(words, layout=layout)
    for start in range(0, m, CLUSTER_QUERY_BLOCK):
        found, rows, _ = index.search(words[start : start + CLUSTER_QUERY_BLOCK], max_distance)
        queries = found + start  # positions in the block, as rows of `words`
        later = rows > queries
        yield from zip(queries[later].tolist(), rows[later].tolist(), strict=True)


def open_readonly(
    path: Path, *, verify: bool = False, seconds: float | None = None, immutable: bool = False
) -> sqlite3.Connection:
    """Open a scan file for reading without changing a byte of it, as a file anyone may have made.

    Before anything is read, the file's schema must be exactly the one this tool writes (no
    views, triggers, indexes or virtual tables of its own, no missing or extra columns), so no
    SQL of the file's author ever runs; the connection refuses to run functions from the schema,
    to load extensions and to produce values longer than `MAX_VALUE_BYTES`.

    `verify` also runs `PRAGMA integrity_check` and checks every stored value against the
    scan-file schema (`check_values`): what an import must do before it trusts any row.
    `seconds` bounds the time every statement on the connection may take together (verification
    gets `verify_seconds(path)` of its own); past it, statements fail with ScanFileError's
    "took longer" reason when run through this module, or `sqlite3.OperationalError` otherwise.
    `immutable` is for a copy nobody writes (a server's stored upload): no locks, no WAL.
    """
    if not path.is_file():
        raise ScanFileError.of("missing", path)
    query = "mode=ro&immutable=1" if immutable else "mode=ro"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True)
    except sqlite3.Error as exc:
        raise ScanFileError.of("unreadable", path, detail=str(exc)) from exc
    try:
        _defend(conn)
        budget = TimeBudget(verify_seconds(path) if verify else seconds)
        conn.set_progress_handler(budget.expired, PROGRESS_STEPS)
        with budget.reason(path):
            check_schema(conn, path)
            check_format(conn, path)
            if verify:
                check_integrity(conn, path)
                check_values(conn, path)
        budget.reset(seconds)
        if seconds is None:
            conn.set_progress_handler(None, 0)
    except ScanFileError:
        conn.close()
        raise
    except sqlite3.Error as exc:
        conn.close()
        raise ScanFileError.of("unreadable", path, detail=str(exc)) from exc
    conn.row_factory = sqlite3.Row
    return conn


def check_format(conn: sqlite3.Connection, path: Path) -> None:
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as exc:
        if _interrupted(exc):
            raise
        raise ScanFileError.of("not_scan_file_because", path, detail=str(exc)) from exc
    if meta.get("format") != FORMAT_NAME:
        raise ScanFileError.of("not_scan_file", path)
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        raise ScanFileError.of(
            "schema_version",
            path,
            version=str(meta.get("schema_version")),
            supported=SCHEMA_VERSION,
        )


# --- reading a scan file someone else made ------------------------------------------------------

# The longest value (text or blob) a scan file may hold; SQLite refuses to produce a longer one.
MAX_VALUE_BYTES = untrusted_sqlite.MAX_VALUE_BYTES
# SQLite calls the time check every this many virtual-machine steps (about a millisecond).
PROGRESS_STEPS = 20_000


def verify_seconds(path: Path) -> float:
    """Time allowed for checking a scan file: generous for its size, never unbounded.

    Checking reads the file a few times over at well over 50 MB/s on a field laptop."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return 30.0 + size / (1 << 20)


class TimeBudget:
    """A deadline for the statements of one connection, enforced by SQLite's progress handler."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.deadline: float | None = None
        self.reset(seconds)

    def reset(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def expired(self) -> int:
        return int(self.deadline is not None and time.monotonic() > self.deadline)

    @contextmanager
    def reason(self, path: Path) -> Iterator[None]:
        """Turn SQLite's "interrupted" into the reason: the file took too long to read."""
        try:
            yield
        except sqlite3.OperationalError as exc:
            if self.expired():
                raise ScanFileError.of("too_slow", path, seconds=f"{self.seconds:.0f}") from exc
            raise


def _interrupted(exc: sqlite3.Error) -> bool:
    """Whether SQLite stopped because the progress handler said the time was up."""
    return isinstance(exc, sqlite3.OperationalError) and "interrupt" in str(exc)


def _defend(conn: sqlite3.Connection) -> None:
    """SQLite's advice for database files from an untrusted source (`muhafiz.untrusted`)."""
    untrusted_sqlite.harden(conn, max_value_bytes=MAX_VALUE_BYTES)
    # Text that is not UTF-8 reads as replacement characters instead of failing mid-import.
    conn.text_factory = _text


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


_normalise_sql = untrusted_sqlite.normalise_sql


@functools.cache
def expected_schema() -> dict[str, tuple[str, str, str]]:
    """name -> (type, table, normalised SQL) of every schema object a scan file has."""
    with closing(sqlite3.connect(":memory:")) as conn:
        conn.executescript(SCHEMA)
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_schema").fetchall()
    return {name: (kind, table, _normalise_sql(sql)) for kind, name, table, sql in rows}


def check_schema(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse any schema object that is not one of the scan-file schema's.

    Only `sqlite_schema` and the tables' column lists are read here, which runs none of the
    file's SQL. A table must have the schema's columns with their types and keys (an older file
    may lack the additive ones, `ADDED_COLUMNS` and `ADDED_TABLES`); a view or index must be
    exactly the schema's; a view, trigger, index or (virtual) table of the file's own is refused
    by name, since reading one could run anything.
    """
    try:
        found = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_schema").fetchall()
    except UnicodeDecodeError as exc:  # a damaged schema row whose text is not UTF-8
        raise ScanFileError.of("schema_not_text", path) from exc
    except sqlite3.DatabaseError as exc:
        if _interrupted(exc):
            raise
        raise ScanFileError.of("not_scan_file_because", path, detail=str(exc)) from exc
    expected = expected_schema()
    seen: set[str] = set()
    for raw_kind, raw_name, table, sql in found:
        name, kind = str(raw_name), str(raw_kind)
        if name.startswith("sqlite_autoindex_") and kind == "index" and sql is None:
            continue  # the index SQLite keeps for a primary key or UNIQUE column
        want = expected.get(name)
        virtual = _normalise_sql(sql).upper().startswith("CREATE VIRTUAL")
        if want is None or virtual:
            what = "virtual table" if virtual else kind
            raise ScanFileError.of("foreign_object", path, kind=what, name=name)
        if kind != want[0]:
            raise ScanFileError.of("wrong_kind", path, name=name, kind=kind, expected=want[0])
        if kind == "table":
            _check_columns(conn, name, path)
        elif (str(table), _normalise_sql(sql)) != want[1:]:
            raise ScanFileError.of("defined_differently", path, kind=kind, name=name)
        seen.add(name)
    missing = sorted(set(expected) - seen - set(ADDED_TABLES))
    if missing:
        tables = [m for m in missing if expected[m][0] == "table"]
        if tables and len(tables) == sum(1 for v in expected.values() if v[0] == "table"):
            raise ScanFileError.of("no_tables", path)
        listed = ", ".join(f"{expected[m][0]} {m!r}" for m in missing)
        raise ScanFileError.of("schema_missing", path, listed=listed)


@functools.cache
def expected_columns(table: str) -> dict[str, tuple[str, int]]:
    """column -> (declared type, position in the primary key) of a scan-file table."""
    with closing(sqlite3.connect(":memory:")) as reference:
        reference.executescript(SCHEMA)
        return {name: (kind, pk) for name, kind, pk, _ in _columns_of(reference, table)}


def _check_columns(conn: sqlite3.Connection, table: str, path: Path) -> None:
    expected = expected_columns(table)
    added = {column for t, column, _ in ADDED_COLUMNS if t == table}
    found = _columns_of(conn, table)
    names = {name for name, *_ in found}
    missing = [c for c in expected if c not in names and c not in added]
    extra = [name for name, *_ in found if name not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(extra))
        raise ScanFileError.of(
            "other_columns",
            path,
            table=table,
            parts="; ".join(parts),
            missing=", ".join(missing),
            unexpected=", ".join(extra),
        )
    for name, kind, pk, hidden in found:
        if hidden or (kind.upper(), pk) != (expected[name][0].upper(), expected[name][1]):
            raise ScanFileError.of("column_declared", path, table=table, column=name)


def _columns_of(conn: sqlite3.Connection, table: str) -> list[tuple[str, str, int, int]]:
    """(name, declared type, primary-key position, hidden) of each column of a plain table."""
    return [
        (c.name, c.declared, c.primary_key, c.hidden) for c in untrusted_sqlite.columns(conn, table)
    ]


def check_integrity(conn: sqlite3.Connection, path: Path) -> None:
    """`PRAGMA integrity_check`: a damaged page is refused, never imported as a complete scan."""
    try:
        problems = [str(row[0]) for row in conn.execute("PRAGMA integrity_check(20)")]
    except sqlite3.DatabaseError as exc:
        if _interrupted(exc):
            raise
        raise ScanFileError.of("damaged", path, detail=str(exc)) from exc
    problems = [p for p in problems if p != "ok" and not _checked_by_value_rules(p)]
    if problems:
        raise ScanFileError.of("damaged", path, detail=problems[0])


_NULL_PROBLEM = re.compile(r"^NULL value in (\w+)\.(\w+)$")


def _checked_by_value_rules(problem: str) -> bool:
    """SQLite before 3.41 reports "NULL value in T.C" falsely for a WITHOUT ROWID table whose
    NOT NULL column C comes before a primary-key column (`matches.bank_kind`,
    `pdq_clusters.cluster`): every scan file with a match or a cluster would be refused.
    `check_values` refuses a real NULL in any such column itself, so this report is left to it."""
    match = _NULL_PROBLEM.match(problem)
    if match is None:
        return False
    rules = {rule.column: rule for rule in VALUE_RULES.get(match[1], ())}
    rule = rules.get(match[2])
    return rule is not None and not rule.nullable


@dataclass(frozen=True, slots=True)
class ColumnRule:
    """What one column may hold: its SQLite storage class, nullability, bounds or pattern."""

    column: str
    kind: str  # "int", "real", "text", "hex" or "blob"
    nullable: bool = False
    low: float | None = None
    high: float | None = None
    length: int = MAX_VALUE_BYTES  # text characters, hex digits (exact) or blob bytes

    def bad_sql(self) -> str:
        """An SQL condition true for a value this rule refuses (column names are fixed)."""
        c = self.column
        if self.kind == "int":
            ok = f"typeof({c}) = 'integer'"
        elif self.kind == "real":
            ok = f"typeof({c}) IN ('integer', 'real')"
        elif self.kind == "blob":
            ok = f"typeof({c}) = 'blob' AND length({c}) <= {self.length}"
        else:
            ok = f"typeof({c}) = 'text' AND instr(CAST({c} AS BLOB), x'00') = 0"
            if self.kind == "hex":
                ok += f" AND length({c}) = {self.length} AND {c} NOT GLOB '*[^0-9a-f]*'"
            else:
                ok += f" AND length(CAST({c} AS BLOB)) <= {self.length}"
        if self.low is not None:
            ok += f" AND {c} >= {self.low!r}"
        if self.high is not None:
            ok += f" AND {c} <= {self.high!r}"
        if self.nullable:
            ok = f"{c} IS NULL OR ({ok})"
        return f"NOT ({ok})"

    def params(self) -> dict[str, str | int]:
        """The parts of `describe()`, as a refusal's values: the server words them itself."""
        return {
            "rule": self.kind,
            "length": self.length,
            "low": "" if self.low is None else f"{self.low:g}",
            "high": "" if self.high is None else f"{self.high:g}",
            "nullable": int(self.nullable),
        }

    def describe(self) -> str:
        what = {
            "int": "whole numbers",
            "real": "numbers",
            "text": f"text of at most {self.length} bytes without NUL characters",
            "hex": f"{self.length} lowercase hexadecimal digits",
            "blob": f"binary values of at most {self.length} bytes",
        }[self.kind]
        if self.low is not None and self.high is not None:
            what += f" from {self.low:g} to {self.high:g}"
        elif self.low is not None:
            what += f" of at least {self.low:g}"
        return what + (" or empty (NULL)" if self.nullable else "")


_INT32 = 2**31 - 1


def _id(column: str, *, nullable: bool = False) -> ColumnRule:
    return ColumnRule(column, "int", nullable=nullable, low=0, high=_INT32)


def _flag(column: str) -> ColumnRule:
    return ColumnRule(column, "int", low=0, high=1)


def _short(column: str, *, nullable: bool = False) -> ColumnRule:
    return ColumnRule(column, "text", nullable=nullable, length=200)


def _path(column: str, *, nullable: bool = False) -> ColumnRule:
    return ColumnRule(column, "text", nullable=nullable, length=32_768)


VALUE_RULES: dict[str, tuple[ColumnRule, ...]] = {
    "meta": (_short("key"), ColumnRule("value", "text")),
    "sources": (
        _id("source_id"),
        _path("argument"),
        _short("kind"),
        ColumnRule("description", "text", length=10_000),
        ColumnRule("size", "int", nullable=True, low=0),
        ColumnRule("sha256", "hex", nullable=True, length=64),
        ColumnRule("details", "text", nullable=True, length=100_000),
        _short("verification", nullable=True),
    ),
    "banks": (
        _short("name"),
        _short("kind"),
        _path("path"),
        _short("format"),
        ColumnRule("sha256", "hex", length=64),
        ColumnRule("entries", "int", low=0),
    ),
    "files": (
        _id("source_id"),
        _path("path"),
        _path("parent", nullable=True),
        ColumnRule("depth", "int", low=0, high=10_000),
        ColumnRule("kind", "text", length=20),
        ColumnRule("size", "int", nullable=True, low=0),
        ColumnRule("path_raw", "blob", nullable=True, length=32_768),
        *(
            ColumnRule(c, "text", nullable=True, length=1000)
            for c in ("mtime", "atime", "ctime", "time_zone", "timestamp_note", "mime")
        ),
        _flag("timestamps_reliable"),
        _flag("ext_mismatch"),
        ColumnRule("md5", "hex", nullable=True, length=32),
        ColumnRule("sha1", "hex", nullable=True, length=40),
        ColumnRule("sha256", "hex", nullable=True, length=64),
        ColumnRule("pdq", "hex", nullable=True, length=64),
        ColumnRule("pdq_quality", "int", nullable=True, low=0, high=100),
        _id("width", nullable=True),
        _id("height", nullable=True),
        *(
            ColumnRule(c, "text", nullable=True, length=1000)
            for c in ("exif_make", "exif_model", "exif_software", "exif_datetime", "exif_offset")
        ),
        ColumnRule("gps_lat", "real", nullable=True, low=-90.0, high=90.0),
        ColumnRule("gps_lon", "real", nullable=True, low=-180.0, high=180.0),
        _path("link_target", nullable=True),
        ColumnRule("archive_format", "text", nullable=True, length=20),
        _flag("known_good"),
        _flag("deleted"),
        _path("device_path", nullable=True),
        ColumnRule("created", "text", nullable=True, length=1000),
        _flag("carved"),
        ColumnRule("carved_offset", "int", nullable=True, low=0),
        ColumnRule("inode", "int", nullable=True, low=0),
    ),
    "matches": (
        _id("source_id"),
        _path("path"),
        _short("bank"),
        ColumnRule("bank_kind", "text", length=20),
        ColumnRule("kind", "text", length=10),
        ColumnRule("distance", "int", low=0, high=256),
        ColumnRule("entry_line", "int", low=0),
        ColumnRule("entry_hash", "text", length=1000),
        ColumnRule("category", "int", nullable=True, low=-32768, high=32767),
        _short("series", nullable=True),
        ColumnRule("note", "text", nullable=True, length=10_000),
        ColumnRule("frame_times", "text", nullable=True, length=100_000),
        ColumnRule("query_percent", "real", nullable=True, low=0.0, high=100.0),
        ColumnRule("compared_percent", "real", nullable=True, low=0.0, high=100.0),
    ),
    "errors": (
        _id("source_id"),
        _path("path"),
        ColumnRule("code", "text", length=40),
        ColumnRule("severity", "text", length=10),
        ColumnRule("message", "text", length=10_000),
    ),
    "nested_images": (
        _id("source_id"),
        _path("path"),
        _short("format"),
        _short("verification"),
        ColumnRule("hashes", "text", length=10_000),
        ColumnRule("details", "text", nullable=True, length=NESTED_DETAILS_BYTES),
    ),
    "pdq_clusters": (
        _id("cluster"),
        _id("source_id"),
        _path("path"),
    ),
    "custody": (
        ColumnRule("seq", "int", low=0),
        _short("at"),
        ColumnRule("actor", "text", length=1000),
        ColumnRule("action", "text", length=1000),
        ColumnRule("detail", "text", length=10_000),
    ),
}


@functools.cache
def expected_tables() -> tuple[str, ...]:
    return tuple(name for name, (kind, *_) in expected_schema().items() if kind == "table")


def _default_rule(table: str, column: str) -> ColumnRule:
    """A column with no rule of its own (added later): its declared type, any size up to the
    value limit, NULL unless declared NOT NULL."""
    declared, _ = expected_columns(table)[column]
    nullable = column not in _not_null(table)
    kind = {"INTEGER": "int", "REAL": "real", "BLOB": "blob"}.get(declared.upper(), "text")
    return ColumnRule(column, kind, nullable=nullable)


@functools.cache
def _not_null(table: str) -> frozenset[str]:
    with closing(sqlite3.connect(":memory:")) as reference:
        reference.executescript(SCHEMA)
        return frozenset(
            str(row[1]) for row in reference.execute(f"PRAGMA table_info({table})") if row[3]
        )


def check_values(conn: sqlite3.Connection, path: Path) -> None:
    """Every stored value has the storage class, size and form its column's rule allows.

    SQLite keeps whatever a file's author wrote (a text where a number belongs, a 30-digit
    "MD5", a NUL byte): each table is read once, in SQL, and the first column with bad values
    is named with how many there are.
    """
    tables = {
        str(row[0]) for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")
    }
    for table in expected_tables():
        all_rules = VALUE_RULES.get(table, ())
        if table not in tables:
            continue  # an additive table an older file lacks (check_schema allowed it)
        explicit = {rule.column: rule for rule in all_rules}
        rules = [
            explicit.get(name) or _default_rule(table, name)
            for name, *_ in _columns_of(conn, table)
        ]
        sums = ", ".join(f"SUM({rule.bad_sql()})" for rule in rules)
        counts = conn.execute(f"SELECT {sums} FROM {table}").fetchone()  # noqa: S608 - fixed names
        for rule, bad in zip(rules, counts, strict=True):
            if bad:
                raise ScanFileError.of(
                    "bad_values",
                    path,
                    table=table,
                    column=rule.column,
                    count=bad,
                    what=rule.describe(),
                    **rule.params(),
                )


def record_rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every findings row, sorted: what "the same records" means when comparing two scans."""
    with closing(open_readonly(path)) as conn:
        conn.row_factory = None
        return {
            table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)  # noqa: S608
            for table in RECORD_TABLES
        }


def settings_json(meta: dict[str, str]) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(meta.get("settings", "{}"))
    return value


def _add_missing(conn: sqlite3.Connection) -> None:
    """Bring a scan file written before the additive columns and tables up to date."""
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table, column, declaration in ADDED_COLUMNS:
        if table not in tables:
            continue  # an added table, made below with all its columns
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {declaration}")
    for statement in SCHEMA.split(";"):
        for table in ADDED_TABLES:
            if f"CREATE TABLE {table} (" in statement and table not in tables:
                conn.execute(statement)


def _tune(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")


class _Transaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN")

    def __exit__(self, exc_type: object, *_: object) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")


def iter_rows(
    conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()
) -> Iterator[sqlite3.Row]:
    yield from conn.execute(sql, params)
