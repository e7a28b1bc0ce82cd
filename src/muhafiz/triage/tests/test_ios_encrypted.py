"""Encrypted iOS backups below the scan: the keybag, the decrypting reader, damaged input."""

from __future__ import annotations

import os
import plistlib
import random
import sqlite3
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muhafiz.triage.analyze import process_unit
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.sources import ioscrypto
from muhafiz.triage.sources.base import Passwords, SourceError, Unit
from muhafiz.triage.sources.ios import IosBackupSource
from muhafiz.triage.tests.phone import IOS_PASSWORD, IosCrypto, ios_encrypt, ios_file_id
from muhafiz.triage.tests.phone import make_ios_backup as build_backup

_CRYPTO = IosCrypto(sha256_rounds=10, sha1_rounds=10)
_KEYBAG = _CRYPTO.keybag()


def test_the_keybag_unlocks_every_class_key_with_the_password_only() -> None:
    keybag = ioscrypto.parse_keybag(_KEYBAG)
    assert (keybag.attributes[b"ITER"], keybag.attributes[b"DPIC"]) == (10, 10)
    assert ioscrypto.unlock(keybag, IOS_PASSWORD) == _CRYPTO.class_keys
    with pytest.raises(ioscrypto.WrongPasswordError):
        ioscrypto.unlock(keybag, IOS_PASSWORD + b"x")


def test_the_reader_gives_the_plaintext_at_any_offset(tmp_path: Path) -> None:
    key = os.urandom(32)
    for size in (0, 1, 15, 16, 17, 4096, 100_003):
        plain = os.urandom(size)
        path = tmp_path / f"f{size}"
        path.write_bytes(ios_encrypt(key, plain))
        for recorded in (size, None):  # cut at the manifest's Size, or at the padding
            with ioscrypto.DecryptingReader(os.open(path, os.O_RDONLY), key, recorded) as reader:
                assert reader.plaintext_size == size
                assert reader.read() == plain
                rng = random.Random(size)
                for _ in range(30):
                    start = rng.randrange(size + 2)
                    length = rng.randrange(40_000)
                    reader.seek(start)
                    assert reader.read(length) == plain[start : start + length]


def _backup(tmp_path: Path) -> Path:
    return build_backup(
        tmp_path / "phone",
        [("HomeDomain", "a.bin", b"alpha" * 1000), ("HomeDomain", "b.bin", b"beta" * 10)],
        crypto=_CRYPTO,
    )


def _units(source: IosBackupSource) -> dict[str, Unit]:
    return {item.path.rsplit("/", 1)[-1]: item for item in source.walk() if isinstance(item, Unit)}


def test_a_truncated_stored_file_is_hashed_as_far_as_it_goes_and_flagged(tmp_path: Path) -> None:
    backup = _backup(tmp_path)
    file_id = ios_file_id("HomeDomain", "a.bin")
    stored = backup / file_id[:2] / file_id
    stored.write_bytes(stored.read_bytes()[:1000])
    source = IosBackupSource(1, backup)
    source.use_passwords(Passwords((IOS_PASSWORD,)))
    [record] = process_unit(source, _units(source)[file_id], ScanSettings())
    assert record.size == 992  # the whole blocks that are there
    assert [issue.code for issue in record.issues] == ["size-mismatch"]


def test_a_file_whose_key_does_not_unwrap_is_unreadable_not_hashed(tmp_path: Path) -> None:
    backup = _backup(tmp_path)
    file_id = ios_file_id("HomeDomain", "b.bin")
    source = IosBackupSource(1, backup)
    source.use_passwords(Passwords((IOS_PASSWORD,)))
    units = _units(source)
    blob = source.manifest()[file_id][2]
    assert blob is not None
    archive = plistlib.loads(blob)
    key_object = next(o for o in archive["$objects"] if isinstance(o, dict) and "NS.data" in o)
    key_object["NS.data"] = key_object["NS.data"][:-1] + b"\x00"
    source.manifest()[file_id] = (
        *source.manifest()[file_id][:2],
        plistlib.dumps(archive, fmt=plistlib.FMT_BINARY),
    )
    [record] = process_unit(source, units[file_id], ScanSettings())
    assert record.sha256 is None
    assert [issue.code for issue in record.issues] == ["unreadable"]
    assert "encryption key cannot be unwrapped" in record.issues[0].message


def test_a_manifest_that_does_not_decrypt_is_recorded_and_the_folder_still_scanned(
    tmp_path: Path,
) -> None:
    backup = _backup(tmp_path)
    (backup / "Manifest.db").write_bytes(ios_encrypt(os.urandom(32), b"not SQLite" * 100))
    source = IosBackupSource(1, backup)
    source.use_passwords(Passwords((IOS_PASSWORD,)))
    items = list(source.walk())
    assert any(getattr(i, "code", None) == "unreadable" for i in items)
    assert sum(isinstance(i, Unit) for i in items) == 6  # 2 stored files, 3 plists, Manifest.db


def _mangled(data: bytes) -> st.SearchStrategy[bytes]:
    cut = st.integers(0, len(data)).map(lambda n: data[:n])
    flip = st.tuples(st.integers(0, len(data) - 1), st.integers(1, 255)).map(
        lambda p: data[: p[0]] + bytes([data[p[0]] ^ p[1]]) + data[p[0] + 1 :]
    )
    return st.one_of(cut, flip, st.binary(max_size=300))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keybag=_mangled(_KEYBAG))
def test_a_damaged_keybag_is_a_clear_source_error_never_a_crash(keybag: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "phone"
        folder.mkdir()
        manifest_key = _CRYPTO.stored_key(4, os.urandom(32))
        (folder / "Manifest.plist").write_bytes(
            plistlib.dumps(
                {"IsEncrypted": True, "BackupKeyBag": keybag, "ManifestKey": manifest_key}
            )
        )
        (folder / "Manifest.db").write_bytes(b"\x00" * 64)
        source = IosBackupSource(1, folder)
        try:
            source.use_passwords(Passwords((IOS_PASSWORD,)))
        except SourceError as exc:
            assert IOS_PASSWORD.decode() not in str(exc)
        else:
            assert not source.locked


def test_the_manifest_is_decrypted_in_memory_not_beside_the_evidence(tmp_path: Path) -> None:
    backup = _backup(tmp_path)
    before = sorted(p.name for p in backup.iterdir())
    source = IosBackupSource(1, backup)
    source.use_passwords(Passwords((IOS_PASSWORD,)))
    assert len(source.manifest()) == 2
    assert sorted(p.name for p in backup.iterdir()) == before
    with pytest.raises(sqlite3.DatabaseError):  # what is on disk is still ciphertext
        sqlite3.connect(backup / "Manifest.db").execute("SELECT * FROM Files").fetchall()
