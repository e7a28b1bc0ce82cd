"""Images inside archives whose signature lies past a member's first 512 bytes (`triage.spool`):
a fixed VHD (its footer at the end), an ISO 9660 disc (at 32 KiB), a bare ext4 (at 1080), HFS+
(at 1024) and APFS (at 32) file system; and EWF or split-raw sets whose segments are further
members of the archive. Each is opened from its copy, its files' hashes those of the same image
scanned directly; junk that claims to be one is a clear issue."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tarfile
import time
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from muhafiz.triage.engine import ScanOptions, start_scan
from muhafiz.triage.scanfile import record_rows
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.shards import merge_shards, plan_fanout, scan_shard
from muhafiz.triage.spool import SPOOL_ENV
from muhafiz.triage.tests import diskimages as di
from muhafiz.triage.tests.conftest import Scanner, ScanResult

pytestmark = pytest.mark.skipif(
    bool(di.missing_tools() + ([] if shutil.which("xorriso") else ["xorriso"])),
    reason="disk-image tools missing",
)

FILES = {
    "a.txt": b"inside the image\n",
    "pics/p.jpg": di.picture(81),
    "noise.bin": random.Random(81).randbytes(120_000),
}


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Each kind as a file of its own: the name it has in the archive -> the file."""
    root = tmp_path_factory.mktemp("kinds")
    ext = di.ext4_fs(root / "ext.img", 8 * di.MiB, FILES, [])
    tree = root / "isotree"
    for name, data in FILES.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(data)
    di.run("xorriso", "-outdev", root / "cd.iso", "-map", tree, "/", "-commit")
    hybrid = root / "hybrid"
    hybrid.mkdir()
    hfs = di.hfsplus_volume(di.hfsplus_iso(hybrid, FILES), root / "hfs.img")
    vhd = root / "fixed.vhd"
    di.run("qemu-img", "convert", "-f", "raw", "-O", "vpc", "-o", "subformat=fixed", ext, vhd)
    assert vhd.read_bytes()[-512:].startswith(b"conectix")
    apfs = di.apfs_container(root / "apfs.img", 128 * di.MiB, "EMPTY")
    return {"ext.img": ext, "cd.iso": root / "cd.iso", "hfs.img": hfs, "fixed.vhd": vhd,
            "apfs.img": apfs}  # fmt: skip


@pytest.fixture
def spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "spool"
    folder.mkdir()
    monkeypatch.setenv(SPOOL_ENV, str(folder))
    return folder


def _inside(result: ScanResult, prefix: str) -> dict[str, tuple[Any, ...]]:
    """Every record under `prefix` (an image's path), by the rest of its path: its hashes (not
    the media's: an image named as a source is its own media record)."""
    return {
        path[len(prefix) :]: (row["kind"], row["size"], row["md5"], row["sha1"], row["sha256"])
        for path, row in result.files.items()
        if path.startswith(prefix) and path != f"{prefix}media"
    }


def test_images_known_past_the_first_512_bytes_open_inside_a_zip_and_a_tar(
    tmp_path: Path, scan: Scanner, images: dict[str, Path], spool: Path
) -> None:
    archive = tmp_path / "case.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for name, path in images.items():
            # The empty APFS container (128 MiB of zeros, mostly) stored: deflated, it is a
            # zip bomb by its ratio.
            stored = zipfile.ZIP_STORED if name == "apfs.img" else zipfile.ZIP_DEFLATED
            out.write(path, f"seized/{name}", compress_type=stored)
    result = scan(archive)
    for name, path in images.items():
        direct = _inside(scan(path), f"{name}!")
        nested = _inside(result, f"case.zip!/seized/{name}!")
        assert nested == direct, name
        assert nested or name == "apfs.img", name  # nothing can write files into APFS here
        assert f"case.zip!/seized/{name}!media" in result.files, name  # opened
        member = result.files[f"case.zip!/seized/{name}"]
        assert member["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert not result.errors.get(f"case.zip!/seized/{name}"), name
    for name in ("ext.img", "cd.iso", "hfs.img", "fixed.vhd"):
        [picture] = [  # ISO 9660 names are upper case
            row
            for path, row in result.files.items()
            if path.lower() == f"case.zip!/seized/{name}!/pics/p.jpg"
        ]
        assert picture["pdq"] is not None, name
    assert list(spool.iterdir()) == []
    # A tar (read as a stream): the same records under its members.
    tarred = tmp_path / "case.tar"
    with tarfile.open(tarred, "w") as out:
        for name in ("cd.iso", "fixed.vhd"):
            out.add(images[name], f"seized/{name}")
    from_tar = scan(tarred)
    for name in ("cd.iso", "fixed.vhd"):
        nested = _inside(from_tar, f"case.tar!/seized/{name}!")
        assert nested == _inside(result, f"case.zip!/seized/{name}!"), name
    assert list(spool.iterdir()) == []


def test_junk_that_claims_to_be_an_iso_or_a_vhd_is_a_clear_issue_and_the_rest_is_scanned(
    tmp_path: Path, scan: Scanner, spool: Path
) -> None:
    rng = random.Random(5)
    iso = bytearray(rng.randbytes(96 * 1024))
    iso[32 * 1024 : 32 * 1024 + 8] = b"\x01CD001\x01\x00"  # the signature, nothing behind it
    ext = bytearray(rng.randbytes(8 * 1024))
    ext[1080:1082] = b"\x53\xef"  # the magic alone, in noise: not taken for a file system
    archive = tmp_path / "junk.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("cd.iso", bytes(iso))
        out.writestr("noise.bin", bytes(ext))
        out.writestr("not.vhd", rng.randbytes(20_000))  # named .vhd, no footer: a file
        out.writestr("note.txt", b"still read\n")
    result = scan(archive)
    # Opened, found to hold no file system: said so, and its space carved (nothing found).
    [(code, message)] = result.errors["junk.zip!/cd.iso"]
    assert code == "file-system-unreadable"
    assert "no file system The Sleuth Kit can read" in message
    assert result.files["junk.zip!/cd.iso"]["sha256"] == hashlib.sha256(iso).hexdigest()
    assert not result.errors.get("junk.zip!/noise.bin")
    assert not result.errors.get("junk.zip!/not.vhd")
    assert result.files["junk.zip!/not.vhd"]["mime"] == "application/octet-stream"
    assert result.files["junk.zip!/note.txt"]["md5"] == hashlib.md5(b"still read\n").hexdigest()  # noqa: S324 - a file's hash
    assert not [p for p in result.files if "!/noise.bin!" in p or "!/not.vhd!" in p]
    assert list(spool.iterdir()) == []


def test_a_large_member_that_is_no_image_is_not_copied(
    tmp_path: Path, scan: Scanner, spool: Path
) -> None:
    archive = tmp_path / "big.zip"
    data = random.Random(9).randbytes(3 * 1024 * 1024)
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("video.bin", data)
    # Nothing may be copied: a limit of one byte would be an issue on any member copied.
    result = scan(archive, settings=ScanSettings(max_spool_bytes=1))
    assert not result.errors
    assert result.files["big.zip!/video.bin"]["sha256"] == hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def sets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """An EWF set (E01, E02, ...) and a split raw set (001, 002, ...) of the same disk."""
    root = tmp_path_factory.mktemp("sets")
    noise = {"noise.bin": random.Random(82).randbytes(2_500_000)}
    fat = di.fat_fs(root / "p1.fat", 16 * di.MiB, 16, {**FILES, **noise}, [])
    raw = root / "disk.raw"
    di.disk(raw, [di.Part(fat, "6", 16 * di.MiB)])
    (root / "ewf").mkdir()
    (root / "split").mkdir()
    e01 = di.to_e01(raw, root / "ewf" / "laptop", segment_bytes=di.MiB)
    first = di.split_raw(raw, root / "split" / "usb", 6 * di.MiB)
    return {
        "ewf": sorted(e01.parent.glob("laptop.E*")),
        "split": sorted(first.parent.glob("usb.*")),
    }


def _zip_of(path: Path, members: dict[str, Path]) -> Path:
    """The raw pieces stored (mostly zeros: deflated, the ratio guard would stop them)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, file in members.items():
            raw = name.endswith(tuple(f".{n:03d}" for n in range(1, 10)))
            out.write(file, name, compress_type=zipfile.ZIP_STORED if raw else None)
    return path


def _nested_rows(scan_file: Path) -> dict[str, tuple[str, str, list[str]]]:
    with closing(sqlite3.connect(scan_file)) as conn:
        rows = conn.execute("SELECT path, format, verification, details FROM nested_images")
        return {p: (f, v, json.loads(d)["segments"]) for p, f, v, d in rows}


def test_an_ewf_and_a_split_raw_set_whose_segments_are_zip_members_are_opened(
    tmp_path: Path, scan: Scanner, sets: dict[str, list[Path]], spool: Path
) -> None:
    ewf, split = sets["ewf"], sets["split"]
    assert len(ewf) >= 3 and len(split) >= 3
    members = {f"seized/{p.name}": p for p in ewf} | {f"usb/{p.name}": p for p in split}
    note = tmp_path / "notes.txt"
    note.write_bytes(b"a note\n")
    archive = _zip_of(tmp_path / "case.zip", {**members, "notes.txt": note})
    result = scan(archive)
    for first in (ewf[0], split[0]):
        folder = "seized" if first in ewf else "usb"
        direct = _inside(scan(first), f"{first.name}!")
        nested = _inside(result, f"case.zip!/{folder}/{first.name}!")
        assert nested and nested == direct, (first.name, result.errors)
        assert not result.errors.get(f"case.zip!/{folder}/{first.name}")
    for name, path in members.items():  # every segment is hashed as a file too
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert result.files[f"case.zip!/{name}"]["sha256"] == digest
        assert name.endswith((".E01", ".001")) or not [
            p for p in result.files if p.startswith(f"case.zip!/{name}!")
        ]
    assert _nested_rows(result.path) == {
        "case.zip!/seized/laptop.E01": (
            "EWF image", "match", [f"case.zip!/seized/{p.name}" for p in ewf]
        ),
        "case.zip!/usb/usb.001": (
            "raw disk image", "none-stored", [f"case.zip!/usb/{p.name}" for p in split]
        ),
    }  # fmt: skip
    assert list(spool.iterdir()) == []
    # Two workers, and shards of one member each (the E01's shard reaches its E02 by name
    # from the whole central directory): the same records.
    assert record_rows(scan(archive, workers=2).path) == record_rows(result.path)
    header = tmp_path / "header.scan"
    options = ScanOptions(sources=[archive], out=tmp_path / "unused.scan")
    plan = plan_fanout(options, header, shard_files=1, shard_bytes=1 << 30)
    assert plan is not None and len(plan.shards) == len(members) + 1
    parts = []
    for number, units in enumerate(plan.shards):
        scan_shard(header, units, tmp_path / f"part-{number}.scan")
        parts.append((tmp_path / f"part-{number}.scan", f"shard {number}"))
    merged = merge_shards(header, parts, tmp_path / "merged.scan").path
    single = start_scan(ScanOptions(sources=[archive], out=tmp_path / "single.scan")).path
    assert record_rows(merged) == record_rows(single)
    assert list(spool.iterdir()) == []


def test_a_set_that_never_completes_over_the_limit_or_in_a_tar_is_a_clear_issue(
    tmp_path: Path, scan: Scanner, sets: dict[str, list[Path]], spool: Path
) -> None:
    ewf = sets["ewf"]
    gap = _zip_of(tmp_path / "gap.zip", {p.name: p for p in ewf if not p.name.endswith("2")})
    result = scan(gap)
    [(code, message)] = result.errors["gap.zip!/laptop.E01"]
    assert code == "image-in-archive-not-opened"
    assert "continues after laptop.E01" in message and "no laptop.E02" in message
    assert not [p for p in result.files if p.startswith("gap.zip!/laptop.E01!")]
    assert list(spool.iterdir()) == []
    # A segment whose bytes do not decompress (damaged in the archive): said so, nothing lost.
    whole_zip = _zip_of(tmp_path / "damaged.zip", {p.name: p for p in ewf})
    damaged = bytearray(whole_zip.read_bytes())
    with zipfile.ZipFile(whole_zip) as archive:
        info = archive.getinfo(ewf[1].name)
    middle = info.header_offset + 30 + len(info.filename) + info.compress_size // 2
    damaged[middle : middle + 64] = bytes(64)
    whole_zip.write_bytes(bytes(damaged))
    broken = scan(whole_zip)
    [(code, message)] = broken.errors["damaged.zip!/laptop.E01"]
    assert code == "image-in-archive-not-opened"
    assert "segment laptop.E02 could not be copied from the archive" in message
    assert broken.errors[f"damaged.zip!/{ewf[1].name}"]  # the segment's own read fails too
    assert broken.files["damaged.zip!/laptop.E03"]["sha256"] is not None
    assert list(spool.iterdir()) == []
    # The whole set is bounded by max_spool_bytes, not the first segment alone.
    whole = _zip_of(tmp_path / "whole.zip", {p.name: p for p in ewf})
    small = ScanSettings(max_spool_bytes=sum(p.stat().st_size for p in ewf) - 1)
    [(code, message)] = scan(whole, settings=small).errors["whole.zip!/laptop.E01"]
    assert code == "image-in-archive-not-opened" and "max_spool_bytes" in message
    assert list(spool.iterdir()) == []
    # A tar is read as a stream: the E01's later segments are not reachable, and it says so.
    tarred = tmp_path / "set.tar"
    with tarfile.open(tarred, "w") as out:
        for p in ewf:
            out.add(p, p.name)
    [(code, message)] = scan(tarred).errors["set.tar!/laptop.E01"]
    assert code == "image-in-archive-not-opened" and "tar" in message and "laptop.E02" in message
    assert list(spool.iterdir()) == []


def test_a_scan_killed_while_a_set_is_copied_resumes_to_the_same_records(
    tmp_path: Path, scan: Scanner, sets: dict[str, list[Path]], spool: Path
) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    for n in range(12):
        (folder / f"a{n:02d}.txt").write_bytes(f"note {n}\n".encode())
    _zip_of(folder / "b.zip", {p.name: p for p in sets["ewf"]})
    for n in range(12):
        (folder / f"c{n:02d}.txt").write_bytes(f"later note {n}\n".encode())
    straight = scan(folder)
    assert _nested_rows(straight.path)["evidence/b.zip!/laptop.E01"][1] == "match"
    assert list(spool.iterdir()) == []
    out = tmp_path / "killed.scan"
    env = {**os.environ, "MUHAFIZ_SCAN_DELAY_MS": "50", SPOOL_ENV: str(spool)}
    process = subprocess.Popen(
        [sys.executable, "-m", "muhafiz", "scan", str(folder), "--out", str(out), "--quiet",
         "--workers", "1", "--case", "TEST-1", "--examiner", "Test Examiner"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not any(spool.iterdir()) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)  # while it holds the copy of the set
    process.communicate(timeout=60)
    [left] = list(spool.iterdir())
    assert left.name.startswith(f"muhafiz-spool-{process.pid}-")
    resumed = subprocess.run(
        [sys.executable, "-m", "muhafiz", "scan", "--resume", str(out), "--quiet"],
        env=env, capture_output=True, check=False,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert record_rows(out) == record_rows(straight.path)
    assert list(spool.iterdir()) == []  # the killed process's copy removed by the next copy
