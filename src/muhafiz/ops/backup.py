"""Backup and restore: one file holding a consistent database snapshot and the data directory.

The file is a tar archive::

    database/db.sqlite3 | database/db.pgdump   the snapshot (SQLite online backup, or
                                               pg_dump --format=custom)
    data/<path>                                the data directory's files (not the live
                                               database, not collected static files, not
                                               the match indexes: `rebuildable_indexes`)
    stored/<name>                              the file store's files when they are kept
                                               elsewhere than the data directory (an S3
                                               bucket, core.storage); restored into the
                                               configured store, whichever it is
    manifest.json                              written last: tool version, time, vendor,
                                               row counts per table and the audit chain head,
                                               all taken from the snapshot itself, and the
                                               SHA-256 of every other member

Restore checks every member against the manifest before it touches anything, refuses a data
directory or database that already holds data, then restores and verifies row counts and the
audit chain against the manifest. The archive holds victim identity in encrypted form and,
on a laptop installation, the key file that decrypts it: keep backups as safe as the server.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

FORMAT = "muhafiz-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DATABASE_PREFIX = "database/"
DATA_PREFIX = "data/"
STORED_PREFIX = "stored/"
CHUNK = 1024 * 1024
WORK_PREFIX = ".muhafiz-"  # staging directories of backups and restores in progress
# Present in a fresh data directory before any data exists (settings create it on start-up).
FRESH_INSTALL_FILES = frozenset({"secret_key"})


class BackupError(RuntimeError):
    """The backup or restore cannot go ahead; the message says why and what to do."""


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    tables: int = 0
    rows: int = 0
    files: int = 0
    audit_events: int = 0
    audit_head: str = ""
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# --- shared -----------------------------------------------------------------------------------


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _database_settings(using: str) -> dict[str, Any]:
    from django.db import connections

    return dict(connections[using].settings_dict)


def _vendor(using: str) -> str:
    from django.db import connections

    vendor = connections[using].vendor
    if vendor not in {"sqlite", "postgresql"}:
        raise BackupError(f"backups support SQLite and PostgreSQL, not {vendor}")
    return str(vendor)


def _sqlite_path(using: str) -> Path:
    return Path(str(_database_settings(using)["NAME"])).resolve()


def _pg_env(settings_dict: dict[str, Any], name: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    options = settings_dict.get("OPTIONS") or {}
    for variable, value in (
        ("PGHOST", settings_dict.get("HOST")),
        ("PGPORT", settings_dict.get("PORT")),
        ("PGUSER", settings_dict.get("USER")),
        ("PGPASSWORD", settings_dict.get("PASSWORD")),
        ("PGDATABASE", name or settings_dict.get("NAME")),
        ("PGSSLMODE", options.get("sslmode")),
    ):
        if value:
            env[variable] = str(value)
    return env


def _pg_conninfo(settings_dict: dict[str, Any]) -> str:
    from psycopg.conninfo import make_conninfo

    options = settings_dict.get("OPTIONS") or {}
    params = {
        "dbname": settings_dict.get("NAME"),
        "user": settings_dict.get("USER"),
        "password": settings_dict.get("PASSWORD"),
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
        "sslmode": options.get("sslmode"),
    }
    return make_conninfo(**{k: str(v) for k, v in params.items() if v})


def _excluded_paths(data_dir: Path, using: str, extra: list[Path]) -> set[Path]:
    from django.conf import settings

    excluded = {path.resolve() for path in extra}
    static_root = getattr(settings, "STATIC_ROOT", None)
    if static_root:
        excluded.add(Path(static_root).resolve())
    excluded.add((data_dir / "cache").resolve())  # copies fetched from the store (core.storage)
    excluded |= rebuildable_indexes()
    upload_temporaries = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None)
    if upload_temporaries:  # uploads in progress: half a file, never worth restoring
        excluded.add(Path(upload_temporaries).resolve())
    if _vendor(using) == "sqlite":
        database = _sqlite_path(using)
        for suffix in ("", "-wal", "-shm", "-journal"):
            excluded.add(database.with_name(database.name + suffix))
    return excluded


def rebuildable_indexes() -> set[Path]:
    """The match indexes, left out of backups: both are built from the database, as large as
    the banks and the case media, and rebuilt after a restore (the cross-case index by the next
    scan analysis, the bank index by `muhafiz bank rebuild-index`); until then matching and
    linking read the database, slower but complete."""
    from muhafiz.evidence.media_index import index_root as media_index_root
    from muhafiz.hashbank.index import index_root as bank_index_root

    return {bank_index_root().resolve(), media_index_root().resolve()}


def _data_files(data_dir: Path, excluded: set[Path]) -> Iterator[tuple[Path, str]]:
    """Regular files under the data directory (symbolic links are not followed)."""
    for root, directories, files in os.walk(data_dir):
        root_path = Path(root)
        directories[:] = sorted(
            d
            for d in directories
            if (root_path / d).resolve() not in excluded
            and not (root_path / d).is_symlink()
            and not d.startswith(WORK_PREFIX)
        )
        for name in sorted(files):
            path = root_path / name
            if path.is_symlink() or not path.is_file() or path.resolve() in excluded:
                continue
            if name.startswith(".") and name.endswith((".restoring", ".new")):
                continue  # a file half-written by a restore or a key change
            yield path, path.relative_to(data_dir).as_posix()


# --- backup -----------------------------------------------------------------------------------


@dataclass
class _Snapshot:
    member: str
    path: Path
    row_counts: dict[str, int]
    audit_head_sequence: int
    audit_head_hash: str


def _sqlite_tables(connection: sqlite3.Connection) -> list[str]:
    rows = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    counts = {}
    for table in _sqlite_tables(connection):
        quoted = '"' + table.replace('"', '""') + '"'
        counts[table] = int(connection.execute(f"SELECT COUNT(*) FROM {quoted}").fetchone()[0])  # noqa: S608 - quoted identifier
    return counts


def _sqlite_head(connection: sqlite3.Connection) -> tuple[int, str]:
    from muhafiz.audit.chain import GENESIS_HASH

    if "audit_auditevent" not in _sqlite_tables(connection):
        return 0, GENESIS_HASH
    row = connection.execute(
        "SELECT sequence, row_hash FROM audit_auditevent ORDER BY sequence DESC LIMIT 1"
    ).fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)


def _snapshot_sqlite(using: str, staging: Path) -> _Snapshot:
    source_path = _sqlite_path(using)
    if not source_path.exists():
        raise BackupError(f"the database file {source_path} does not exist")
    target = staging / "db.sqlite3"
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    copy = sqlite3.connect(target)
    try:
        source.backup(copy)  # SQLite's online backup: a consistent copy while others write
        copy.execute("PRAGMA journal_mode=DELETE")
        counts = _sqlite_counts(copy)
        head_sequence, head_hash = _sqlite_head(copy)
    finally:
        copy.close()
        source.close()
    return _Snapshot("database/db.sqlite3", target, counts, head_sequence, head_hash)


def _snapshot_postgresql(using: str, staging: Path) -> _Snapshot:
    import psycopg
    from psycopg import sql

    from muhafiz.audit.chain import GENESIS_HASH

    settings_dict = _database_settings(using)
    target = staging / "db.pgdump"
    if shutil.which("pg_dump") is None:
        raise BackupError("pg_dump is not installed (apt-get install postgresql-client)")
    with psycopg.connect(_pg_conninfo(settings_dict)) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        # One exported snapshot for pg_dump and for the counts: the manifest describes exactly
        # what the dump holds, whatever commits meanwhile.
        snapshot = connection.execute("SELECT pg_export_snapshot()").fetchone()
        assert snapshot is not None
        tables = [
            str(row[0])
            for row in connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "ORDER BY tablename"
            ).fetchall()
        ]
        counts: dict[str, int] = {}
        for table in tables:
            row = connection.execute(
                sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()
            counts[table] = int(row[0]) if row else 0
        head_sequence, head_hash = 0, GENESIS_HASH
        if "audit_auditevent" in counts:
            head = connection.execute(
                "SELECT sequence, row_hash FROM audit_auditevent ORDER BY sequence DESC LIMIT 1"
            ).fetchone()
            if head:
                head_sequence, head_hash = int(head[0]), str(head[1])
        result = subprocess.run(
            [
                "pg_dump",
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot[0]}",
                f"--file={target}",
            ],
            env=_pg_env(settings_dict),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    return _Snapshot("database/db.pgdump", target, counts, head_sequence, head_hash)


class _HashingReader:
    """Reads a file for tarfile while computing its SHA-256."""

    def __init__(self, handle: IO[bytes]) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add_file(archive: tarfile.TarFile, path: Path, name: str) -> dict[str, Any]:
    info = archive.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as handle:
        reader = _HashingReader(handle)
        archive.addfile(info, reader)
    return {"sha256": reader.digest.hexdigest(), "size": info.size}


def _add_stored_files(archive: tarfile.TarFile) -> dict[str, Any]:
    """The file store's files, when the store is not the data directory (already archived)."""
    from muhafiz.core.storage import LocalFileStore, file_store

    store = file_store()
    if isinstance(store, LocalFileStore):
        return {}
    members: dict[str, Any] = {}
    for stored in store.names():
        name = STORED_PREFIX + stored
        info = tarfile.TarInfo(name)
        info.size = store.size(stored)
        info.mode = 0o600
        info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
        with store.open(stored) as handle:
            reader = _HashingReader(handle)
            archive.addfile(info, reader)
        members[name] = {"sha256": reader.digest.hexdigest(), "size": info.size}
    return members


def _key_file() -> Path:
    from django.conf import settings

    return Path(settings.MUHAFIZ_FIELD_KEYS_PATH).resolve()


def create_backup(
    target: Path,
    *,
    data_dir: Path | None = None,
    using: str = "default",
    include_keys: bool = False,
) -> dict[str, Any]:
    """Write a backup file to `target` and return its manifest.

    A laptop installation's key file is left out unless `include_keys`: a stolen backup should
    not carry the key to its own encrypted data. The manifest names the keys' fingerprints.
    """
    from django.conf import settings
    from django.db import transaction

    import muhafiz
    from muhafiz.audit.actions import ObjectRef, record
    from muhafiz.core import crypto

    data_dir = Path(data_dir or settings.DATA_DIR).resolve()
    target = target.resolve()
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"the directory {target.parent} does not exist")
    vendor = _vendor(using)
    with transaction.atomic(using=using):
        record(None, "backup.create", ObjectRef("backup", target.name, target.name), using=using)
    try:
        ring_fingerprints = crypto.fingerprints()
    except crypto.FieldKeyError:
        ring_fingerprints = {}
    with tempfile.TemporaryDirectory(prefix=f"{WORK_PREFIX}backup-", dir=target.parent) as staging:
        staging_dir = Path(staging)
        snapshot = (
            _snapshot_sqlite(using, staging_dir)
            if vendor == "sqlite"
            else _snapshot_postgresql(using, staging_dir)
        )
        partial = staging_dir / "archive.tar"
        members: dict[str, Any] = {}
        excluded = _excluded_paths(
            data_dir, using, [target, staging_dir, *([] if include_keys else [_key_file()])]
        )
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as archive:
            members[snapshot.member] = _add_file(archive, snapshot.path, snapshot.member)
            for path, relative in _data_files(data_dir, excluded):
                name = DATA_PREFIX + relative
                members[name] = _add_file(archive, path, name)
            members.update(_add_stored_files(archive))
            manifest: dict[str, Any] = {
                "format": FORMAT,
                "format_version": FORMAT_VERSION,
                "tool": {"name": "muhafiz", "version": muhafiz.__version__},
                "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "database": {
                    "vendor": vendor,
                    "member": snapshot.member,
                    "row_counts": snapshot.row_counts,
                },
                "audit": {
                    "head_sequence": snapshot.audit_head_sequence,
                    "head_hash": snapshot.audit_head_hash,
                },
                "field_keys": ring_fingerprints,
                "field_keys_included": any(
                    (data_dir / name[len(DATA_PREFIX) :]).resolve() == _key_file()
                    for name in members
                ),
                "members": members,
            }
            body = json.dumps(manifest, indent=2, sort_keys=True).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(body)
            info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
            info.mode = 0o600
            archive.addfile(info, io.BytesIO(body))
        partial.chmod(0o600)
        partial.replace(target)
    return manifest


# --- restore ----------------------------------------------------------------------------------


def _safe_member_name(name: str) -> bool:
    path = PurePosixPath(name)
    return not path.is_absolute() and ".." not in path.parts and name == path.as_posix()


def read_manifest(source: Path) -> dict[str, Any]:
    """Open a backup and check every member against its manifest, touching nothing."""
    try:
        with tarfile.open(source, "r:*") as archive:
            members = {member.name: member for member in archive.getmembers()}
            if MANIFEST not in members:
                raise BackupError(f"{source} is not a Muhafiz backup (it has no manifest)")
            handle = archive.extractfile(members[MANIFEST])
            if handle is None:
                raise BackupError(f"{source}: the manifest is not a file")
            try:
                manifest: dict[str, Any] = json.loads(handle.read().decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise BackupError(f"{source}: the manifest is damaged") from None
            if manifest.get("format") != FORMAT:
                raise BackupError(f"{source} is not a Muhafiz backup")
            if manifest.get("format_version") != FORMAT_VERSION:
                raise BackupError(
                    f"{source} is backup format {manifest.get('format_version')}; this version "
                    f"of Muhafiz reads format {FORMAT_VERSION}"
                )
            listed: dict[str, Any] = manifest.get("members") or {}
            present = set(members) - {MANIFEST}
            if present != set(listed):
                missing = sorted(set(listed) - present)[:5]
                extra = sorted(present - set(listed))[:5]
                raise BackupError(
                    f"{source} does not match its manifest (missing: {missing}, "
                    f"unexpected: {extra})"
                )
            for name, expected in listed.items():
                member = members[name]
                if not member.isfile() or not _safe_member_name(name):
                    raise BackupError(f"{source}: member {name!r} is not a plain relative file")
                extracted = archive.extractfile(member)
                if extracted is None:
                    raise BackupError(f"{source}: member {name!r} cannot be read")
                digest = hashlib.sha256()
                while chunk := extracted.read(CHUNK):
                    digest.update(chunk)
                if digest.hexdigest() != expected.get("sha256"):
                    raise BackupError(
                        f"{source}: {name} is damaged (its SHA-256 does not match the manifest)"
                    )
    except (tarfile.TarError, EOFError, OSError, zlib.error) as exc:
        raise BackupError(f"{source} is damaged or truncated: {exc}") from None
    return manifest


def _database_is_empty(using: str) -> tuple[bool, list[str]]:
    from django.db import connections

    if _vendor(using) == "sqlite":
        path = _sqlite_path(using)
        if not path.exists() or path.stat().st_size == 0:
            return True, []
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
            tables = _sqlite_tables(connection)
        return not tables, tables
    tables = connections[using].introspection.table_names()
    return not tables, list(tables)


def _data_dir_leftovers(data_dir: Path, using: str, source: Path) -> list[str]:
    """Files in the data directory other than what start-up creates and the key file."""
    excluded = _excluded_paths(data_dir, using, [source, _key_file()])
    return [
        relative
        for _path, relative in _data_files(data_dir, excluded)
        if relative not in FRESH_INSTALL_FILES
    ]


def _check_key_file_conflict(source: Path, manifest: dict[str, Any], data_dir: Path) -> str:
    """The key file's member name when the backup carries one; refuse to replace another key."""
    key_file = _key_file()
    try:
        relative = key_file.relative_to(data_dir).as_posix()
    except ValueError:
        return ""
    name = DATA_PREFIX + relative
    if name not in manifest["members"] or not key_file.exists():
        return ""
    if _sha256_file(key_file) != manifest["members"][name]["sha256"]:
        raise BackupError(
            f"{key_file} already holds different field keys than the backup's copy; move it "
            "away (keep it!) or restore into another data directory"
        )
    return name


def _check_keys(manifest: dict[str, Any], using: str, report: RestoreReport) -> None:
    """Warn when the configured key ring cannot read the restored data."""
    from django.conf import settings

    from muhafiz.core import crypto
    from muhafiz.core.fields import check_field_keys

    if not settings.MUHAFIZ_FIELD_KEYS and not _key_file().exists():
        report.warnings.append(
            "no field keys are configured: set MUHAFIZ_FIELD_KEYS, or copy the key file to "
            f"{_key_file()}, before starting Muhafiz (the backup was written with keys "
            f"{', '.join(sorted(manifest.get('field_keys') or {})) or 'unknown'})"
        )
        return
    try:
        configured = crypto.fingerprints()
    except crypto.FieldKeyError as exc:
        report.warnings.append(str(exc))
        return
    for key_id, fingerprint in sorted((manifest.get("field_keys") or {}).items()):
        if key_id not in configured:
            report.warnings.append(f"field key {key_id!r} of the backup is not configured")
        elif configured[key_id] != fingerprint:
            report.warnings.append(
                f"field key {key_id!r} is configured with different key material than the "
                "backup was written with"
            )
    for error in check_field_keys(databases=[using]):
        report.warnings.append(str(error.msg))


@contextmanager
def _extracted(archive: tarfile.TarFile, name: str, directory: Path) -> Iterator[Path]:
    handle = archive.extractfile(name)
    if handle is None:
        raise BackupError(f"member {name} cannot be read")
    path = directory / PurePosixPath(name).name
    with path.open("wb") as out:
        shutil.copyfileobj(handle, out, CHUNK)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def _write_atomically(handle: IO[bytes], path: Path, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.restoring")
    with partial.open("wb") as out:
        shutil.copyfileobj(handle, out, CHUNK)
    partial.chmod(mode & 0o777 or 0o600)
    partial.replace(path)


def _restore_database(
    archive: tarfile.TarFile, manifest: dict[str, Any], using: str, staging: Path
) -> None:
    from django.db import connections

    member = manifest["database"]["member"]
    connections[using].close()
    if _vendor(using) == "sqlite":
        path = _sqlite_path(using)
        for suffix in ("-wal", "-shm", "-journal"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        handle = archive.extractfile(member)
        if handle is None:
            raise BackupError(f"member {member} cannot be read")
        _write_atomically(handle, path, 0o600)
        return
    if shutil.which("pg_restore") is None:
        raise BackupError("pg_restore is not installed (apt-get install postgresql-client)")
    with _extracted(archive, member, staging) as dump:
        result = subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={_database_settings(using)['NAME']}",
                str(dump),
            ],
            env=_pg_env(_database_settings(using)),
            capture_output=True,
            text=True,
            check=False,
        )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed (nothing was restored): {result.stderr.strip()}")


def _verify_restored(manifest: dict[str, Any], using: str, report: RestoreReport) -> None:
    from django.db import connections

    from muhafiz.audit.chain import verify_chain

    connection = connections[using]
    expected: dict[str, int] = manifest["database"]["row_counts"]
    with connection.cursor() as cursor:
        tables = set(connection.introspection.table_names(cursor))
        for table, count in sorted(expected.items()):
            if table not in tables:
                report.problems.append(f"table {table} is missing")
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 - quoted identifier
            row = cursor.fetchone()
            actual = int(row[0]) if row else 0
            if actual != count:
                report.problems.append(f"table {table} has {actual} rows; the backup has {count}")
            report.rows += actual
    report.tables = len(expected)
    chain = verify_chain(using=using)
    report.audit_events = chain.checked
    report.audit_head = chain.head_hash
    if not chain.ok:
        report.problems.append(
            f"the audit chain is broken at row {chain.broken_id}: {chain.reason}"
        )
    elif chain.head_hash != manifest["audit"]["head_hash"] or (
        chain.head_sequence != manifest["audit"]["head_sequence"]
    ):
        report.problems.append(
            f"the audit chain ends at {chain.head_sequence} ({chain.head_hash}); the backup's "
            f"ends at {manifest['audit']['head_sequence']} ({manifest['audit']['head_hash']})"
        )


def _check_store_is_empty() -> None:
    from muhafiz.core.storage import LocalFileStore, file_store

    store = file_store()
    if not isinstance(store, LocalFileStore) and next(store.names(), None) is not None:
        raise BackupError(
            f"the file store {store.describe()} is not empty: restore only into an empty one"
        )


def _restore_stored_file(archive: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    """A `stored/` member back into the configured file store (a bucket, or the data
    directory when the installation moved off S3)."""
    from muhafiz.core.storage import file_store

    handle = archive.extractfile(member)
    if handle is None:
        raise BackupError(f"member {member.name} cannot be read")
    file_store().put(member.name[len(STORED_PREFIX) :], handle)


def restore_backup(
    source: Path, *, data_dir: Path | None = None, using: str = "default"
) -> RestoreReport:
    """Restore a backup into an empty data directory and empty database, then verify it."""
    from django.conf import settings
    from django.db import transaction

    from muhafiz.audit.actions import ObjectRef, record
    from muhafiz.core import crypto

    source = source.resolve()
    data_dir = Path(data_dir or settings.DATA_DIR).resolve()
    manifest = read_manifest(source)  # every member checked before anything changes
    vendor = _vendor(using)
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(
            f"this backup holds a {manifest['database']['vendor']} database; the configured "
            f"database is {vendor}"
        )
    leftovers = _data_dir_leftovers(data_dir, using, source)
    if leftovers:
        raise BackupError(
            f"the data directory {data_dir} is not empty ({', '.join(leftovers[:5])}"
            f"{', …' if len(leftovers) > 5 else ''}): restore only into an empty data directory"
        )
    _check_store_is_empty()
    keys_member = _check_key_file_conflict(source, manifest, data_dir)
    empty, tables = _database_is_empty(using)
    if not empty:
        raise BackupError(
            f"the database is not empty ({len(tables)} tables, e.g. {', '.join(tables[:3])}): "
            "restore only into a new, empty database (do not run migrate first)"
        )
    report = RestoreReport(manifest=manifest)
    with (
        tarfile.open(source, "r:*") as archive,
        tempfile.TemporaryDirectory(prefix=f"{WORK_PREFIX}restore-", dir=data_dir) as staging,
    ):
        _restore_database(archive, manifest, using, Path(staging))
        for member in archive.getmembers():
            if member.name.startswith(STORED_PREFIX):
                _restore_stored_file(archive, member)
                report.files += 1
                continue
            if not member.name.startswith(DATA_PREFIX):
                continue
            relative = member.name[len(DATA_PREFIX) :]
            if member.name == keys_member:
                continue  # the same keys are already in place
            handle = archive.extractfile(member)
            if handle is None:
                raise BackupError(f"member {member.name} cannot be read")
            _write_atomically(handle, data_dir / relative, member.mode)
            report.files += 1
    crypto.reset_key_ring()
    _verify_restored(manifest, using, report)
    _check_keys(manifest, using, report)
    if report.ok:
        with transaction.atomic(using=using):
            record(
                None,
                "backup.restore",
                ObjectRef("backup", source.name, source.name),
                using=using,
                backup_created_at=manifest.get("created_at", ""),
                audit_head=manifest["audit"]["head_hash"],
            )
    return report
