"""Disk images inside a folder (sources.nested): an evidence folder holding a two-segment E01, a
raw image, a QCOW2, an ISO and loose pictures is scanned as if each image had been named as a
source: every file inside, with the nested path, hashed as The Sleuth Kit's icat extracts it;
deleted files flagged; the E01's acquisition hashes verified; damaged images an error on that
image; resumed and sharded scans give the same records; nothing written to the evidence."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pytest

from muhafiz.triage.engine import Passwords, ScanOptions, SourceError, resume_scan, start_scan
from muhafiz.triage.reports import write_report
from muhafiz.triage.reports.data import load_report_data
from muhafiz.triage.reports.sections import sections
from muhafiz.triage.scanfile import open_readonly, record_rows
from muhafiz.triage.shards import merge_shards, plan_fanout, scan_shard
from muhafiz.triage.tests import diskimages as di
from muhafiz.triage.tests.conftest import Scanner
from muhafiz.triage.tests.phone import (
    IOS_PASSWORD,
    IosCrypto,
    PhoneFile,
    ios_file_id,
    make_ios_backup,
    make_ufdr,
)

pytestmark = pytest.mark.skipif(
    bool(di.missing_tools() + ([] if shutil.which("xorriso") else ["xorriso"])),
    reason="disk-image tools missing",
)

MUHAFIZ = [sys.executable, "-m", "muhafiz"]


def _hashes(data: bytes) -> tuple[str, str, str]:
    return (
        hashlib.md5(data).hexdigest(),  # noqa: S324 - forensic identity
        hashlib.sha1(data).hexdigest(),  # noqa: S324
        hashlib.sha256(data).hexdigest(),
    )


@dataclass
class Evidence:
    folder: Path  # the folder the examiner is handed: `evidence`
    sample: di.SampleDisk
    reference: dict[str, list[di.TskFile]]  # "p1" -> what fls/icat give for the sample disk
    iso_reference: list[di.TskFile]
    loose: bytes


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Evidence:
    root = tmp_path_factory.mktemp("nested")
    sample = di.sample_disk(root / "build")
    # Noise in FAT's free space (the sample's own noise is a repeated digest), so that the E01
    # takes more than one 1 MiB segment.
    di.write_at(sample.raw, sample.starts[0] + 6 * di.MiB, random.Random(5).randbytes(3 * di.MiB))
    folder = root / "evidence"
    folder.mkdir()
    di.to_e01(sample.raw, folder / "laptop", segment_bytes=1024 * 1024)
    assert (folder / "laptop.E02").exists(), "the test needs a multi-segment E01"
    shutil.copyfile(sample.raw, folder / "disk.dd")
    (folder / "vm").mkdir()
    di.to_qemu(sample.raw, folder / "vm" / "disk.qcow2", "qcow2")
    tree = root / "isotree"
    (tree / "docs").mkdir(parents=True)
    (tree / "docs" / "a.txt").write_bytes(b"on the disc\n")
    (tree / "pic.jpg").write_bytes(di.picture(9))
    di.run("xorriso", "-outdev", folder / "cd.iso", "-map", tree, "/", "-commit")
    loose = di.picture(11)
    (folder / "pictures").mkdir()
    (folder / "pictures" / "loose.jpg").write_bytes(loose)
    reference = {f"p{n}": di.tsk_files(sample.raw, s) for n, s in enumerate(sample.starts, 1)}
    return Evidence(folder, sample, reference, di.tsk_files(folder / "cd.iso", 0), loose)


def _nested(scan_file: Path) -> dict[str, tuple[str, str, list[list[str]]]]:
    with closing(sqlite3.connect(scan_file)) as conn:
        rows = conn.execute("SELECT path, format, verification, hashes FROM nested_images")
        return {path: (fmt, verdict, json.loads(hashes)) for path, fmt, verdict, hashes in rows}


def test_every_file_in_every_image_in_the_folder_has_the_sleuth_kits_hashes(
    evidence: Evidence, scan: Scanner
) -> None:
    result = scan(evidence.folder)
    for image in ("evidence/laptop.E01", "evidence/disk.dd", "evidence/vm/disk.qcow2"):
        for volume, expected in evidence.reference.items():
            prefix = f"{image}!{volume}/"
            scanned = di.allocated(result, prefix)
            assert sorted(scanned) == sorted(prefix + f.path for f in expected), prefix
            for f in expected:
                row = scanned[prefix + f.path]
                assert (row["md5"], row["sha1"], row["sha256"]) == (f.md5, f.sha1, f.sha256)
    on_disc = di.allocated(result, "evidence/cd.iso!/")
    assert evidence.iso_reference
    assert sorted(on_disc) == sorted(f"evidence/cd.iso!/{f.path}" for f in evidence.iso_reference)
    for f in evidence.iso_reference:
        row = on_disc[f"evidence/cd.iso!/{f.path}"]
        assert (row["md5"], row["sha1"], row["sha256"]) == (f.md5, f.sha1, f.sha256)
    # Each image file is still a file of the folder, hashed as it lies on the disk; every
    # segment too, but only the first opens the set.
    for name in ("laptop.E01", "laptop.E02", "disk.dd", "vm/disk.qcow2", "cd.iso"):
        row = result.files[f"evidence/{name}"]
        data = (evidence.folder / name).read_bytes()
        assert (row["md5"], row["sha1"], row["sha256"]) == _hashes(data), name
    assert not any(p.startswith("evidence/laptop.E02!") for p in result.files)
    # The media, read end to end, under its own path.
    media = result.files["evidence/laptop.E01!media"]
    assert media["md5"] == _hashes(evidence.sample.raw.read_bytes())[0]
    loose = result.files["evidence/pictures/loose.jpg"]
    assert loose["sha256"] == _hashes(evidence.loose)[2] and loose["pdq"] is not None
    # Pictures inside an image are analysed like any picture.
    assert result.files["evidence/vm/disk.qcow2!p2/photos/pic3.png"]["pdq"] is not None


def test_deleted_and_carved_files_inside_a_nested_image_are_flagged(
    evidence: Evidence, scan: Scanner
) -> None:
    result = scan(evidence.folder)
    deleted = {p for p, r in result.files.items() if r["deleted"]}
    assert "evidence/disk.dd!p2/erased.txt" in deleted
    assert "evidence/laptop.E01!p2/erased.txt" in deleted
    gone = [p for p in deleted if p.startswith("evidence/laptop.E01!p1/") and p.endswith("one.jpg")]
    assert len(gone) == 1
    assert result.files[gone[0]]["sha256"] == _hashes(evidence.sample.files["p1/gone.jpg"])[2]
    carved = [
        r
        for r in result.files.values()
        if r["carved"] and r["carved_offset"] == evidence.sample.carved_jpeg_offset
    ]
    assert {r["path"].partition("!")[0] for r in carved} == {
        "evidence/laptop.E01",
        "evidence/disk.dd",
        "evidence/vm/disk.qcow2",
    }


def test_a_nested_e01_has_its_acquisition_hashes_verified_in_the_scan_file_and_report(
    evidence: Evidence, scan: Scanner, tmp_path: Path
) -> None:
    result = scan(evidence.folder)
    nested = _nested(result.path)
    fmt, verdict, hashes = nested["evidence/laptop.E01"]
    assert (fmt, verdict) == ("EWF image", "match")
    assert [(alg, res) for alg, _, _, res in hashes] == [("md5", "match"), ("sha1", "match")]
    assert nested["evidence/disk.dd"][1] == "none-stored"
    assert set(nested) == {
        "evidence/laptop.E01",
        "evidence/disk.dd",
        "evidence/vm/disk.qcow2",
        "evidence/cd.iso",
    }
    write_report(result.path, "html", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "1: evidence/laptop.E01" in html  # its rows in the acquisition-hash section
    assert "Disk images: acquisition hashes" in html
    assert "Disk images: partitions and file systems" in html and "ext4" in html


def _tampered_e01(build: Path, stem: Path) -> Path:
    """An E01 set (`stem`.E01, .E02, ...) of a FAT disk holding noise.bin, a later segment
    changed where the noise lies stored: the image opens, its acquisition hashes do not match."""
    build.mkdir()
    noise = random.Random(7).randbytes(3 * di.MiB)
    fat = di.fat_fs(build / "p1.fat", 16 * di.MiB, 16, {"noise.bin": noise}, [])
    raw = build / "disk.raw"
    di.disk(raw, [di.Part(fat, "6", 16 * di.MiB)])
    e01 = di.to_e01(raw, stem)
    segments = sorted(stem.parent.glob(f"{stem.name}.E*"))
    assert len(segments) >= 2
    needle = noise[2 * di.MiB : 2 * di.MiB + 64]
    for segment in segments[1:]:
        data = segment.read_bytes()
        at = data.find(needle)
        if at >= 0:
            di.write_at(segment, at, b"TAMPERED" * 8)
            return e01
    pytest.fail("the noise was not found stored uncompressed in a later segment")


def test_a_corrupted_nested_segment_is_a_mismatch_headline_and_a_damaged_image_an_error(
    tmp_path: Path, scan: Scanner
) -> None:
    folder = tmp_path / "seized"
    folder.mkdir()
    e01 = _tampered_e01(tmp_path / "build", folder / "seized")
    # Damaged images: one whose headers open but whose data is cut off, one that cannot be
    # opened at all (its first sections, then noise).
    (folder / "broken.E01").write_bytes(e01.read_bytes()[:4096])
    head = e01.read_bytes()[:200]
    (folder / "garbage.E01").write_bytes(head + random.Random(2).randbytes(64 * 1024))
    (folder / "kept.jpg").write_bytes(di.picture(12))
    result = scan(folder)
    assert _nested(result.path)["seized/seized.E01"][1] == "mismatch"
    assert result.codes("seized/seized.E01") == ["acquisition-hash-mismatch"]
    assert result.codes("seized/garbage.E01") == ["unreadable"]
    assert "cannot be opened" in result.errors["seized/garbage.E01"][0][1]
    assert "seized/garbage.E01" not in _nested(result.path)
    assert result.codes("seized/broken.E01!media") == ["unreadable"]
    for name in ("broken.E01", "garbage.E01"):  # still hashed as files
        assert result.files[f"seized/{name}"]["sha256"] is not None
    assert result.files["seized/kept.jpg"]["pdq"] is not None  # the rest is scanned
    assert "seized/seized.E01!p1/noise.bin" in result.files
    write_report(result.path, "html", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.index("does not match its acquisition hash") < html.index("<h2>Summary")
    assert "THE DISK IMAGE seized/seized.E01 (SOURCE 1) DOES NOT MATCH" in html
    write_report(result.path, "pdf", tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").stat().st_size > 0


def _done(scan_file: Path) -> int:
    if not scan_file.exists():
        return 0
    try:
        with closing(sqlite3.connect(scan_file, timeout=5)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM files").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_kill_9_then_resume_and_shards_give_the_single_process_records(
    evidence: Evidence, scan: Scanner, tmp_path: Path
) -> None:
    straight = tmp_path / "straight.scan"
    total = len(scan(evidence.folder, out=straight).files)
    out = tmp_path / "killed.scan"
    env = {**os.environ, "MUHAFIZ_SCAN_DELAY_MS": "100"}
    process = subprocess.Popen(
        [*MUHAFIZ, "scan", str(evidence.folder), "--out", str(out), "--quiet", "--workers",
         "1", "--case", "TEST-1", "--examiner", "Test Examiner"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while _done(out) < 20 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert 20 <= _done(out) < total, "the scan should have stopped half-way"
    resumed = subprocess.run(
        [*MUHAFIZ, "scan", "--resume", str(out), "--quiet", "--workers", "2"],
        capture_output=True,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert record_rows(out) == record_rows(straight)
    # In shards: each image's files are units of the list, cut into ranges.
    header = tmp_path / "header.scan"
    options = ScanOptions(sources=[evidence.folder], out=tmp_path / "unused.scan")
    plan = plan_fanout(options, header, shard_files=6, shard_bytes=1 << 30)
    assert plan is not None and len(plan.shards) > 3
    parts = []
    for number, units in enumerate(plan.shards):
        part = tmp_path / f"part-{number}.scan"
        scan_shard(header, units, part)
        parts.append((part, f"shard {number}"))
    random.Random(3).shuffle(parts)
    merged = merge_shards(header, parts, tmp_path / "merged.scan").path
    single = start_scan(ScanOptions(sources=[evidence.folder], out=tmp_path / "single.scan"))
    assert record_rows(merged) == record_rows(single.path)
    with closing(open_readonly(merged)) as conn:
        verdict = conn.execute(
            "SELECT verification FROM nested_images WHERE path = 'evidence/laptop.E01'"
        ).fetchone()[0]
    assert verdict == "match"


def test_nothing_is_written_to_the_evidence(evidence: Evidence, scan: Scanner) -> None:
    files = sorted(p for p in evidence.folder.rglob("*") if p.is_file())
    for path in files:  # as a fresh copy is: atime = mtime, which relatime would update
        st = path.stat()
        os.utime(path, ns=(st.st_mtime_ns, st.st_mtime_ns))
    before = di.evidence_state(files)
    scan(evidence.folder, workers=2)
    assert di.evidence_state(files) == before


def test_a_ufdr_in_the_folder_gives_device_paths_and_flags_a_stored_hash_mismatch(
    tmp_path: Path, scan: Scanner
) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    photo = di.picture(21)
    ufdr = make_ufdr(
        folder / "phone.ufdr",
        [
            PhoneFile("/Root/DCIM/Camera/IMG_1.jpg", photo),
            PhoneFile("/Root/DCIM/b.jpg", di.picture(22), deleted=True, stored_md5="cd" * 16),
        ],
    )
    (folder / "loose.jpg").write_bytes(di.picture(23))
    own_hashes = _hashes(ufdr.read_bytes())  # before the scans: reading it sets its atime
    result = scan(folder)
    alone = scan(ufdr)  # the same extraction named as the source
    inside = {p.removeprefix("evidence/"): r for p, r in result.files.items() if "!" in p}
    assert sorted(inside) == sorted(p for p in alone.files if p != "phone.ufdr")
    keys = ("device_path", "deleted", "md5", "sha1", "sha256", "pdq", "mtime", "created")
    for path, row in inside.items():
        assert {k: row[k] for k in keys} == {k: alone.files[path][k] for k in keys}, path
    camera = result.files["evidence/phone.ufdr!/files/Image/0_IMG_1.jpg"]
    assert camera["device_path"] == "Android Logical/Root/DCIM/Camera/IMG_1.jpg"
    assert camera["sha256"] == _hashes(photo)[2]
    assert result.codes("evidence/phone.ufdr!/files/Image/1_b.jpg") == ["stored-hash-mismatch"]
    # The extraction's own file is hashed as a file, not expanded a second time as a ZIP.
    own = result.files["evidence/phone.ufdr"]
    assert (own["md5"], own["sha1"], own["sha256"]) == own_hashes
    assert not [r for r in result.files.values() if r["parent"] == "evidence/phone.ufdr"]
    assert result.files["evidence/loose.jpg"]["pdq"] is not None
    # In shards, the same records.
    header = tmp_path / "header.scan"
    options = ScanOptions(sources=[folder], out=tmp_path / "unused.scan")
    plan = plan_fanout(options, header, shard_files=1, shard_bytes=1 << 30)
    assert plan is not None
    parts = []
    for number, units in enumerate(plan.shards):
        scan_shard(header, units, tmp_path / f"part-{number}.scan")
        parts.append((tmp_path / f"part-{number}.scan", f"shard {number}"))
    merged = merge_shards(header, parts, tmp_path / "merged.scan").path
    assert record_rows(merged) == record_rows(result.path)


def test_an_ios_backup_folder_in_the_folder_gives_device_paths_as_if_named_alone(
    tmp_path: Path, scan: Scanner
) -> None:
    folder = tmp_path / "evidence"
    photo = di.picture(31)
    backup = make_ios_backup(
        folder / "phones" / "00008110-000A",
        [
            ("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.JPG", photo),
            ("HomeDomain", "Library/notes.txt", b"a note\n"),
        ],
    )
    (folder / "loose.jpg").write_bytes(di.picture(32))
    result = scan(folder)
    alone = scan(backup)
    inside = {
        p.removeprefix("evidence/phones/"): r
        for p, r in result.files.items()
        if p.startswith("evidence/phones/")
    }
    assert sorted(inside) == sorted(alone.files)
    keys = ("device_path", "md5", "sha1", "sha256", "pdq", "mtime")
    for path, row in inside.items():
        assert {k: row[k] for k in keys} == {k: alone.files[path][k] for k in keys}, path
    file_id = ios_file_id("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.JPG")
    row = result.files[f"evidence/phones/00008110-000A/{file_id[:2]}/{file_id}"]
    assert row["device_path"] == "CameraRollDomain/Media/DCIM/100APPLE/IMG_0001.JPG"
    assert row["sha256"] == _hashes(photo)[2]
    assert result.files["evidence/loose.jpg"]["pdq"] is not None
    header = tmp_path / "header.scan"
    options = ScanOptions(sources=[folder], out=tmp_path / "unused.scan")
    plan = plan_fanout(options, header, shard_files=2, shard_bytes=1 << 30)
    assert plan is not None
    parts = []
    for number, units in enumerate(plan.shards):
        scan_shard(header, units, tmp_path / f"part-{number}.scan")
        parts.append((tmp_path / f"part-{number}.scan", f"shard {number}"))
    merged = merge_shards(header, parts, tmp_path / "merged.scan").path
    assert record_rows(merged) == record_rows(result.path)


def _csv_rows(scan_file: Path, out: Path) -> dict[str, dict[str, str]]:
    write_report(scan_file, "csv", out)
    with out.open(encoding="utf-8-sig", newline="") as f:
        return {row["path"]: row for row in csv.DictReader(f)}


def test_every_report_gives_each_nested_images_verification_and_each_extractions_device(
    tmp_path: Path, scan: Scanner
) -> None:
    folder = tmp_path / "seized"
    folder.mkdir()
    _tampered_e01(tmp_path / "build", folder / "tampered")
    build = tmp_path / "intact-build"
    build.mkdir()
    fat = di.fat_fs(build / "p1.fat", 16 * di.MiB, 16, {"note.txt": b"kept as acquired\n"}, [])
    raw = build / "disk.raw"
    di.disk(raw, [di.Part(fat, "6", 16 * di.MiB)])
    di.to_e01(raw, folder / "intact")
    shutil.copyfile(raw, folder / "usb.dd")  # a raw image: no acquisition hash stored
    make_ufdr(folder / "phone.ufdr", [PhoneFile("/Root/DCIM/a.jpg", di.picture(41))])
    make_ios_backup(
        folder / "iphone" / "0000-ABC",
        [("CameraRollDomain", "Media/DCIM/100APPLE/IMG_1.JPG", di.picture(42))],
    )
    (folder / "loose.jpg").write_bytes(di.picture(43))
    alone = make_ufdr(tmp_path / "alone.ufdr", [PhoneFile("/Root/b.jpg", di.picture(44))])
    result = scan(folder, alone)

    rows = _csv_rows(result.path, tmp_path / "r.csv")
    verdicts = {
        "seized/tampered.E01": "mismatch",  # the image file itself and every file inside it
        "seized/tampered.E01!p1/noise.bin": "mismatch",
        "seized/tampered.E01!media": "mismatch",
        "seized/intact.E01": "match",
        "seized/intact.E01!p1/note.txt": "match",
        "seized/usb.dd": "none-stored",
        "seized/usb.dd!p1/note.txt": "none-stored",
        "seized/loose.jpg": "",
        "seized/phone.ufdr!/files/Image/0_a.jpg": "",
    }
    assert {p: rows[p]["acquisition_verification"] for p in verdicts} == verdicts
    samsung = (
        "Cellebrite UFDR; Samsung; SM-A515F; name Test Phone; IMEI 356938035643809; "
        "extraction Logical"
    )
    iphone_file = next(p for p in rows if p.startswith("seized/iphone/0000-ABC/"))
    devices = {
        "seized/phone.ufdr": samsung,
        "seized/phone.ufdr!/files/Image/0_a.jpg": samsung,
        iphone_file: "iOS backup; Apple; iPhone14,2; name Test iPhone; IMEI 356938035643810; "
        "serial F2LTESTSERIAL; iOS 17.4",
        "alone.ufdr!/files/Image/0_b.jpg": samsung,  # a UFDR named as a source: the same
        "seized/loose.jpg": "",
        "seized/intact.E01!p1/note.txt": "",
    }
    assert {p: rows[p]["extraction_device"] for p in devices} == devices

    write_report(result.path, "html", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    summary = html.split('id="summary"')[1].split("</section>")[0]
    assert html.index("THE DISK IMAGE seized/tampered.E01 (SOURCE 1)") < html.index("Source 1:")
    expected = [
        ("Source 1: seized/intact.E01 acquisition hashes", "MATCH: the media read"),
        ("Source 1: seized/tampered.E01 acquisition hashes", "MISMATCH: the media differs"),
        ("Source 1: seized/usb.dd acquisition hashes", "none stored in the image"),
        ("Source 1: seized/phone.ufdr device", samsung),
        ("Source 1: seized/iphone/0000-ABC device", "IMEI 356938035643810"),
        ("Source 2 device", samsung),
    ]
    for label, text in expected:
        cell = summary.split(f"<td>{escape(label)}</td>")[1].split("</tr>")[0]
        assert escape(text) in cell, label
    # The PDF draws the same sections: the headline first, the same lines in its summary.
    summary_rows = [tuple(r) for r in sections(load_report_data(result.path))[0].rows]
    assert summary_rows[0][0] == "EVIDENCE INTEGRITY"
    assert "seized/tampered.E01" in summary_rows[0][1]
    assert ("Source 1: seized/phone.ufdr device", samsung) in summary_rows
    write_report(result.path, "pdf", tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")


class _StopAfter:
    """Progress that presses Ctrl-C after `files` files: a scan interrupted half-way."""

    def __init__(self, files: int) -> None:
        self.left = files

    def start(self, total_files: int, total_bytes: int, done_files: int, done_bytes: int) -> None:
        pass

    def advance(self, files: int, nbytes: int) -> None:
        self.left -= files
        if self.left <= 0:
            raise KeyboardInterrupt


def test_encrypted_ios_backups_in_the_folder_are_read_with_the_passwords_given(
    tmp_path: Path, scan: Scanner
) -> None:
    folder = tmp_path / "evidence"
    plain = {
        ("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0001.JPG"): di.picture(51),
        ("HomeDomain", "Library/notes.txt"): b"a note\n",
    }
    files = [(d, r, data) for (d, r), data in plain.items()]
    backup = make_ios_backup(folder / "phones" / "locked", files, encrypted=True)
    other = IosCrypto(password=b"another backup's password")
    make_ios_backup(folder / "phones" / "other", files, crypto=other)
    (folder / "loose.jpg").write_bytes(di.picture(53))
    given = Passwords((b"not this one", IOS_PASSWORD))
    result = scan(folder, passwords=given)

    # The backup the password unlocks reads as if named alone with it: plaintext hashes.
    alone = scan(backup, passwords=Passwords((IOS_PASSWORD,)))
    inside = {
        p.removeprefix("evidence/phones/"): r
        for p, r in result.files.items()
        if p.startswith("evidence/phones/locked/")
    }
    assert sorted(inside) == sorted(alone.files)
    keys = ("device_path", "size", "md5", "sha1", "sha256", "pdq", "mtime", "created")
    for path, row in inside.items():
        assert {k: row[k] for k in keys} == {k: alone.files[path][k] for k in keys}, path
    by_device = {r["device_path"]: r for r in inside.values() if r["device_path"]}
    for (domain, relative), data in plain.items():
        assert by_device[f"{domain}/{relative}"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert not [p for p in result.errors if p.startswith("evidence/phones/locked/")]

    # The other: none of the passwords unlocks it, which is recorded; its files stay unread.
    assert result.codes("evidence/phones/other/Manifest.plist") == ["wrong-password"]
    assert "wrong backup password" in result.errors["evidence/phones/other/Manifest.plist"][0][1]
    assert result.codes("evidence/phones/other/Manifest.db") == ["encrypted-backup"]
    stored = [
        r for p, r in result.files.items() if p.startswith("evidence/phones/other/") and "/" in
        p.removeprefix("evidence/phones/other/")
    ]  # fmt: skip
    assert len(stored) == len(plain)
    assert all(r["sha256"] is None and r["device_path"] is None for r in stored)
    assert result.files["evidence/loose.jpg"]["pdq"] is not None
    with closing(open_readonly(result.path)) as conn:
        details = json.loads(conn.execute("SELECT details FROM sources").fetchone()[0])
    nested = details["nested_images"]
    assert (nested["evidence/phones/locked"]["decrypted"], nested["evidence/phones/other"]
            .get("password_rejected")) == (True, True)  # fmt: skip
    assert "password_rejected" not in nested["evidence/phones/locked"]
    rows = _csv_rows(result.path, tmp_path / "r.csv")
    assert "decrypted with the password given" in rows[by_device[
        "HomeDomain/Library/notes.txt"]["path"]]["extraction_device"]  # fmt: skip
    assert "the password given does not unlock it" in rows[
        "evidence/phones/other/Manifest.db"]["extraction_device"]  # fmt: skip

    # Workers inherit the unlocked keys; no password or key reaches the scan file.
    two = scan(folder, passwords=given, workers=2)
    assert record_rows(two.path) == record_rows(result.path)
    for scan_file in (result.path, two.path):
        assert IOS_PASSWORD not in scan_file.read_bytes()
        assert b"not this one" not in scan_file.read_bytes()
    # Without passwords both are listed as encrypted, and no password is said to be wrong.
    locked = scan(folder)
    assert not [p for p in locked.errors if "wrong-password" in locked.codes(p)]
    assert locked.codes("evidence/phones/locked/Manifest.db") == ["encrypted-backup"]


def test_a_scan_with_an_encrypted_backup_in_the_folder_resumes_only_as_it_began(
    tmp_path: Path, scan: Scanner
) -> None:
    folder = tmp_path / "evidence"
    files = [("CameraRollDomain", f"Media/DCIM/IMG_{i:04d}.JPG", di.picture(60 + i))
             for i in range(12)]  # fmt: skip
    make_ios_backup(folder / "phones" / "locked", files, encrypted=True)
    given = Passwords((IOS_PASSWORD,))
    out = tmp_path / "stopped.scan"
    options = ScanOptions(sources=[folder], out=out, passwords=given)
    stopped = start_scan(options, _StopAfter(5))
    assert not stopped.complete
    with pytest.raises(SourceError, match="was decrypted when the scan began: give its password"):
        resume_scan(out)
    assert resume_scan(out, passwords=given).complete
    straight = scan(folder, passwords=given)
    assert record_rows(out) == record_rows(straight.path)
    # Begun without the password, a scan does not resume decrypted (the records would mix).
    out = tmp_path / "plain.scan"
    assert not start_scan(ScanOptions(sources=[folder], out=out), _StopAfter(3)).complete
    with pytest.raises(SourceError, match="scanned without a password that unlocks it"):
        resume_scan(out, passwords=given)
    assert resume_scan(out).complete
