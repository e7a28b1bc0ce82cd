"""Backup and restore: the same data comes back, verified; damage and full targets are refused."""

from __future__ import annotations

import hashlib
import io
import os
import sqlite3
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import override_settings

from muhafiz.accounts.models import User
from muhafiz.audit.actions import ObjectRef, record
from muhafiz.audit.models import AuditEvent
from muhafiz.audit.testing import remove_audit_rows
from muhafiz.core import crypto
from muhafiz.core.storage import file_store
from muhafiz.core.tests.sample_models import ProtectedSample
from muhafiz.core.tests.test_crypto import NEW, OLD
from muhafiz.ops.backup import BackupError, create_backup, read_manifest, restore_backup
from muhafiz.testing import make_people

POSTGRES = connection.vendor == "postgresql"


def _data_dir(root: Path) -> Path:
    data = root / "data"
    (data / "media" / "cases").mkdir(parents=True)
    (data / "media" / "cases" / "scan-0001.bin").write_bytes(os.urandom(70_000))
    (data / "reports").mkdir()
    (data / "reports" / "custody.txt").write_text("chain of custody, item 1\n", encoding="utf-8")
    return data


def _write_history() -> None:
    make_people()
    for number in range(3):
        ProtectedSample.objects.create(
            pseudonym=f"V-2026-LHR-{number:04d}", name=f"Child {number}", cnic="35202-1234567-1"
        )
    with transaction.atomic():
        for number in range(5):
            record(None, "case.update", ObjectRef("cases.case", str(number)), stage=number)


@pytest.fixture
def committed(transactional_db: None, protected_sample_table: None) -> Iterator[None]:
    """Committed rows that another process (the restore) can see."""
    with override_settings(MUHAFIZ_FIELD_KEYS=OLD):
        yield
    remove_audit_rows()


def _file_hashes(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A DATABASE_URL for a new, empty database of the vendor under test."""
    if not POSTGRES:
        yield ""  # filled in by the test: a file in the new data directory
        return
    import psycopg

    name = f"muhafiz_restore_{uuid.uuid4().hex[:12]}"
    settings_dict = connection.settings_dict
    admin = psycopg.connect(
        dbname=settings_dict["NAME"],
        user=settings_dict["USER"],
        host=settings_dict["HOST"],
        port=settings_dict["PORT"] or 5432,
        password=settings_dict["PASSWORD"] or None,
        autocommit=True,
    )
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        user = settings_dict["USER"]
        host = settings_dict["HOST"]
        port = settings_dict["PORT"] or 5432
        try:
            yield f"postgres://{user}@{host}:{port}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _store_environment(settings: Any, *, prefix: str) -> dict[str, str]:
    """The environment that selects the test's file store in a `muhafiz` process."""
    if settings.MUHAFIZ_STORAGE != "s3":
        return {"MUHAFIZ_STORAGE": "filesystem"}
    s3 = settings.MUHAFIZ_S3
    return {
        "MUHAFIZ_STORAGE": "s3",
        "MUHAFIZ_S3_BUCKET": s3["bucket"],
        "MUHAFIZ_S3_PREFIX": prefix,
        "MUHAFIZ_S3_ENDPOINT_URL": s3["endpoint_url"],
        "MUHAFIZ_S3_REGION": s3["region"],
        "MUHAFIZ_S3_ACCESS_KEY_ID": s3["access_key"],
        "MUHAFIZ_S3_SECRET_ACCESS_KEY": s3["secret_key"],
        "MUHAFIZ_S3_SSE": s3["sse"],
        "MUHAFIZ_S3_ADDRESSING_STYLE": s3["addressing_style"],
    }


def _muhafiz(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "muhafiz", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.mark.slow
def test_backup_then_restore_into_an_empty_data_directory_gives_the_same_data(
    committed: None, empty_database: str, tmp_path: Path, any_storage: str, settings: Any
) -> None:
    """With files on disk, and with the file store in a SeaweedFS bucket (restored into an
    empty prefix of it)."""
    _write_history()
    source = _data_dir(tmp_path / "source")
    settings.DATA_DIR = source
    stored_scan = os.urandom(90_000)
    file_store().put("evidence/scans/f00d.scan", io.BytesIO(stored_scan))
    backup = tmp_path / "muhafiz.backup"
    manifest = create_backup(backup, data_dir=source)

    counts = manifest["database"]["row_counts"]
    assert counts["accounts_user"] == User.objects.count()
    assert counts["core_protectedsample"] == 3
    assert counts["audit_auditevent"] == AuditEvent.objects.count() == 6  # + backup.create
    head = AuditEvent.objects.order_by("-sequence").first()
    assert head is not None
    assert manifest["audit"] == {"head_sequence": head.sequence, "head_hash": head.row_hash}
    assert set(manifest["members"]) >= {
        "data/media/cases/scan-0001.bin",
        "data/reports/custody.txt",
    }
    with tarfile.open(backup) as archive:
        assert b"Child 1" not in archive.extractfile(manifest["database"]["member"]).read()  # type: ignore[union-attr]

    target = tmp_path / "restored"
    database_url = empty_database or f"sqlite:///{target / 'muhafiz.sqlite3'}"
    env = {
        "MUHAFIZ_DATA_DIR": str(target),
        "DATABASE_URL": database_url,
        "MUHAFIZ_FIELD_KEYS": OLD,
        "MUHAFIZ_PROFILE": "test",
        **_store_environment(settings, prefix=f"restored-{uuid.uuid4().hex[:8]}"),
    }
    restored = _muhafiz(env, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr
    assert "Verified" in restored.stdout
    assert "audit chain is intact (6 entries" in restored.stdout
    assert "WARNING" not in restored.stderr

    # The data directory's files and the stored files come back byte for byte.
    restored_files = _file_hashes(target)
    for name, digest in _file_hashes(source).items():
        assert restored_files[name] == digest
    if any_storage == "s3":
        assert "stored/evidence/scans/f00d.scan" in manifest["members"]
        assert "data/evidence/scans/f00d.scan" not in manifest["members"]
        settings.MUHAFIZ_S3 = {**settings.MUHAFIZ_S3, "prefix": env["MUHAFIZ_S3_PREFIX"]}
        assert b"".join(file_store().stream("evidence/scans/f00d.scan")) == stored_scan
    else:
        assert (target / "evidence" / "scans" / "f00d.scan").read_bytes() == stored_scan
    # The database holds the same rows: the audit chain and the encrypted values are identical.
    verified = _muhafiz(env, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "7 rows verified" in verified.stdout  # the 6 restored + the restore itself
    if not POSTGRES:
        with sqlite3.connect(target / "muhafiz.sqlite3") as restored_db:
            hashes = [
                row[0]
                for row in restored_db.execute(
                    "SELECT row_hash FROM audit_auditevent ORDER BY sequence LIMIT 6"
                )
            ]
            names = [
                row[0]
                for row in restored_db.execute("SELECT name FROM core_protectedsample ORDER BY id")
            ]
        assert hashes == list(
            AuditEvent.objects.order_by("sequence").values_list("row_hash", flat=True)
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT name FROM core_protectedsample ORDER BY id")
            assert names == [row[0] for row in cursor.fetchall()]

    # A second restore into the now-full target is refused, and changes nothing.
    again = _muhafiz(env, "restore", str(backup))
    assert again.returncode != 0
    assert "not empty" in again.stderr


@pytest.fixture
def backup_file(db: None, tmp_path: Path) -> Path:
    record_source = tmp_path / "source"
    record_source.mkdir()
    (record_source / "note.txt").write_text("a file", encoding="utf-8")
    target = tmp_path / "b.tar"
    create_backup(target, data_dir=record_source)
    return target


def test_a_truncated_backup_is_refused_and_nothing_changes(
    backup_file: Path, tmp_path: Path
) -> None:
    truncated = tmp_path / "truncated.tar"
    truncated.write_bytes(backup_file.read_bytes()[: backup_file.stat().st_size // 2])
    empty = tmp_path / "empty"
    empty.mkdir()
    events = AuditEvent.objects.count()
    with pytest.raises(BackupError, match="damaged or truncated"):
        restore_backup(truncated, data_dir=empty)
    assert list(empty.iterdir()) == []
    assert AuditEvent.objects.count() == events


def test_a_changed_byte_is_named_and_nothing_changes(backup_file: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.tar"
    data = bytearray(backup_file.read_bytes())
    data[2048] ^= 0xFF  # inside the first member, the database snapshot
    damaged.write_bytes(bytes(data))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BackupError, match="damaged"):
        restore_backup(damaged, data_dir=empty)
    assert list(empty.iterdir()) == []


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "photo.tar"
    with tarfile.open(other, "w") as archive:
        archive.add(__file__, arcname="x.py")
    with pytest.raises(BackupError, match="no manifest"):
        read_manifest(other)
    junk = tmp_path / "junk.bin"
    junk.write_bytes(os.urandom(5000))
    with pytest.raises(BackupError, match="damaged or truncated"):
        read_manifest(junk)


def test_restore_refuses_a_data_directory_that_holds_files(
    backup_file: Path, tmp_path: Path
) -> None:
    full = tmp_path / "full"
    (full / "media").mkdir(parents=True)
    (full / "media" / "old.bin").write_bytes(b"old")
    (full / "secret_key").write_text("generated on start-up", encoding="utf-8")
    with pytest.raises(BackupError, match=r"data directory .* is not empty \(media/old.bin\)"):
        restore_backup(backup_file, data_dir=full)
    assert (full / "media" / "old.bin").read_bytes() == b"old"


def test_restore_refuses_a_database_that_holds_tables(backup_file: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BackupError, match="database is not empty"):
        restore_backup(backup_file, data_dir=empty)


def test_backup_refuses_to_overwrite_a_file(backup_file: Path) -> None:
    with pytest.raises(BackupError, match="already exists"):
        create_backup(backup_file, data_dir=backup_file.parent)


def _keys_in(data_dir: Path) -> Path:
    key_file = data_dir / "field_keys"
    key_file.write_text(f"{OLD}\n", encoding="utf-8")
    key_file.chmod(0o600)
    return key_file


@pytest.mark.django_db
def test_the_key_file_stays_out_of_a_backup_unless_asked(tmp_path: Path) -> None:
    data = _data_dir(tmp_path)
    key_file = _keys_in(data)
    with override_settings(MUHAFIZ_FIELD_KEYS=None, MUHAFIZ_FIELD_KEYS_PATH=key_file):
        without = create_backup(tmp_path / "without.tar", data_dir=data)
        with_keys = create_backup(tmp_path / "with.tar", data_dir=data, include_keys=True)
    assert "data/field_keys" not in without["members"]
    assert without["field_keys_included"] is False
    assert without["field_keys"] == {"old": crypto.parse_key_ring(OLD).primary.fingerprint()}
    assert "data/field_keys" in with_keys["members"]
    assert with_keys["field_keys_included"] is True


@pytest.mark.django_db
def test_restore_accepts_the_keys_already_in_place_but_not_other_keys(tmp_path: Path) -> None:
    data = _data_dir(tmp_path)
    key_file = _keys_in(data)
    target = tmp_path / "target"
    target.mkdir()
    with override_settings(MUHAFIZ_FIELD_KEYS=None, MUHAFIZ_FIELD_KEYS_PATH=key_file):
        backup = tmp_path / "with.tar"
        create_backup(backup, data_dir=data, include_keys=True)
    target_keys = _keys_in(target)
    with override_settings(MUHAFIZ_FIELD_KEYS=None, MUHAFIZ_FIELD_KEYS_PATH=target_keys):
        # The same keys: the data directory counts as empty (this test's database does not).
        with pytest.raises(BackupError, match="database is not empty"):
            restore_backup(backup, data_dir=target)
        target_keys.write_text(f"{NEW}\n", encoding="utf-8")
        with pytest.raises(BackupError, match="different field keys"):
            restore_backup(backup, data_dir=target)
    assert target_keys.read_text(encoding="utf-8") == f"{NEW}\n"


@pytest.mark.django_db
def test_the_rebuildable_match_indexes_stay_out_of_a_backup(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both indexes are built from the database: a backup keeps the data, not the copies."""
    from muhafiz.evidence.media_index import extend_media_index
    from muhafiz.hashbank.index import index_root

    data = _data_dir(tmp_path)
    settings.DATA_DIR = data
    settings.MUHAFIZ_MEDIA_INDEX_DIR = data / "evidence" / "media-index"
    extend_media_index()  # writes its current.json, as after any analysis
    (index_root() / "gen-1" / "bank-1").mkdir(parents=True)
    (index_root() / "gen-1" / "bank-1" / "pdq.bin").write_bytes(os.urandom(4096))
    (index_root() / "current.json").write_text("{}", encoding="utf-8")
    assert any(settings.MUHAFIZ_MEDIA_INDEX_DIR.iterdir())

    manifest = create_backup(tmp_path / "b.tar", data_dir=data)
    names = set(manifest["members"])
    assert "data/reports/custody.txt" in names  # the data directory's own files are kept
    assert not [
        n for n in names if n.startswith(("data/hashbank/index/", "data/evidence/media-index/"))
    ]
