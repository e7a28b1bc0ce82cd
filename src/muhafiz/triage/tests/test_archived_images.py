"""Disk images and Cellebrite extractions inside archives (`triage.spool`): copied to a private
temporary file, opened as if found in a folder, paths `evidence.zip!/laptop.E01!p1/...`, every
file hashed as The Sleuth Kit extracts it, the E01's acquisition hashes verified; the copy
removed; bounded by a size setting, by free space and to one level of nesting; the same records
in one process, two workers and shards."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import sqlite3
import tarfile
import zipfile
from contextlib import closing
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pytest

from muhafiz.triage import spool as spool_module
from muhafiz.triage.engine import ScanOptions, resume_scan, start_scan
from muhafiz.triage.reports import write_report
from muhafiz.triage.reports.data import load_report_data
from muhafiz.triage.reports.sections import sections
from muhafiz.triage.scanfile import check_values, open_readonly, record_rows
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.shards import merge_shards, plan_fanout, scan_shard
from muhafiz.triage.spool import SPOOL_ENV
from muhafiz.triage.tests import diskimages as di
from muhafiz.triage.tests.conftest import Scanner
from muhafiz.triage.tests.phone import PhoneFile, make_ufdr

pytestmark = pytest.mark.skipif(bool(di.missing_tools()), reason="disk-image tools missing")


@dataclass
class Disk:
    raw: Path
    reference: list[di.TskFile]  # p1, as fls/icat extract it
    e01: bytes  # one segment


def _disk(build: Path, files: dict[str, bytes], seed: int) -> Disk:
    build.mkdir()
    noise = {"noise.bin": random.Random(seed).randbytes(200_000)}
    fat = di.fat_fs(build / "p1.fat", 16 * di.MiB, 16, {**files, **noise}, [])
    raw = build / "disk.raw"
    [start] = di.disk(raw, [di.Part(fat, "6", 16 * di.MiB)])
    e01 = di.to_e01(raw, build / "laptop", segment_bytes=64 * di.MiB)
    assert not (build / "laptop.E02").exists()
    return Disk(raw, di.tsk_files(raw, start), e01.read_bytes())


@pytest.fixture(scope="module")
def disk(tmp_path_factory: pytest.TempPathFactory) -> Disk:
    root = tmp_path_factory.mktemp("archived")
    return _disk(root / "build", {"a.txt": b"inside\n", "pics/p.jpg": di.picture(71)}, 1)


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setenv(SPOOL_ENV, str(folder))
    return folder


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _nested(scan_file: Path) -> dict[str, tuple[str, str]]:
    with closing(sqlite3.connect(scan_file)) as conn:
        rows = conn.execute("SELECT path, format, verification FROM nested_images")
        return {path: (fmt, verdict) for path, fmt, verdict in rows}


def test_an_image_in_a_zip_and_a_tar_is_opened_from_a_copy_removed_after(
    tmp_path: Path, scan: Scanner, disk: Disk, spool: Path
) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    raw = disk.raw.read_bytes()
    _zip(folder / "evidence.zip", {"seized/laptop.E01": disk.e01, "notes.txt": b"a note\n"})
    with tarfile.open(folder / "usb.tar.gz", "w:gz") as archive:
        info = tarfile.TarInfo("usb.dd")
        info.size, info.mtime = len(raw), 1_700_000_000
        archive.addfile(info, io.BytesIO(raw))
    result = scan(folder)
    for image in ("evidence/evidence.zip!/seized/laptop.E01", "evidence/usb.tar.gz!/usb.dd"):
        scanned = {  # the image's allocated files: their parent is the member holding them
            path: row
            for path, row in result.files.items()
            if path.startswith(f"{image}!p1/")
            and row["kind"] == "file"
            and not row["deleted"]
            and not row["carved"]
            and row["parent"] == image
        }
        assert sorted(scanned) == sorted(f"{image}!p1/{f.path}" for f in disk.reference), image
        for f in disk.reference:
            row = scanned[f"{image}!p1/{f.path}"]
            assert (row["md5"], row["sha1"], row["sha256"]) == (f.md5, f.sha1, f.sha256)
            assert row["parent"] == image and row["depth"] == 2
        member = result.files[image]  # the member itself, hashed as it lies in the archive
        data = disk.e01 if image.endswith(".E01") else raw
        assert member["sha256"] == hashlib.sha256(data).hexdigest()
        assert result.files[f"{image}!p1/pics/p.jpg"]["pdq"] is not None
    media = result.files["evidence/usb.tar.gz!/usb.dd!media"]
    assert media["sha256"] == hashlib.sha256(raw).hexdigest()
    assert media["mtime"] == result.files["evidence/usb.tar.gz!/usb.dd"]["mtime"]
    assert _nested(result.path) == {
        "evidence/evidence.zip!/seized/laptop.E01": ("EWF image", "match"),
        "evidence/usb.tar.gz!/usb.dd": ("raw disk image", "none-stored"),
    }
    assert not result.errors
    assert list(spool.iterdir()) == []  # every copy removed
    two = scan(folder, workers=2)
    assert record_rows(two.path) == record_rows(result.path)
    # The ZIP given alone, in shards of one member each: the same records as in one process.
    zipped = folder / "evidence.zip"
    header = tmp_path / "header.scan"
    plan = plan_fanout(
        ScanOptions(sources=[zipped], out=tmp_path / "unused.scan"),
        header,
        shard_files=1,
        shard_bytes=1 << 30,
    )
    assert plan is not None and len(plan.shards) == 2
    parts = []
    for number, units in enumerate(plan.shards):
        scan_shard(header, units, tmp_path / f"part-{number}.scan")
        parts.append((tmp_path / f"part-{number}.scan", f"shard {number}"))
    merged = merge_shards(header, parts, tmp_path / "merged.scan").path
    single = start_scan(ScanOptions(sources=[zipped], out=tmp_path / "single.scan")).path
    assert record_rows(merged) == record_rows(single)
    assert _nested(merged) == {"evidence.zip!/seized/laptop.E01": ("EWF image", "match")}
    assert list(spool.iterdir()) == []


def test_a_tampered_image_in_an_archive_is_a_mismatch_and_a_ufdr_gives_device_paths(
    tmp_path: Path, scan: Scanner, disk: Disk, spool: Path
) -> None:
    e01 = bytearray(disk.e01)
    noise = random.Random(1).randbytes(200_000)  # noise.bin of the disk, as _disk wrote it
    at = e01.find(noise[100_000:100_064])
    if at < 0:
        pytest.skip("the noise is not stored uncompressed in the E01")
    e01[at : at + 8] = b"TAMPERED"
    photo = di.picture(72)
    ufdr = make_ufdr(tmp_path / "phone.ufdr", [PhoneFile("/Root/DCIM/Camera/IMG_1.jpg", photo)])
    archive = _zip(
        tmp_path / "case.zip", {"laptop.E01": bytes(e01), "phone/phone.ufdr": ufdr.read_bytes()}
    )
    result = scan(archive)
    assert _nested(result.path) == {
        "case.zip!/laptop.E01": ("EWF image", "mismatch"),
        "case.zip!/phone/phone.ufdr": ("Cellebrite UFDR", ""),  # its device, no hash to check
    }
    assert result.codes("case.zip!/laptop.E01") == ["acquisition-hash-mismatch"]
    # Every report says so: the headline, and each file of the image in the CSV.
    write_report(result.path, "html", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.index("THE DISK IMAGE case.zip!/laptop.E01 (SOURCE 1)") < html.index("Source 1")
    write_report(result.path, "csv", tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(encoding="utf-8", newline="") as f:
        rows = {row["path"]: row for row in csv.DictReader(f)}
    assert rows["case.zip!/laptop.E01!p1/a.txt"]["acquisition_verification"] == "mismatch"
    assert rows["case.zip!/laptop.E01"]["acquisition_verification"] == "mismatch"
    assert rows["case.zip!/phone/phone.ufdr"]["acquisition_verification"] == ""
    camera = result.files["case.zip!/phone/phone.ufdr!/files/Image/0_IMG_1.jpg"]
    assert camera["device_path"] == "Android Logical/Root/DCIM/Camera/IMG_1.jpg"
    assert camera["sha256"] == hashlib.sha256(photo).hexdigest()
    # Read once, by the UFDR source (each member once, none a second time as a plain ZIP's).
    inside = sorted(p for p in result.files if p.startswith("case.zip!/phone/phone.ufdr!"))
    assert inside == [
        "case.zip!/phone/phone.ufdr!/files/Image/0_IMG_1.jpg",
        "case.zip!/phone/phone.ufdr!/report.xml",
    ]
    assert list(spool.iterdir()) == []


def test_an_image_over_the_copy_limit_or_the_free_space_is_hashed_and_not_opened(
    tmp_path: Path, scan: Scanner, disk: Disk, spool: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = _zip(tmp_path / "evidence.zip", {"laptop.E01": disk.e01})
    small = ScanSettings(max_spool_bytes=len(disk.e01) - 1)
    result = scan(archive, settings=small)
    [(code, message)] = result.errors["evidence.zip!/laptop.E01"]
    assert code == "image-in-archive-not-opened"
    assert "max_spool_bytes" in message
    assert not [p for p in result.files if p.startswith("evidence.zip!/laptop.E01!")]
    member = result.files["evidence.zip!/laptop.E01"]
    assert member["sha256"] == hashlib.sha256(disk.e01).hexdigest()
    # Too little free space where the copy would go (the file system asked, as statvfs says).
    monkeypatch.setattr(spool_module, "_free_bytes", lambda root: 100 * 1024 * 1024)
    short = scan(archive)
    [(code, message)] = short.errors["evidence.zip!/laptop.E01"]
    assert code == "image-in-archive-not-opened"
    assert f"not enough free space in {spool}" in message
    assert not [p for p in short.files if p.startswith("evidence.zip!/laptop.E01!")]
    monkeypatch.undo()
    monkeypatch.setenv(SPOOL_ENV, str(spool))
    # A copy left by a process that is gone is removed by the next scan that copies.
    stale = spool / "muhafiz-spool-999999999-x"
    stale.mkdir()
    (stale / "member.E01").write_bytes(b"left behind")
    assert scan(archive).files.get("evidence.zip!/laptop.E01!media") is not None
    assert list(spool.iterdir()) == []


def test_an_image_holding_an_archive_holding_an_image_is_opened_one_level_deep(
    tmp_path: Path, scan: Scanner, disk: Disk, spool: Path
) -> None:
    inner = _zip(tmp_path / "inner.zip", {"inner.dd": disk.raw.read_bytes()})
    outer = _disk(tmp_path / "outer", {"inner.zip": inner.read_bytes()}, 2)
    archive = _zip(tmp_path / "case.zip", {"outer.dd": outer.raw.read_bytes()})
    result = scan(archive)
    member = "case.zip!/outer.dd!p1/inner.zip!/inner.dd"
    assert member in result.files  # found, hashed ...
    assert result.files[member]["sha256"] == hashlib.sha256(disk.raw.read_bytes()).hexdigest()
    assert not [p for p in result.files if p.startswith(f"{member}!")]  # ... never opened
    assert "case.zip!/outer.dd!p1/inner.zip" in result.files
    assert list(_nested(result.path)) == ["case.zip!/outer.dd"]
    assert list(spool.iterdir()) == []
    # The outer image named alone: the ZIP in its file system is read, the image in it hashed
    # and not opened either (nothing inside a disk image is opened as an image).
    alone = scan(outer.raw)
    assert not alone.errors.get("disk.raw!p1/inner.zip")
    held = "disk.raw!p1/inner.zip!/inner.dd"
    assert alone.files[held]["sha256"] == hashlib.sha256(disk.raw.read_bytes()).hexdigest()
    assert not [p for p in alone.files if p.startswith(f"{held}!")]
    assert list(spool.iterdir()) == []


SAMSUNG = (
    "Cellebrite UFDR; Samsung; SM-A515F; name Test Phone; IMEI 356938035643809; extraction Logical"
)


def test_a_ufdr_in_an_archive_keeps_its_device_in_the_scan_file_and_every_report(
    tmp_path: Path, scan: Scanner, spool: Path
) -> None:
    photo = di.picture(73)
    ufdr = make_ufdr(tmp_path / "phone.ufdr", [PhoneFile("/Root/DCIM/Camera/IMG_2.jpg", photo)])
    archive = _zip(tmp_path / "case.zip", {"phone/phone.ufdr": ufdr.read_bytes()})
    result = scan(archive)
    alone = scan(ufdr)  # the same UFDR named as the source: its device in the source record
    with closing(sqlite3.connect(alone.path)) as conn:
        [(source_details,)] = conn.execute("SELECT details FROM sources")
    with closing(sqlite3.connect(result.path)) as conn:
        rows = conn.execute("SELECT path, format, verification, hashes, details FROM nested_images")
        [(path, fmt, verdict, hashes, details)] = rows.fetchall()
    assert (path, fmt, verdict, hashes) == (
        "case.zip!/phone/phone.ufdr", "Cellebrite UFDR", "", "[]"
    )  # fmt: skip
    assert json.loads(details) == json.loads(source_details)
    device = json.loads(details)
    assert (device["make"], device["model"], device["imei"], device["extraction_type"]) == (
        "Samsung", "SM-A515F", "356938035643809", "Logical"
    )  # fmt: skip
    check_values(open_readonly(result.path), result.path)  # as the server checks an upload
    # Every report gives the device beside the extraction, as a UFDR named alone has it.
    write_report(result.path, "csv", tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as f:
        csv_rows = {row["path"]: row for row in csv.DictReader(f)}
    inside = "case.zip!/phone/phone.ufdr!/files/Image/0_IMG_2.jpg"
    assert csv_rows[inside]["extraction_device"] == SAMSUNG
    assert csv_rows["case.zip!/phone/phone.ufdr"]["extraction_device"] == SAMSUNG
    assert csv_rows[inside]["acquisition_verification"] == ""
    assert csv_rows["case.zip"]["extraction_device"] == ""
    write_report(result.path, "html", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    summary = html.split('id="summary"')[1].split("</section>")[0]
    cell = summary.split("<td>Source 1: case.zip!/phone/phone.ufdr device</td>")[1]
    assert escape(SAMSUNG) in cell.split("</tr>")[0]
    assert "phone.ufdr acquisition hashes" not in html
    report = load_report_data(result.path)
    summary_rows = [tuple(r) for r in sections(report)[0].rows]
    assert ("Source 1: case.zip!/phone/phone.ufdr device", SAMSUNG) in summary_rows
    write_report(result.path, "pdf", tmp_path / "r.pdf")
    assert list(spool.iterdir()) == []


def test_a_scan_file_without_the_nested_details_column_is_read_checked_and_resumed(
    tmp_path: Path, scan: Scanner, disk: Disk, spool: Path
) -> None:
    archive = _zip(tmp_path / "evidence.zip", {"laptop.E01": disk.e01})
    result = scan(archive)
    with closing(sqlite3.connect(result.path)) as conn:
        [(details,)] = conn.execute("SELECT details FROM nested_images")
        assert json.loads(details)["volumes"]  # what the image's walk learned
        conn.execute("ALTER TABLE nested_images DROP COLUMN details")  # as written before it
        conn.commit()
    with closing(open_readonly(result.path)) as conn:
        check_values(conn, result.path)
    write_report(result.path, "csv", tmp_path / "old.csv")
    assert load_report_data(result.path).containers[0].verification == "match"
    with closing(sqlite3.connect(result.path)) as conn:  # resumable: the column is added
        conn.execute("UPDATE meta SET value = 'running' WHERE key = 'status'")
        conn.commit()
    resume_scan(result.path)
    with closing(sqlite3.connect(result.path)) as conn:
        [(details,)] = conn.execute("SELECT details FROM nested_images")
    assert details is None  # the row as the older scan wrote it; the column is there again
    with closing(open_readonly(result.path)) as conn:
        check_values(conn, result.path)
