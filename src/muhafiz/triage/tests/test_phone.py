"""Phone extractions as sources: Cellebrite UFDR, iOS backups, Android dumps and ADB backups.
Every extraction is built by the test (tests/phone.py); the content is generated pictures."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from muhafiz.triage.engine import Passwords, ScanOptions, SourceError, start_scan
from muhafiz.triage.imaging import pdq_of_encoded
from muhafiz.triage.scanfile import record_rows
from muhafiz.triage.tests.conftest import Scanner, ScanResult, read_scan
from muhafiz.triage.tests.media import jpeg_bytes, png_bytes, scene
from muhafiz.triage.tests.phone import (
    IOS_PASSWORD,
    PhoneFile,
    ios_file_id,
    make_adb_backup,
    make_ios_backup,
    make_ufdr,
)

MUHAFIZ = [sys.executable, "-m", "muhafiz"]


def _source(scan_path: Path) -> dict[str, object]:
    with sqlite3.connect(scan_path) as conn:
        conn.row_factory = sqlite3.Row
        return dict(conn.execute("SELECT * FROM sources").fetchone())


def test_ufdr_gives_device_paths_flags_times_and_device_info(tmp_path: Path, scan: Scanner) -> None:
    photo = jpeg_bytes(scene(1))
    ufdr = make_ufdr(
        tmp_path / "phone.ufdr",
        [
            PhoneFile("/Root/DCIM/Camera/IMG_1.jpg", photo),
            PhoneFile("/Root/WhatsApp/Media/WhatsApp Images/IMG-2.png", png_bytes(scene(2)),
                      deleted=True),
            PhoneFile("/Root/Download/gone.jpg", b"never extracted", in_zip=False),
        ],
    )  # fmt: skip
    result = scan(ufdr)
    by_device = {f["device_path"]: f for f in result.files.values() if f["device_path"]}
    assert sorted(by_device) == [
        "Android Logical/Root/DCIM/Camera/IMG_1.jpg",
        "Android Logical/Root/Download/gone.jpg",
        "Android Logical/Root/WhatsApp/Media/WhatsApp Images/IMG-2.png",
    ]
    camera = by_device["Android Logical/Root/DCIM/Camera/IMG_1.jpg"]
    assert camera["path"] == "phone.ufdr!/files/Image/0_IMG_1.jpg"
    assert camera["sha256"] == hashlib.sha256(photo).hexdigest()
    assert camera["pdq"] is not None
    assert (camera["deleted"], camera["created"], camera["mtime"], camera["time_zone"]) == (
        0, "2024-05-01T05:00:00.000000Z", "2024-05-02T06:30:00.000000Z", "UTC",
    )  # fmt: skip
    assert camera["timestamps_reliable"] == 1
    assert (
        by_device["Android Logical/Root/WhatsApp/Media/WhatsApp Images/IMG-2.png"]["deleted"] == 1
    )
    gone = by_device["Android Logical/Root/Download/gone.jpg"]
    assert result.codes(gone["path"]) == ["not-in-extraction"]
    assert "phone.ufdr!/report.xml" in result.files  # the report itself is evidence too
    source = _source(result.path)
    assert source["kind"] == "ufdr"
    details = json.loads(str(source["details"]))
    assert details["make"] == "Samsung"
    assert details["model"] == "SM-A515F"
    assert details["imei"] == "356938035643809"
    assert details["extraction_type"] == "Logical"
    assert not any(result.codes(path) for path in result.files if path != gone["path"])


def test_ufdr_whose_stored_hash_disagrees_with_the_bytes_is_flagged(
    tmp_path: Path, scan: Scanner
) -> None:
    ufdr = make_ufdr(
        tmp_path / "phone.ufdr",
        [
            PhoneFile("/Root/DCIM/a.jpg", jpeg_bytes(scene(3)), stored_sha256="ab" * 32),
            PhoneFile("/Root/DCIM/b.jpg", jpeg_bytes(scene(4)), stored_md5="cd" * 16),
            PhoneFile("/Root/DCIM/c.jpg", jpeg_bytes(scene(5))),
        ],
    )
    result = scan(ufdr)
    assert result.codes("phone.ufdr!/files/Image/0_a.jpg") == ["stored-hash-mismatch"]
    assert result.codes("phone.ufdr!/files/Image/1_b.jpg") == ["stored-hash-mismatch"]
    assert result.codes("phone.ufdr!/files/Image/2_c.jpg") == []
    [(_, message)] = result.errors["phone.ufdr!/files/Image/0_a.jpg"]
    assert "ab" * 32 in message


def test_ufdr_is_read_with_several_workers_and_the_evidence_is_unchanged(
    tmp_path: Path, scan: Scanner
) -> None:
    files = [PhoneFile(f"/Root/DCIM/{i}.jpg", jpeg_bytes(scene(i))) for i in range(12)]
    ufdr = make_ufdr(tmp_path / "phone.ufdr", files)
    before = (ufdr.read_bytes(), ufdr.stat().st_mtime_ns)
    one = scan(ufdr)
    two = scan(ufdr, workers=2)
    assert {p: f["sha256"] for p, f in one.files.items()} == {
        p: f["sha256"] for p, f in two.files.items()
    }
    assert (ufdr.read_bytes(), ufdr.stat().st_mtime_ns) == before


def test_a_plain_zip_is_not_taken_for_a_ufdr(tmp_path: Path, scan: Scanner) -> None:
    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as archive:
        archive.writestr("sub/report.xml", "<x/>")
    result = scan(tmp_path / "photos.zip")
    assert _source(result.path)["kind"] == "file"


def test_ios_backup_maps_each_stored_file_to_its_domain_and_path(
    tmp_path: Path, scan: Scanner
) -> None:
    photo = jpeg_bytes(scene(10))
    backup = make_ios_backup(
        tmp_path / "00008110-000A",
        [
            ("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.JPG", photo),
            ("AppDomainGroup-group.net.whatsapp.WhatsApp.shared",
             "Message/Media/923001234567@s.whatsapp.net/a/b/photo.png", png_bytes(scene(11))),
        ],
    )  # fmt: skip
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in backup.rglob("*") if p.is_file()}
    result = scan(backup)
    file_id = ios_file_id("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.JPG")
    row = result.files[f"00008110-000A/{file_id[:2]}/{file_id}"]
    assert row["device_path"] == "CameraRollDomain/Media/DCIM/100APPLE/IMG_0001.JPG"
    assert row["sha256"] == hashlib.sha256(photo).hexdigest()
    assert row["pdq"] is not None
    assert (row["mtime"], row["created"], row["timestamps_reliable"]) == (
        "2024-05-01T10:00:00.000000Z", "2024-05-01T07:53:20.000000Z", 1,
    )  # fmt: skip
    devices = sorted(f["device_path"] for f in result.files.values() if f["device_path"])
    assert devices[0].startswith("AppDomainGroup-group.net.whatsapp.WhatsApp.shared/Message/")
    assert "00008110-000A/Manifest.db" in result.files  # scanned too, no device path
    source = _source(result.path)
    assert source["kind"] == "ios-backup"
    details = json.loads(str(source["details"]))
    assert (details["model"], details["imei"], details["encrypted"]) == (
        "iPhone14,2", "356938035643810", False,
    )  # fmt: skip
    assert not any(result.errors.values())
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in backup.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in backup.iterdir() if p.name.startswith("Manifest")) == [
        "Manifest.db",
        "Manifest.plist",
    ]  # fmt: skip  (SQLite left no -wal, -shm or journal beside the evidence)


def _encrypted_backup(tmp_path: Path, name: str = "locked") -> tuple[Path, dict[str, bytes]]:
    """An encrypted backup of a picture, a file of whole AES blocks, an empty file and a file
    of several read chunks; returns the folder and the plaintext by device path."""
    plain = {
        ("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.JPG"): jpeg_bytes(scene(12)),
        ("HomeDomain", "Library/Notes/blocks.bin"): bytes(range(256)) * 4,  # 1024: 64 blocks
        ("HomeDomain", "Library/empty"): b"",
        ("AppDomain-net.whatsapp.WhatsApp", "Documents/big.bin"): os.urandom(3 * 1024 * 1024 + 5),
    }
    backup = make_ios_backup(
        tmp_path / name, [(d, r, data) for (d, r), data in plain.items()], encrypted=True
    )
    return backup, {f"{d}/{r}": data for (d, r), data in plain.items()}


def _by_device(result: ScanResult) -> dict[str, dict[str, object]]:
    return {str(f["device_path"]): f for f in result.files.values() if f["device_path"]}


def test_an_encrypted_ios_backup_is_read_with_its_password(tmp_path: Path, scan: Scanner) -> None:
    backup, plain = _encrypted_backup(tmp_path)
    stored = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in backup.rglob("*") if p.is_file()}
    passwords = Passwords((b"not this one", IOS_PASSWORD))
    one = scan(backup, passwords=passwords)
    by_device = _by_device(one)
    assert sorted(by_device) == sorted(plain)
    for device_path, data in plain.items():
        row = by_device[device_path]
        assert row["size"] == len(data), device_path
        assert row["sha256"] == hashlib.sha256(data).hexdigest(), device_path
        assert row["md5"] == hashlib.md5(data, usedforsecurity=False).hexdigest(), device_path
    picture = by_device["CameraRollDomain/Media/DCIM/100APPLE/IMG_0001.JPG"]
    assert picture["mime"] == "image/jpeg"
    assert picture["pdq"] == pdq_of_encoded(plain[str(picture["device_path"])]).hex
    assert (picture["mtime"], picture["timestamps_reliable"]) == ("2024-05-01T10:00:00.000000Z", 1)
    empty = by_device["HomeDomain/Library/empty"]["path"]
    assert {p: one.codes(p) for p in one.errors} == {empty: ["zero-byte"]}  # the plaintext's
    manifest = one.files["locked/Manifest.db"]  # the evidence file itself, hashed as stored
    assert manifest["sha256"] == hashlib.sha256((backup / "Manifest.db").read_bytes()).hexdigest()
    details = json.loads(str(_source(one.path)["details"]))
    assert [details[k] for k in ("encrypted", "decrypted", "manifest_files")] == [True, True, 4]
    two = scan(backup, passwords=passwords, workers=2)
    assert record_rows(two.path) == record_rows(one.path)
    for scan_file in (one.path, two.path):  # neither the password nor a key is in the scan file
        assert IOS_PASSWORD not in scan_file.read_bytes()
    after = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in backup.rglob("*") if p.is_file()}
    assert after == stored  # nothing decrypted was written beside the evidence


def test_an_encrypted_ios_backup_without_its_password_lists_its_files_as_encrypted(
    tmp_path: Path, scan: Scanner
) -> None:
    backup, plain = _encrypted_backup(tmp_path)
    result = scan(backup)
    [(code, message)] = result.errors["locked/Manifest.db"]
    assert code == "encrypted-backup"
    assert "encrypted backup: supply --ios-password-file" in message
    assert json.loads(str(_source(result.path)["details"]))["decrypted"] is False
    for domain_path in plain:
        domain, relative = domain_path.split("/", 1)
        file_id = ios_file_id(domain, relative)
        row = result.files[f"locked/{file_id[:2]}/{file_id}"]
        assert (row["sha256"], row["md5"], row["mime"], row["pdq"]) == (None, None, None, None)
        assert row["size"] == (backup / file_id[:2] / file_id).stat().st_size
        assert result.codes(str(row["path"])) == ["encrypted-backup"]
    assert result.files["locked/Info.plist"]["sha256"] is not None  # plain files are read


def test_a_wrong_ios_backup_password_stops_before_the_scan_file_is_made(tmp_path: Path) -> None:
    backup, _ = _encrypted_backup(tmp_path)
    out = tmp_path / "wrong.scan"
    with pytest.raises(SourceError, match="wrong backup password") as caught:
        start_scan(ScanOptions(sources=[backup], out=out, passwords=Passwords((b"guess",))))
    assert b"guess" not in str(caught.value).encode()
    assert not out.exists()


def _done(path: Path) -> int:
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM files WHERE sha256 IS NOT NULL")
                       .fetchone()[0])  # fmt: skip
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_the_password_reaches_workers_and_resume_through_the_cli_only_from_a_file(
    tmp_path: Path, scan: Scanner
) -> None:
    files = [("CameraRollDomain", f"Media/DCIM/IMG_{i:04d}.JPG",
              jpeg_bytes(scene(40 + i, (160, 120)))) for i in range(40)]  # fmt: skip
    backup = make_ios_backup(tmp_path / "phone", files, encrypted=True)
    secret = tmp_path / "password.txt"
    secret.write_bytes(IOS_PASSWORD + b"\n")
    out = tmp_path / "killed.scan"
    command = [*MUHAFIZ, "scan", str(backup), "--out", str(out), "--quiet", "--workers", "2",
               "--ios-password-file", str(secret)]  # fmt: skip
    env = {**os.environ, "MUHAFIZ_SCAN_DELAY_MS": "300"}
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while _done(out) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)  # the scan and its workers, as kill -9 would
    process.wait(timeout=60)
    assert 4 <= _done(out) < 40, "the scan should have stopped half-way"
    resume = [*MUHAFIZ, "scan", "--resume", str(out), "--quiet", "--workers", "2"]
    refused = subprocess.run(resume, capture_output=True, text=True, check=False)
    assert refused.returncode == 3
    assert "give its password again (--ios-password-file)" in refused.stderr
    resumed = subprocess.run(
        [*resume, "--ios-password-file", "-"], input=IOS_PASSWORD, capture_output=True, check=False
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    straight = scan(backup, passwords=Passwords((IOS_PASSWORD,)), out=tmp_path / "straight.scan")
    assert record_rows(out) == record_rows(straight.path)
    assert {f["device_path"] for f in read_scan(out).files.values() if f["device_path"]} == {
        f"{d}/{r}" for d, r, _ in files
    }
    assert IOS_PASSWORD not in out.read_bytes()


def test_adb_backup_gives_device_paths_of_app_data_and_shared_storage(
    tmp_path: Path, scan: Scanner
) -> None:
    photo = jpeg_bytes(scene(20))
    ab = make_adb_backup(
        tmp_path / "phone.ab",
        {
            "apps/com.whatsapp/_manifest": b"1\n",
            "apps/com.whatsapp/db/msgstore.db": b"SQLite format 3\x00" + bytes(100),
            "apps/com.whatsapp/ef/WhatsApp/Media/WhatsApp Images/IMG-1.jpg": photo,
            "shared/0/DCIM/Camera/IMG_2.jpg": photo,
        },
    )
    result = scan(ab)
    paths = {f["path"]: f["device_path"] for f in result.files.values()}
    assert paths == {
        "phone.ab": None,
        "phone.ab!/apps/com.whatsapp/_manifest": None,
        "phone.ab!/apps/com.whatsapp/db/msgstore.db":
            "/data/data/com.whatsapp/databases/msgstore.db",
        "phone.ab!/apps/com.whatsapp/ef/WhatsApp/Media/WhatsApp Images/IMG-1.jpg":
            "/sdcard/Android/data/com.whatsapp/files/WhatsApp/Media/WhatsApp Images/IMG-1.jpg",
        "phone.ab!/shared/0/DCIM/Camera/IMG_2.jpg": "/sdcard/DCIM/Camera/IMG_2.jpg",
    }  # fmt: skip
    assert result.files["phone.ab!/shared/0/DCIM/Camera/IMG_2.jpg"]["sha256"] == (
        hashlib.sha256(photo).hexdigest()
    )
    assert result.files["phone.ab"]["archive_format"] == "android-backup"
    assert _source(result.path)["kind"] == "android-backup"
    assert not any(result.errors.values())


def test_an_encrypted_adb_backup_is_recorded_as_needing_the_password(
    tmp_path: Path, scan: Scanner
) -> None:
    ab = make_adb_backup(tmp_path / "locked.ab", {}, encrypted=True)
    result = scan(ab)
    [(code, message)] = result.errors["locked.ab"]
    assert code == "password-protected"
    assert "needs the backup password" in message
    assert result.files["locked.ab"]["sha256"] == hashlib.sha256(ab.read_bytes()).hexdigest()


def test_android_dumps_in_tar_and_zip_show_device_paths(tmp_path: Path, scan: Scanner) -> None:
    import tarfile

    photo = jpeg_bytes(scene(30))
    with tarfile.open(tmp_path / "data.tar", "w") as archive:
        for name in (
            "data/media/0/DCIM/Camera/IMG_1.jpg",
            "./data/data/com.whatsapp/databases/msgstore.db",
            "notes/readme.txt",
        ):
            info = tarfile.TarInfo(name)
            info.size = len(photo)
            archive.addfile(info, __import__("io").BytesIO(photo))
    with zipfile.ZipFile(tmp_path / "sdcard.zip", "w") as archive:
        archive.writestr("sdcard/WhatsApp/Media/WhatsApp Video/VID-1.mp4", b"not really")
        archive.writestr("sdcard/DCIM/inner.zip", b"PK\x05\x06" + bytes(18))
    result = scan(tmp_path / "data.tar", tmp_path / "sdcard.zip")
    paths = {f["path"]: f["device_path"] for f in result.files.values() if f["parent"]}
    assert paths == {
        "data.tar!/data/media/0/DCIM/Camera/IMG_1.jpg": "/data/media/0/DCIM/Camera/IMG_1.jpg",
        "data.tar!/./data/data/com.whatsapp/databases/msgstore.db":
            "/data/data/com.whatsapp/databases/msgstore.db",
        "data.tar!/notes/readme.txt": None,
        "sdcard.zip!/sdcard/WhatsApp/Media/WhatsApp Video/VID-1.mp4":
            "/sdcard/WhatsApp/Media/WhatsApp Video/VID-1.mp4",
        "sdcard.zip!/sdcard/DCIM/inner.zip": "/sdcard/DCIM/inner.zip",
    }  # fmt: skip
