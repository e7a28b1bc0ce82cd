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
