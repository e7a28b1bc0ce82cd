"""A scan in shards (triage.shards): whatever the shards and the order they finish in, the merged
scan file has the records of a single-process scan."""

from __future__ import annotations

import random
from pathlib import Path

from muhafiz.triage.engine import ScanOptions, start_scan
from muhafiz.triage.scanfile import record_rows
from muhafiz.triage.shards import cut, merge_shards, plan_fanout, scan_shard
from muhafiz.triage.sources.base import Unit
from muhafiz.triage.tests.media import jpeg_bytes, scene, write


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
