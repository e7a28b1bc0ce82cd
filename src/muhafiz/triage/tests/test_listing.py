"""The scan's listing lives on disk: order kept, memory flat whatever the number of files."""

from __future__ import annotations

import random
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from muhafiz.triage.engine import _list
from muhafiz.triage.listing import Listing
from muhafiz.triage.records import FileRecord, Issue
from muhafiz.triage.scanfile import ScanWriter, SourceRow
from muhafiz.triage.sources.base import OpenedUnit, Source, Unit
from muhafiz.triage.sources.diskimage import AllocatedRuns, _free_ranges


def test_the_listing_gives_units_back_largest_first_in_listing_order_for_equal_sizes() -> None:
    rng = random.Random(3)
    units = [
        Unit(1 + i % 2, f"src/f{i:05d}", f"/abs/f{i:05d}\udce9", rng.choice([0, 7, 4096, 10**10]),
             b"\xff\xfe" if i % 7 == 0 else None)
        for i in range(12_345)
    ]  # fmt: skip
    listing = Listing()
    for unit in units:
        listing.add(unit)
    assert (len(listing), listing.total_bytes) == (len(units), sum(u.size for u in units))
    expected = sorted(units, key=lambda u: -u.size)  # stable: ties keep the listing's order
    assert list(listing) == expected
    assert list(listing) == expected  # and again
    listing.close()


def test_runs_merged_as_they_come_leave_the_same_free_space() -> None:
    rng = random.Random(5)
    runs = [(rng.randrange(10**6), rng.randrange(1, 40)) for _ in range(200_000)]
    allocated = AllocatedRuns()
    for run in runs:
        allocated.append(run)
    merged = allocated.merged()
    assert len(merged) < len(runs)
    assert list(_free_ranges(merged, 10**6 + 100, 4096)) == list(
        _free_ranges(sorted(runs), 10**6 + 100, 4096)
    )


class _ManyFiles(Source):
    """A source that lists `count` files and a symlink for every fifth (records of its own)."""

    kind: ClassVar[str] = "directory"
    count = 0

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return False

    def describe(self) -> str:
        return "many files"

    def walk(self) -> Iterator[Unit | FileRecord | Issue]:
        for n in range(self.count):
            path = f"Users/examiner/Documents/project-{n // 500:04d}/notes-{n:07d}.txt"
            yield Unit(self.source_id, path, f"file:1048576:{n + 12}:128:0:0", 100 + n)
            if n % 5 == 0:
                yield FileRecord(self.source_id, f"{path}.lnk", None, 0, kind="symlink")

    def open(self, unit: Unit) -> OpenedUnit:
        raise OSError("not read in this test")


def _listing_peak(tmp_path: Path, count: int) -> int:
    writer = ScanWriter.create(
        tmp_path / f"s{count}.scan",
        meta={"tool": "muhafiz"},
        sources=[SourceRow(1, str(tmp_path), "directory", "many files")],
        banks=[],
    )
    source = _ManyFiles(1, tmp_path)
    source.count = count
    tracemalloc.start()
    try:
        listing = _list(writer, [source], set())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(listing) == count
    listing.close()
    writer.close()
    return peak


def test_listing_a_source_holds_no_memory_per_listed_file(tmp_path: Path) -> None:
    # Past the first write batches (a few MB at most), more files cost no more memory; held in
    # memory, as before, 38,000 more units cost about 300 bytes each (over 10 MB).
    small, large = _listing_peak(tmp_path, 12_000), _listing_peak(tmp_path, 50_000)
    assert large - small < 1_000_000, (small, large)
