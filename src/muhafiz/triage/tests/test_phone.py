"""Phone extractions as sources: Cellebrite UFDR, iOS backups, Android dumps and ADB backups.
Every extraction is built by the test (tests/phone.py); the content is generated pictures."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from pathlib import Path

from muhafiz.triage.tests.conftest import Scanner
from muhafiz.triage.tests.media import jpeg_bytes, png_bytes, scene
from muhafiz.triage.tests.phone import (
    PhoneFile,
    ios_file_id,
    make_adb_backup,
    make_ios_backup,
    make_ufdr,
)


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


def test_an_encrypted_ios_backup_is_recorded_as_needing_the_password(
    tmp_path: Path, scan: Scanner
) -> None:
    backup = make_ios_backup(
        tmp_path / "locked", [("CameraRollDomain", "Media/DCIM/a.jpg", b"x" * 100)], encrypted=True
    )
    result = scan(backup)
    [(code, message)] = result.errors["locked/Manifest.db"]
    assert code == "encrypted-backup"
    assert "encrypted: needs the backup password" in message
    assert json.loads(str(_source(result.path)["details"]))["encrypted"] is True
    file_id = ios_file_id("CameraRollDomain", "Media/DCIM/a.jpg")
    assert result.files[f"locked/{file_id[:2]}/{file_id}"]["sha256"] is not None


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
