"""Disk images: every image format and file system against The Sleuth Kit's own extraction,
deleted and carved files, EWF acquisition hashes, damaged partitions, resume, read-only."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from muhafiz.triage.reports import write_report
from muhafiz.triage.scanfile import record_rows
from muhafiz.triage.tests import diskimages as di
from muhafiz.triage.tests.conftest import Scanner, ScanResult

pytestmark = pytest.mark.skipif(
    bool(di.missing_tools()), reason=f"disk-image tools missing: {di.missing_tools()}"
)

MUHAFIZ = [sys.executable, "-m", "muhafiz"]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Images:
    sample: di.SampleDisk
    reference: dict[str, list[di.TskFile]]  # "p1" -> what fls/icat give
    formats: dict[str, Path]


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Images:
    folder = tmp_path_factory.mktemp("disk")
    sample = di.sample_disk(folder / "build")
    raw = sample.raw
    reference = {f"p{n}": di.tsk_files(raw, s) for n, s in enumerate(sample.starts, start=1)}
    out = folder / "images"
    out.mkdir()
    formats = {
        "raw": raw,
        "split raw": di.split_raw(raw, out / "split", 8 * di.MiB),
        "e01": di.to_e01(raw, out / "laptop"),
        "vmdk": di.to_qemu(raw, out / "disk.vmdk", "vmdk"),
        "vhd": di.to_qemu(raw, out / "disk.vhd", "vpc"),
        "vhdx": di.to_qemu(raw, out / "disk.vhdx", "vhdx"),
        "qcow2": di.to_qemu(raw, out / "disk.qcow2", "qcow2"),
    }
    return Images(sample, reference, formats)


def _assert_same_as_tsk(
    result: ScanResult, label: str, reference: dict[str, list[di.TskFile]]
) -> None:
    for volume, expected in reference.items():
        prefix = f"{label}!{volume}/"
        scanned = di.allocated(result, prefix)
        assert expected, f"The Sleuth Kit found no files in {volume}"
        assert sorted(scanned) == sorted(prefix + f.path for f in expected)
        for f in expected:
            row = scanned[prefix + f.path]
            assert (row["md5"], row["sha1"], row["sha256"]) == (f.md5, f.sha1, f.sha256), f.path


@pytest.mark.parametrize("kind", ["raw", "split raw", "e01", "vmdk", "vhd", "vhdx", "qcow2"])
def test_every_allocated_file_has_the_hashes_the_sleuth_kit_extracts(
    images: Images, scan: Scanner, kind: str
) -> None:
    image = images.formats[kind]
    result = scan(image)
    _assert_same_as_tsk(result, image.name, images.reference)
    # The media itself is hashed end to end (for EWF: what the acquisition hashes cover).
    media = result.files[image.name]
    raw_bytes = images.sample.raw.read_bytes()
    if kind == "e01":  # the acquisition hashes' algorithms: MD5 and SHA-1
        assert media["md5"] == hashlib.md5(raw_bytes).hexdigest()  # noqa: S324
    elif kind != "vhd":  # qemu rounds a VHD up to whole cylinders: more media than the raw
        assert media["sha256"] == _sha256(raw_bytes)


def test_paths_say_image_partition_path_and_file_system_times_have_their_zone(
    images: Images, scan: Scanner
) -> None:
    result = scan(images.formats["e01"])
    ext = result.files["laptop.E01!p2/photos/pic3.png"]
    assert ext["sha256"] == _sha256(images.sample.files["p2/photos/pic3.png"])
    assert ext["pdq"] is not None  # analysed like any picture
    assert ext["time_zone"] == "UTC" and ext["timestamps_reliable"] == 1
    assert ext["mtime"].endswith("Z") and ext["created"] and ext["inode"]
    fat = result.files["laptop.E01!p1/DCIM/pic1.jpg"]
    assert "no zone" in fat["time_zone"] and not fat["mtime"].endswith("Z")


def test_deleted_files_the_file_system_still_lists_are_recorded_and_flagged(
    images: Images, scan: Scanner
) -> None:
    result = scan(images.formats["raw"])
    deleted = {p: r for p, r in result.files.items() if r["deleted"]}
    # FAT keeps a deleted entry with its first letter overwritten; its clusters are still there.
    fat = [r for p, r in deleted.items() if p.startswith("disk.raw!p1/") and p.endswith("one.jpg")]
    assert len(fat) == 1
    assert fat[0]["sha256"] == _sha256(images.sample.files["p1/gone.jpg"])
    assert "disk.raw!p2/erased.txt" in deleted
    assert not any(r["deleted"] for p, r in result.files.items() if p.endswith("notes.txt"))


def test_pictures_are_carved_from_unallocated_and_unpartitioned_space_at_their_offsets(
    images: Images, scan: Scanner
) -> None:
    sample = images.sample
    result = scan(images.formats["e01"])
    carved = {r["carved_offset"]: r for r in result.files.values() if r["carved"]}
    jpeg = carved[sample.carved_jpeg_offset]
    assert jpeg["sha256"] == _sha256(sample.carved_jpeg)
    assert jpeg["mime"] == "image/jpeg" and jpeg["pdq"] is not None
    assert jpeg["path"].startswith("laptop.E01!p1/$Unalloc/")
    assert jpeg["path"].endswith(f"!/{sample.carved_jpeg_offset}.jpg")
    png = carved[sample.carved_png_offset]
    assert png["sha256"] == _sha256(sample.carved_png)
    assert png["path"].startswith("laptop.E01!unpartitioned/")
    # Allocated pictures are not carved again.
    allocated = {r["sha256"] for r in di.allocated(result, "laptop.E01!").values()}
    assert not any(r["sha256"] in allocated for r in carved.values())


def test_a_carved_picture_matches_a_bank_like_any_file(
    images: Images, scan: Scanner, tmp_path: Path
) -> None:
    bank = tmp_path / "known.sha256"
    bank.write_text(f"{_sha256(images.sample.carved_jpeg)}  known-picture\n")
    result = scan(images.formats["raw"], banks=[bank])
    offset = images.sample.carved_jpeg_offset
    carved = [r["path"] for r in result.files.values() if r["carved_offset"] == offset]
    assert {m["path"] for m in result.matches} == set(carved)


def _verification(scan_file: Path) -> tuple[str, list[tuple[str, str, str, str]]]:
    conn = sqlite3.connect(scan_file)
    try:
        verdict = conn.execute("SELECT verification FROM sources").fetchone()[0]
        rows = conn.execute(
            "SELECT algorithm, stored, computed, result FROM image_hashes ORDER BY algorithm"
        ).fetchall()
    finally:
        conn.close()
    return verdict, rows


def test_an_intact_e01_matches_its_acquisition_hashes(images: Images, scan: Scanner) -> None:
    result = scan(images.formats["e01"])
    verdict, rows = _verification(result.path)
    assert verdict == "match"
    assert [(alg, res) for alg, _, _, res in rows] == [("md5", "match"), ("sha1", "match")]
    assert rows[0][1] == hashlib.md5(images.sample.raw.read_bytes()).hexdigest()  # noqa: S324
    raw_verdict, _ = _verification(scan(images.formats["raw"]).path)
    assert raw_verdict == "none-stored"


def test_a_corrupted_e01_segment_is_an_acquisition_hash_mismatch(
    tmp_path: Path, scan: Scanner
) -> None:
    noise = random.Random(7).randbytes(3 * di.MiB)
    fat = di.fat_fs(tmp_path / "p1.fat", 16 * di.MiB, 16, {"noise.bin": noise}, [])
    raw = tmp_path / "disk.raw"
    di.disk(raw, [di.Part(fat, "6", 16 * di.MiB)])
    e01 = di.to_e01(raw, tmp_path / "seized")
    segments = sorted(tmp_path.glob("seized.E*"))
    assert len(segments) >= 2, "the test needs a multi-segment image"
    needle = noise[2 * di.MiB : 2 * di.MiB + 64]
    for segment in segments:
        data = segment.read_bytes()
        at = data.find(needle)
        if at >= 0 and segment != segments[0]:
            di.write_at(segment, at, b"TAMPERED" * 8)
            break
    else:
        pytest.fail("the noise was not found stored uncompressed in a later segment")
    result = scan(e01)
    verdict, rows = _verification(result.path)
    assert verdict == "mismatch"
    assert {res for *_, res in rows} == {"mismatch"}
    assert result.codes("seized.E01") == ["acquisition-hash-mismatch"]
    # A headline in every human-readable report: before any match or file is listed.
    write_report(result.path, "html", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert html.index("does not match its acquisition hash") < html.index("<h2>Summary")
    assert "DOES NOT MATCH ITS ACQUISITION HASH" in html
    write_report(result.path, "pdf", tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").stat().st_size > 0


def test_reports_show_image_partition_path_deleted_and_carved(
    images: Images, scan: Scanner, tmp_path: Path
) -> None:
    sample = images.sample
    bank = tmp_path / "known.sha256"
    bank.write_text(
        f"{_sha256(sample.carved_jpeg)}  carved\n{_sha256(sample.files['p1/gone.jpg'])}  gone\n"
    )
    result = scan(images.formats["e01"], banks=[bank])
    write_report(result.path, "csv", tmp_path / "r.csv")
    rows = list(csv.DictReader((tmp_path / "r.csv").read_text(encoding="utf-8").splitlines()))
    carved = [r for r in rows if r["carved_offset"] == str(sample.carved_jpeg_offset)]
    assert carved and carved[0]["carved"] == "1" and carved[0]["match_bank"] == "known"
    deleted = [r for r in rows if r["deleted"] == "1" and r["path"].endswith("one.jpg")]
    assert deleted and deleted[0]["match_bank"] == "known"
    assert deleted[0]["path"].startswith("laptop.E01!p1/")
    write_report(result.path, "html", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert f"carved at byte {sample.carved_jpeg_offset}" in html
    assert "Disk images: partitions and file systems" in html and "ext4" in html
    assert "MATCH: the media read in this scan" in html
    write_report(result.path, "vics", tmp_path / "r.json")
    vics = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    media_files = [f for m in vics["value"][0]["Media"] for f in m["MediaFiles"]]
    assert any(f["Unallocated"] for f in media_files)
    assert any(f["Deleted"] for f in media_files)


def test_an_image_that_cannot_be_opened_is_an_error_not_a_crash(
    images: Images, scan: Scanner, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.E01"
    broken.write_bytes(images.formats["e01"].read_bytes()[:4096])
    result = scan(broken)
    assert result.codes("broken.E01") == ["unreadable"]


def test_a_damaged_partition_is_an_error_and_the_others_are_still_scanned(
    tmp_path: Path, scan: Scanner
) -> None:
    fat = di.fat_fs(tmp_path / "p2.fat", 16 * di.MiB, 16, {"kept.txt": b"still here\n"}, [])
    raw = tmp_path / "damaged.dd"
    garbage = random.Random(3).randbytes(4096)
    di.disk(raw, [di.Part(None, "83", 4 * di.MiB, garbage), di.Part(fat, "6", 16 * di.MiB)])
    result = scan(raw)
    assert result.codes("damaged.dd!p1") == ["file-system-unreadable"]
    assert result.files["damaged.dd!p2/kept.txt"]["sha256"] == _sha256(b"still here\n")


def test_file_systems_fat12_fat32_ntfs_with_streams_and_exfat_on_gpt(
    tmp_path: Path, scan: Scanner
) -> None:
    pic = di.picture(11)
    f12 = di.fat_fs(tmp_path / "f12", 4 * di.MiB, 12, {"x/a.jpg": pic}, [])
    f32 = di.fat_fs(tmp_path / "f32", 34 * di.MiB, 32, {"y/b.txt": b"fat32\n", "c.jpg": pic}, [])
    ntfs = di.ntfs_fs(
        tmp_path / "ntfs",
        8 * di.MiB,
        {"doc.txt": b"ntfs file\n", "pic.jpg": pic},
        {("doc.txt", "hidden"): b"a stream hidden beside doc.txt\n"},
    )
    exfat = tmp_path / "exfat"
    di.run("truncate", "-s", str(8 * di.MiB), exfat)
    di.run("mkfs.exfat", exfat)
    raw = tmp_path / "gpt.img"
    parts = [
        di.Part(f12, "0700", 4 * di.MiB),
        di.Part(f32, "0700", 34 * di.MiB),
        di.Part(ntfs, "0700", 8 * di.MiB),
        di.Part(exfat, "0700", 8 * di.MiB),
    ]
    starts = di.disk(raw, parts, gpt=True)
    for part in parts:
        assert part.fs is not None
        part.fs.unlink()
    reference = {f"p{n}": di.tsk_files(raw, s) for n, s in enumerate(starts, start=1)}
    result = scan(raw)
    _assert_same_as_tsk(result, "gpt.img", reference)
    stream = result.files["gpt.img!p3/doc.txt:hidden"]
    assert stream["sha256"] == _sha256(b"a stream hidden beside doc.txt\n")
    conn = sqlite3.connect(result.path)
    details = conn.execute("SELECT details FROM sources").fetchone()[0]
    conn.close()
    for fs in ('"fat12"', '"fat32"', '"ntfs"', '"exfat"', '"gpt"'):
        assert fs in details


def _done(out: Path) -> int:
    if not out.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{out.as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return int(
                conn.execute("SELECT COUNT(*) FROM files WHERE parent IS NULL").fetchone()[0]
            )
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_kill_9_during_an_image_scan_then_resume_gives_the_uninterrupted_records(
    images: Images, scan: Scanner, tmp_path: Path
) -> None:
    image = images.formats["e01"]
    out = tmp_path / "killed.scan"
    env = {**os.environ, "MUHAFIZ_SCAN_DELAY_MS": "150"}
    process = subprocess.Popen(
        [*MUHAFIZ, "scan", str(image), "--out", str(out), "--quiet", "--workers", "1",
         "--case", "TEST-1", "--examiner", "Test Examiner"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while _done(out) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    total = len(scan(image, out=tmp_path / "straight.scan").files)
    assert 4 <= _done(out) < total, "the scan should have stopped half-way"
    resumed = subprocess.run(
        [*MUHAFIZ, "scan", "--resume", str(out), "--quiet", "--workers", "2"],
        capture_output=True,
        check=False,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert record_rows(out) == record_rows(tmp_path / "straight.scan")


def test_nothing_is_written_to_the_evidence(images: Images, scan: Scanner) -> None:
    e01 = images.formats["e01"]
    evidence = [*sorted(e01.parent.glob("laptop.E*")), images.formats["qcow2"]]
    for path in evidence:  # as a fresh copy is: atime = mtime, which relatime would update
        st = path.stat()
        os.utime(path, ns=(st.st_mtime_ns, st.st_mtime_ns))
    before = di.evidence_state(evidence)
    scan(e01, workers=2)
    scan(images.formats["qcow2"])
    assert di.evidence_state(evidence) == before


def test_only_whole_decodable_pictures_are_carved_from_hostile_free_space(
    tmp_path: Path, scan: Scanner
) -> None:
    fat = di.fat_fs(tmp_path / "p1.fat", 16 * di.MiB, 16, {"a.txt": b"a\n"}, [])
    raw = tmp_path / "hostile.dd"
    (start,) = di.disk(raw, [di.Part(fat, "6", 16 * di.MiB)])
    good = di.picture(21)
    png = di.picture(22, png=True)
    rng = random.Random(5)
    fakes = [
        good[: len(good) // 2],  # a JPEG cut in half: no end marker
        b"\xff\xd8\xff\xe0" + rng.randbytes(5000),  # a JPEG header and noise
        png[:40] + b"\x00" * 4 + png[44:],  # a PNG with a broken chunk CRC
        b"\x89PNG\r\n\x1a\n" + rng.randbytes(3000),
        good[:600] + rng.randbytes(len(good) - 1200) + good[-600:],  # right ends, wrong middle
    ]
    offsets = [start + 4 * di.MiB + n * 256 * 1024 for n in range(len(fakes) + 1)]
    for offset, data in zip(offsets, [*fakes, good], strict=True):
        di.write_at(raw, offset, data)
    result = scan(raw)
    carved = {r["carved_offset"]: r for r in result.files.values() if r["carved"]}
    assert set(carved) == {offsets[-1]}
    assert carved[offsets[-1]]["sha256"] == _sha256(good)
    assert not any(code == "internal-error" for e in result.errors.values() for code, _ in e)


def test_ntfs_deletions_and_orphans_are_listed_as_the_sleuth_kit_lists_them(
    tmp_path: Path, scan: Scanner
) -> None:
    """A file and a whole folder deleted on a real NTFS (mounted with ntfs-3g): each deleted file
    The Sleuth Kit lists (`fls -r -d`, in its folder or under $OrphanFiles) is recorded, flagged
    deleted, with the bytes icat extracts; the live files are not flagged."""
    gone, inner = di.picture(21), di.picture(22)
    files = {
        "Users/alice/Pictures/kept.jpg": di.picture(20),
        "Users/alice/Pictures/gone.jpg": gone,
        "trash/sub/inner.jpg": inner,
        "trash/a.txt": b"in a folder deleted whole\n",
    }
    try:
        ntfs = di.ntfs_with_deletions(
            tmp_path / "ntfs", 16 * di.MiB, files, ["Users/alice/Pictures/gone.jpg", "trash"]
        )
    except di.MountUnavailableError as exc:
        pytest.skip(str(exc))
    raw = tmp_path / "win.img"
    [start] = di.disk(raw, [di.Part(ntfs, "7", 16 * di.MiB)])
    reference = di.tsk_deleted(raw, start)
    assert "Users/alice/Pictures/gone.jpg" in reference and "trash/sub/inner.jpg" in reference
    assert any(name.startswith("$OrphanFiles/") for name in reference)
    result = scan(raw)
    deleted = {
        path.removeprefix("win.img!p1/"): row
        for path, row in result.files.items()
        if row["deleted"] and row["parent"] is None
    }
    assert sorted(deleted) == sorted(reference)
    for name, sha256 in reference.items():
        assert sha256 is None or deleted[name]["sha256"] == sha256, name
    assert deleted["Users/alice/Pictures/gone.jpg"]["sha256"] == _sha256(gone)
    assert deleted["trash/sub/inner.jpg"]["sha256"] == _sha256(inner)
    assert deleted["trash/sub/inner.jpg"]["pdq"] is not None  # analysed like any picture
    kept = result.files["win.img!p1/Users/alice/Pictures/kept.jpg"]
    assert not kept["deleted"] and kept["sha256"] == _sha256(files["Users/alice/Pictures/kept.jpg"])


def _orphan_on_ntfs(mount: Path, content: bytes) -> None:
    """`orphan.jpg` deleted with its folder, and the folder's MFT entry then taken by a new file:
    no folder names the file any more, but its own MFT entry still holds it (an orphan)."""
    folder = mount / "Pictures"
    folder.mkdir()
    for i in range(20):  # the file's MFT entry comes well after its folder's
        (mount / f"pad{i:02d}.txt").write_bytes(b"pad\n")
    (folder / "orphan.jpg").write_bytes(content)
    folder_entry, file_entry = folder.stat().st_ino, (folder / "orphan.jpg").stat().st_ino
    shutil.rmtree(folder)
    for i in range(1000):  # ntfs-3g gives MFT entry numbers as inode numbers
        new = mount / f"new{i:03d}.txt"
        new.write_bytes(b"new\n")
        taken = new.stat().st_ino
        assert taken != file_entry, "the orphan's own entry was reused: change the padding"
        if taken == folder_entry:
            return
    raise AssertionError("no new file took the folder's MFT entry")


def test_an_ntfs_orphan_with_its_content_is_listed_and_read_as_the_sleuth_kit_reads_it(
    tmp_path: Path, scan: Scanner
) -> None:
    """A deleted file whose folder is gone (its MFT entry reused) is listed under $OrphanFiles,
    flagged deleted, with the bytes icat extracts, and analysed like any picture."""
    content = di.picture(23)
    try:
        ntfs = di.ntfs_worked(
            tmp_path / "ntfs", 16 * di.MiB, lambda mount: _orphan_on_ntfs(mount, content)
        )
    except di.MountUnavailableError as exc:
        pytest.skip(str(exc))
    raw = tmp_path / "orphan.img"
    [start] = di.disk(raw, [di.Part(ntfs, "7", 16 * di.MiB)])
    reference = di.tsk_deleted(raw, start)
    assert reference.get("$OrphanFiles/orphan.jpg") == _sha256(content), reference
    result = scan(raw)
    row = result.files["orphan.img!p1/$OrphanFiles/orphan.jpg"]
    assert row["deleted"]
    assert row["sha256"] == _sha256(content)
    assert row["mime"] == "image/jpeg" and row["pdq"] is not None
    deleted = {
        path.removeprefix("orphan.img!p1/")
        for path, r in result.files.items()
        if r["deleted"] and r["parent"] is None
    }
    assert deleted == set(reference)


def test_a_zip_in_an_images_file_system_is_expanded(tmp_path: Path, scan: Scanner) -> None:
    """A ZIP's directory is at its end: the image's file reader seeks there (it could not, and
    every ZIP in a disk image was reported as a corrupt archive)."""
    photo = di.picture(81)
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("holiday/p.jpg", photo)
        archive.writestr("notes.txt", b"a note\n")
    fat = di.fat_fs(tmp_path / "p1.fat", 16 * di.MiB, 16, {"photos.zip": packed.getvalue()}, [])
    raw = tmp_path / "usb.dd"
    di.disk(raw, [di.Part(fat, "6", 16 * di.MiB)])
    for workers in (1, 2):  # read in the media's one pass, and alone
        result = scan(raw, workers=workers)
        assert result.codes("usb.dd!p1/photos.zip") == []
        member = result.files["usb.dd!p1/photos.zip!/holiday/p.jpg"]
        assert member["sha256"] == _sha256(photo) and member["pdq"] is not None
        assert "usb.dd!p1/photos.zip!/notes.txt" in result.files
