"""A scan in shards (triage.shards): whatever the shards and the order they finish in, the merged
scan file has the records (and the court report, byte for byte) of a single-process scan: folders,
a folder of archives, disk images (raw with two partitions, E01 with its acquisition hashes),
a UFDR extraction and an iOS backup folder."""

from __future__ import annotations

import io
import random
import zipfile
from contextlib import closing
from pathlib import Path

import pytest

from muhafiz.triage.engine import ScanOptions, start_scan
from muhafiz.triage.reports import write_report
from muhafiz.triage.scanfile import open_readonly, record_rows
from muhafiz.triage.shards import Fanout, cut, merge_shards, plan_fanout, scan_shard
from muhafiz.triage.sources.base import Unit
from muhafiz.triage.tests import diskimages as di
from muhafiz.triage.tests.media import jpeg_bytes, scene, write
from muhafiz.triage.tests.phone import PhoneFile, make_ios_backup, make_ufdr

needs_disk_tools = pytest.mark.skipif(
    bool(di.missing_tools()), reason=f"disk-image tools missing: {di.missing_tools()}"
)


def _in_shards(
    source: Path, tmp_path: Path, *, shard_files: int, shard_bytes: int = 1 << 30
) -> tuple[Fanout, Path]:
    """Fan `source` out, run every shard in its own part, merge them in shuffled order."""
    options = ScanOptions(sources=[source], out=tmp_path / "unused.scan")
    header = tmp_path / "header.scan"
    plan = plan_fanout(options, header, shard_files=shard_files, shard_bytes=shard_bytes)
    assert plan is not None
    parts = []
    for number, units in enumerate(plan.shards):
        part = tmp_path / f"part-{number}.scan"
        outcome = scan_shard(header, units, part)
        assert outcome.files >= len(units)
        parts.append((part, f"shard {number}"))
    random.Random(14).shuffle(parts)
    merged = merge_shards(header, parts, tmp_path / "merged.scan")
    assert merged.complete
    return plan, merged.path


def _assert_same_as_single_process(source: Path, merged: Path, tmp_path: Path) -> Path:
    single = start_scan(ScanOptions(sources=[source], out=tmp_path / "single.scan")).path
    assert record_rows(merged) == record_rows(single)
    write_report(merged, "csv", tmp_path / "merged.csv")
    write_report(single, "csv", tmp_path / "single.csv")
    assert (tmp_path / "merged.csv").read_bytes() == (tmp_path / "single.csv").read_bytes()
    return single


def _source(root: Path) -> Path:
    for folder in range(6):
        for number in range(17):
            body = f"folder {folder} file {number}\n".encode() * (number + 1)
            write(root / f"dir{folder}" / f"sub{number % 3}" / f"f{number}.txt", body)
    for number in range(4):
        write(root / "pictures" / f"p{number}.jpg", jpeg_bytes(scene(number // 2)))
    write(root / "pictures" / "copy.txt", b"folder 0 file 0\n")  # a duplicate of another file
    return root


def test_shards_merged_in_any_order_give_the_single_process_records(tmp_path: Path) -> None:
    source = _source(tmp_path / "source")
    single = start_scan(ScanOptions(sources=[source], out=tmp_path / "single.scan")).path
    options = ScanOptions(sources=[source], out=tmp_path / "unused.scan")
    header = tmp_path / "header.scan"
    plan = plan_fanout(options, header, shard_files=10, shard_bytes=1 << 30)
    assert plan is not None
    assert len(plan.shards) >= 8
    assert sum(len(units) for units in plan.shards) == plan.listed_files == 107
    parts = []
    for number, units in enumerate(plan.shards):
        part = tmp_path / f"part-{number}.scan"
        outcome = scan_shard(header, units, part)
        assert outcome.files == len(units)
        parts.append((part, f"shard {number}"))
    random.Random(14).shuffle(parts)
    merged = merge_shards(header, parts, tmp_path / "merged.scan")
    assert merged.complete
    assert record_rows(merged.path) == record_rows(single)


def test_a_small_source_is_not_fanned_out(tmp_path: Path) -> None:
    source = tmp_path / "small"
    write(source / "a.txt", b"a")
    header = tmp_path / "header.scan"
    options = ScanOptions(sources=[source], out=tmp_path / "unused.scan")
    assert plan_fanout(options, header, shard_files=10, shard_bytes=1 << 30) is None
    assert not header.exists()


def test_a_shard_ends_where_a_folder_ends_when_one_ends_near_its_size() -> None:
    units = [
        Unit(1, f"src/d{folder}/f{number}", f"/x/d{folder}/f{number}", 1)
        for folder in range(4)
        for number in range(7)
    ]
    shards = cut(units, shard_files=5, shard_bytes=1 << 30)
    assert [len(s) for s in shards] == [7, 7, 7, 7]  # whole folders (at most 1.5 x the size)
    shards = cut(units, shard_files=4, shard_bytes=1 << 30)
    assert [len(s) for s in shards] == [6, 6, 6, 6, 4]  # a folder too large is cut at 1.5 x
    assert [u for s in shards for u in s] == units


def test_a_large_unit_is_a_shard_of_its_own() -> None:
    sizes = [1, 1, 50, 1, 1, 1, 70, 1]
    units = [Unit(1, f"src/f{n}", f"/x/f{n}", size) for n, size in enumerate(sizes)]
    shards = cut(units, shard_files=100, shard_bytes=40)
    assert [[u.size for u in s] for s in shards] == [[1, 1], [50], [1, 1, 1], [70], [1]]


@needs_disk_tools
def test_a_disk_image_is_cut_at_its_partitions_and_read_in_shards(tmp_path: Path) -> None:
    disk = di.sample_disk(tmp_path / "disk")
    plan, merged = _in_shards(disk.raw, tmp_path, shard_files=3)
    parts = [{u.path.partition("/")[0] for u in units} for units in plan.shards]
    assert all(len(p) == 1 for p in parts), parts  # no shard spans two partitions
    assert {"disk.raw", "disk.raw!p1", "disk.raw!p2", "disk.raw!unpartitioned"} == set().union(
        *parts
    )
    assert plan.shards[0] == [u for u in plan.shards[0] if u.locator == "media"]
    # The files the single-process media pass reads are units of their own here.
    assert any(u.locator.startswith("swept:") for units in plan.shards for u in units)
    _assert_same_as_single_process(disk.raw, merged, tmp_path)


@needs_disk_tools
def test_an_e01_in_shards_verifies_its_acquisition_hashes_as_one_process_does(
    tmp_path: Path,
) -> None:
    disk = di.sample_disk(tmp_path / "disk")
    e01 = di.to_e01(disk.raw, tmp_path / "laptop")
    _plan, merged = _in_shards(e01, tmp_path, shard_files=2)
    _assert_same_as_single_process(e01, merged, tmp_path)
    with closing(open_readonly(merged)) as conn:
        verdict = conn.execute("SELECT verification FROM sources").fetchone()[0]
    assert verdict == "match"


def test_a_folder_of_archives_is_cut_around_each_large_archive(tmp_path: Path) -> None:
    source = tmp_path / "seized"
    for number in range(4):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for member in range(20):
                archive.writestr(f"m{member}.txt", f"archive {number} member {member}\n" * 400)
            archive.writestr("p.jpg", jpeg_bytes(scene(number)))
        write(source / f"archive{number}.zip", buffer.getvalue())
        write(source / f"note{number}.txt", b"a note\n")
    large = min((source / f"archive{n}.zip").stat().st_size for n in range(4))
    plan, merged = _in_shards(source, tmp_path, shard_files=100, shard_bytes=large)
    alone = [units[0].path for units in plan.shards if units[0].path.endswith(".zip")]
    assert len(alone) == 4
    assert all(len(units) == 1 for units in plan.shards if units[0].path.endswith(".zip"))
    _assert_same_as_single_process(source, merged, tmp_path)


def test_a_ufdr_extraction_is_read_in_ranges_of_its_file_list(tmp_path: Path) -> None:
    files = [
        PhoneFile(f"/Root/DCIM/Camera/{n}.txt", f"phone file {n}\n".encode() * (n + 1))
        for n in range(30)
    ]
    files += [PhoneFile("/Root/DCIM/Camera/p.jpg", jpeg_bytes(scene(3)), deleted=True)]
    ufdr = make_ufdr(tmp_path / "phone.ufdr", files)
    plan, merged = _in_shards(ufdr, tmp_path, shard_files=8)
    assert len(plan.shards) >= 3
    _assert_same_as_single_process(ufdr, merged, tmp_path)


def test_an_ios_backup_is_read_in_ranges_of_its_file_list(tmp_path: Path) -> None:
    files = [
        ("CameraRollDomain", f"Media/DCIM/100APPLE/IMG_{n:04d}.TXT", f"ios {n}\n".encode() * n)
        for n in range(1, 25)
    ]
    files.append(("CameraRollDomain", "Media/DCIM/100APPLE/IMG_0100.JPG", jpeg_bytes(scene(5))))
    backup = make_ios_backup(tmp_path / "backup", files)
    plan, merged = _in_shards(backup, tmp_path, shard_files=6)
    assert len(plan.shards) >= 3
    single = _assert_same_as_single_process(backup, merged, tmp_path)
    # The device paths come from Manifest.db, read again by every shard.
    with closing(open_readonly(single)) as conn:
        paths = {row[0] for row in conn.execute("SELECT device_path FROM files") if row[0]}
    assert "CameraRollDomain/Media/DCIM/100APPLE/IMG_0100.JPG" in paths
