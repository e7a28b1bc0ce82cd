"""A ZIP of many tiny members in ranges: what one shard pays for the central directory.

    .venv/bin/python benchmarks/fanout/zip_directory_runs.py [--members 200000] [--range 2000]

Generates a ZIP of `--members` tiny stored members, plans the fan-out in ranges of `--range`
members (the server's MUHAFIZ_SCAN_SHARD_FILES is 2,000 by default) and times, wall and CPU,
a range in the middle scanned with its run of the central directory (a shard now) and the same
range with the whole directory parsed (a shard before: the run taken off its locator), and
zipfile opening the archive alone. Checks that both give the same records.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import zipfile
from dataclasses import replace
from pathlib import Path

from muhafiz.triage.engine import ScanOptions
from muhafiz.triage.scanfile import record_rows
from muhafiz.triage.shards import plan_fanout, scan_shard


def _timed(label: str, action: object) -> float:
    assert callable(action)
    wall, cpu = time.perf_counter(), time.process_time()
    action()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label}: {wall:.2f} s wall, {cpu:.2f} s CPU")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=200_000)
    parser.add_argument("--range", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        source = folder / "seized.zip"
        with zipfile.ZipFile(source, "w", zipfile.ZIP_STORED) as archive:
            for number in range(args.members):
                archive.writestr(f"d{number // 1000:04d}/f{number:07d}.txt", f"tiny {number}\n")
        size = source.stat().st_size / 1e6
        print(f"{args.members:,} members, {size:.1f} MB; load {os.getloadavg()}")
        _timed("zipfile opens it (the whole directory)", lambda: zipfile.ZipFile(source).close())
        options = ScanOptions(sources=[source], out=folder / "unused.scan")
        header = folder / "header.scan"
        plans = []
        _timed(
            "listing (plan_fanout)",
            lambda: plans.append(
                plan_fanout(options, header, shard_files=args.range, shard_bytes=1 << 40)
            ),
        )
        plan = plans[0]
        assert plan is not None
        middle = plan.shards[len(plan.shards) // 2][0]
        bounds, sep, rest = middle.locator.partition("\x1e")[2].partition("\x1e")
        fields = bounds.split(":")  # members, lo, hi, size, files, run
        assert fields[5], "the range has no run"
        whole = replace(middle, locator="\x1e" + ":".join([*fields[:5], ""]) + sep + rest)
        print(f"{len(plan.shards)} ranges; the middle one: members {fields[1]} to {fields[2]}")
        with_run = _timed(
            "a range with its run", lambda: scan_shard(header, [middle], folder / "run.scan")
        )
        without = _timed(
            "the same range, the whole directory parsed",
            lambda: scan_shard(header, [whole], folder / "whole.scan"),
        )
        assert record_rows(folder / "run.scan") == record_rows(folder / "whole.scan")
        print(f"the whole directory costs a range {without / with_run:.1f}x its run's time")


if __name__ == "__main__":
    main()
