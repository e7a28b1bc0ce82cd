"""A single archive given as the source, scanned in ranges of its members, against one process.

    .venv/bin/python benchmarks/fanout/archive_ranges.py [--files 4000] [--kb 15] [--ranges 8]

Generates a tar of `--files` members (a line of text and `--kb` KiB of random bytes each), and
the same members as a tar.gz, an Android `.ab` (zlib) and a deflated ZIP. For each: the time of
a single-process scan (`start_scan`), of the listing that places the cuts (`plan_fanout`), of
every range one after the other in this process (`scan_shard`; on workers they run at once, so
the slowest is what a scan waits for, the sum what it costs) and of the merge; checks that the
merged records equal the single process's. Also times inflating the whole stream with zlib and
with ISA-L. The cost model of the re-read in docs/scaling.md and decision 0106 comes from it.
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import tarfile
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

from isal import isal_zlib

from muhafiz.triage.engine import ScanOptions, start_scan
from muhafiz.triage.scanfile import record_rows
from muhafiz.triage.shards import merge_shards, plan_fanout, scan_shard


def _members(files: int, kb: int) -> list[tuple[str, bytes]]:
    rng = random.Random(14)
    return [
        (f"d{n // 100:03d}/f{n:06d}.bin", f"file {n}\n".encode() * 20 + rng.randbytes(kb * 1024))
        for n in range(files)
    ]


def _tar(members: list[tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _sources(folder: Path, members: list[tuple[str, bytes]]) -> list[Path]:
    raw = _tar(members)
    (folder / "seized.tar.gz").write_bytes(gzip.compress(raw, 6, mtime=0))
    (folder / "phone.ab").write_bytes(b"ANDROID BACKUP\n5\n1\nnone\n" + zlib.compress(raw, 6))
    with zipfile.ZipFile(folder / "seized.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return [folder / "seized.tar.gz", folder / "phone.ab", folder / "seized.zip"]


def _run(source: Path, work: Path, ranges: int, files: int) -> str:
    t0 = time.perf_counter()
    single = start_scan(ScanOptions(sources=[source], out=work / "single.scan")).path
    one = time.perf_counter() - t0
    header = work / "header.scan"
    t0 = time.perf_counter()
    plan = plan_fanout(
        ScanOptions(sources=[source], out=work / "unused.scan"),
        header,
        shard_files=-(-files // ranges),
        shard_bytes=1 << 50,
    )
    listing = time.perf_counter() - t0
    assert plan is not None
    times, parts = [], []
    for number, units in enumerate(plan.shards):
        t0 = time.perf_counter()
        scan_shard(header, units, work / f"part-{number}.scan")
        times.append(time.perf_counter() - t0)
        parts.append((work / f"part-{number}.scan", f"range {number}"))
    t0 = time.perf_counter()
    merged = merge_shards(header, parts, work / "merged.scan").path
    merge = time.perf_counter() - t0
    same = record_rows(merged) == record_rows(single)
    for path in work.glob("*.scan"):
        path.unlink()
    return (
        f"| {source.name} | {source.stat().st_size / 1e6:.1f} | {one:.2f} | {listing:.2f} | "
        f"{len(times)} | {min(times):.2f}–{max(times):.2f} | {sum(times):.2f} | {merge:.2f} | "
        f"{'yes' if same else 'NO'} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=4000)
    parser.add_argument("--kb", type=int, default=15)
    parser.add_argument("--ranges", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        members = _members(args.files, args.kb)
        raw = _tar(members)
        deflated = zlib.compress(raw, 6)
        t0 = time.perf_counter()
        zlib.decompress(deflated)
        with_zlib = time.perf_counter() - t0
        t0 = time.perf_counter()
        isal_zlib.decompress(deflated)
        with_isal = time.perf_counter() - t0
        print(
            f"tar {len(raw) / 1e6:.1f} MB: inflate zlib {with_zlib:.2f} s, ISA-L {with_isal:.2f} s"
        )
        print(
            "| source | MB | one process s | listing s | ranges | a range s | ranges in all s "
            "| merge s | same records |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        work = folder / "work"
        work.mkdir()
        for source in _sources(folder, members):
            print(_run(source, work, args.ranges, args.files), flush=True)


if __name__ == "__main__":
    main()
