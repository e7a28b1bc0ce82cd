"""Disk-image benchmark: `muhafiz scan` of an E01 against the Sleuth Kit baseline, same run.

    .venv/bin/python benchmarks/diskimage/run.py             # >= 4 GB ext4 in an E01; RESULTS.md
    .venv/bin/python benchmarks/diskimage/run.py --gb 0.3    # a smaller image (honest figure)
    .venv/bin/python benchmarks/diskimage/run.py --smoke     # tiny, in a temp dir, no results
    .venv/bin/python benchmarks/diskimage/run.py --build-only  # make the corpus, measure nothing

Generates (cached under benchmarks/.corpus/diskimage/, or $MUHAFIZ_BENCH_CORPUS/diskimage/ so that
another checkout can use a corpus already built) a tree of several thousand files —
generated JPEG and PNG pictures (shapes and noise), short H.264 videos when PyAV is present,
text documents and large incompressible "video-like" files — puts it into an ext4 file system
with `mke2fs -d` (no mounting) and wraps it as an E01 (`ewfacquirestream`, MD5 + SHA-1).

Then, on the same warm page cache and in alternating rounds:
  baseline: `tsk_recover -e image.E01 DIR` then `hashdeep -c md5,sha1,sha256 -r DIR`
  muhafiz:  `muhafiz scan image.E01 --out X.scan --workers 2` (hashes, types, PDQ, EXIF, vPDQ
            where the video support is installed, carving, and the E01's acquisition hashes)
Reports wall time, MB/s of media, CPU seconds per GB (children's user + system), load, and
whether the allocated files' hash sets are identical.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.proctree import tree_rss_kb  # noqa: E402 - after the path is set

# A corpus built once can serve another checkout: MUHAFIZ_BENCH_CORPUS names its folder.
CORPORA = Path(os.environ.get("MUHAFIZ_BENCH_CORPUS") or ROOT / "benchmarks" / ".corpus")
CORPUS = CORPORA / "diskimage"
TARGET = 2.0  # issue 11: at least twice the baseline's speed end to end
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
MUHAFIZ = str(Path(sys.executable).with_name("muhafiz"))
MB = 1_000_000
MiB = 1024 * 1024
GB = 1_000_000_000


def _picture(rng: random.Random, size: tuple[int, int]) -> Image.Image:
    image = Image.effect_noise(size, rng.uniform(20, 60)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x0, y0 = rng.randrange(size[0]), rng.randrange(size[1])
        x1, y1 = x0 + rng.randrange(40, size[0] // 2), y0 + rng.randrange(40, size[1] // 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        if rng.random() < 0.5:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
        else:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
    return image


def _videos(folder: Path, count: int, rng: random.Random) -> None:
    try:
        import av
        import numpy as np
    except ImportError:
        return
    for n in range(count):
        path = folder / f"clip{n:02d}.mp4"
        with av.open(str(path), "w") as container:
            stream = container.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
            base = np.asarray(_picture(rng, (640, 360)))
            for i in range(25 * 8):
                frame = np.roll(base, i * 3, axis=1)
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)


def build_tree(tree: Path, total_bytes: int, seed: int = 1) -> int:
    """Several thousand files adding up to about `total_bytes`; returns the file count."""
    rng = random.Random(seed)
    count = 0
    scale = total_bytes / (4 * GB)
    n_docs, n_jpeg, n_png = (
        max(40, int(2400 * scale)),
        max(20, int(600 * scale)),
        max(5, int(100 * scale)),
    )
    for i in range(n_docs):
        folder = tree / "Users" / f"user{i % 4}" / "Documents" / f"d{i % 40:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        words = " ".join(
            rng.choice(("case", "report", "file", "note", "لاہور", "data"))
            for _ in range(rng.randrange(300, 30000))
        )
        (folder / f"doc{i:05d}.txt").write_text(words, encoding="utf-8")
        count += 1
    for i in range(n_jpeg):
        folder = tree / "Users" / f"user{i % 4}" / "Pictures" / f"p{i % 30:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        _picture(rng, (1600, 1200)).save(folder / f"img{i:05d}.jpg", quality=88)
        count += 1
    for i in range(n_png):
        folder = tree / "Users" / f"user{i % 4}" / "Pictures" / "png"
        folder.mkdir(parents=True, exist_ok=True)
        _picture(rng, (800, 600)).save(folder / f"img{i:05d}.png")
        count += 1
    videos = tree / "Users" / "user0" / "Videos"
    videos.mkdir(parents=True, exist_ok=True)
    _videos(videos, max(2, int(10 * scale)), rng)
    count += len(list(videos.iterdir()))
    used = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file())
    big = tree / "Users" / "user1" / "Videos"
    big.mkdir(parents=True, exist_ok=True)
    piece = 56 * MiB if total_bytes >= GB else 8 * MiB
    i = 0
    while used < total_bytes:
        size = min(piece, total_bytes - used)
        with (big / f"raw{i:03d}.mov").open("wb") as out:
            left = size
            while left:
                chunk = min(left, 8 * MiB)
                out.write(os.urandom(chunk))
                left -= chunk
        used += size
        count += 1
        i += 1
    return count


def build_image(folder: Path, total_bytes: int) -> tuple[Path, int]:
    e01 = folder / "bench.E01"
    stamp = folder / "files.count"
    if e01.exists() and stamp.exists():
        return e01, int(stamp.read_text())
    folder.mkdir(parents=True, exist_ok=True)
    tree = folder / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    files = build_tree(tree, total_bytes)
    raw = folder / "bench.ext4"
    raw.unlink(missing_ok=True)
    fs_size = int(total_bytes * 1.12) + 64 * MiB
    subprocess.run(["truncate", "-s", str(fs_size), str(raw)], check=True)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-d", str(tree), str(raw)], check=True)
    shutil.rmtree(tree)
    for old in folder.glob("bench.E*"):
        old.unlink()
    with raw.open("rb") as data:
        subprocess.run(
            ["ewfacquirestream", "-q", "-t", str(folder / "bench"), "-c", "deflate:fast", "-d",
             "sha1", "-S", str(1500 * MiB), "-C", "BENCH-1", "-e", "benchmark", "-D",
             "generated ext4"],
            stdin=data, check=True, capture_output=True,
        )  # fmt: skip
    raw.unlink()
    stamp.write_text(str(files))
    return e01, files


@dataclass
class Timing:
    wall: float
    cpu: float
    load_before: float
    load_after: float
    peak_rss_mb: float  # the largest resident set of any process it ran (workers included)


def timed(commands: list[list[str]]) -> Timing:
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    peak = 0
    for command in commands:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while process.poll() is None:
            peak = max(peak, tree_rss_kb(process.pid))
            time.sleep(0.2)
        if process.returncode != 0:
            raise subprocess.CalledProcessError(process.returncode, command)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu, load_before, os.getloadavg()[0], peak / 1024)


def hashdeep_set(output: str, root: Path) -> set[tuple[str, str, str, str]]:
    found = set()
    for line in output.splitlines():
        if line.startswith(("%", "#")) or not line.strip():
            continue
        _size, md5, sha1, sha256, name = line.split(",", 4)
        rel = Path(name).relative_to(root).as_posix()
        found.add((rel, md5, sha1, sha256))
    return found


def muhafiz_set(scan_file: Path, label: str) -> set[tuple[str, str, str, str]]:
    conn = sqlite3.connect(scan_file)
    rows = conn.execute(
        "SELECT path, md5, sha1, sha256 FROM files WHERE kind = 'file' AND deleted = 0 "
        "AND carved = 0 AND parent IS NULL AND path LIKE ?",
        (f"{label}!/%",),
    ).fetchall()
    conn.close()
    return {(p.removeprefix(f"{label}!/"), a, b, c) for p, a, b, c in rows}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gb", type=float, default=4.2, help="size of the file system's data")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--dry", action="store_true", help="print the figures, write nothing")
    parser.add_argument("--build-only", action="store_true", help="build the corpus and stop")
    args = parser.parse_args()
    if args.smoke:
        work = Path(tempfile.mkdtemp(prefix="muhafiz-diskbench-"))
        total, rounds = 40 * MB, 1
    else:
        work = CORPUS / f"{args.gb:g}gb"
        total, rounds = int(args.gb * GB), args.rounds
    t0 = time.perf_counter()
    e01, files = build_image(work, total)
    build_seconds = time.perf_counter() - t0
    if args.build_only:
        print(f"corpus ready: {e01} ({files:,} files, built in {build_seconds:.0f} s)")
        return
    # Byte-compiled as an installed package is (PYTHONDONTWRITEBYTECODE would recompile muhafiz
    # at every start; benchmarks/triage/run.py says more).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "muhafiz")],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    media = int(subprocess.run(
        ["ewfinfo", str(e01)], capture_output=True, text=True, check=True
    ).stdout.split("Media size:")[1].split("(")[1].split(" ")[0])  # fmt: skip
    subprocess.run(
        ["cat", *map(str, sorted(work.glob("bench.E*")))], stdout=subprocess.DEVNULL, check=True
    )
    runs: dict[str, list[Timing]] = {"baseline": [], "muhafiz": []}
    identical, missing, extra, verification = False, 0, 0, ""
    for round_ in range(rounds):
        out = work / "recovered"
        shutil.rmtree(out, ignore_errors=True)
        hashes = work / "hashdeep.txt"
        runs["baseline"].append(
            timed(
                [
                    ["tsk_recover", "-e", str(e01), str(out)],
                    [
                        "sh",
                        "-c",
                        f"cd {out.parent} && hashdeep -c md5,sha1,sha256 -r {out.name} > {hashes}",
                    ],
                ]
            )
        )
        scan_file = work / "bench.scan"
        scan_file.unlink(missing_ok=True)
        runs["muhafiz"].append(
            timed(
                [[MUHAFIZ, "scan", str(e01), "--out", str(scan_file), "--workers", "2", "--quiet"]]
            )
        )
        if round_ == 0:
            baseline = hashdeep_set(hashes.read_text(), out)
            ours = muhafiz_set(scan_file, e01.name)
            identical = baseline == ours
            missing, extra = len(baseline - ours), len(ours - baseline)
            conn = sqlite3.connect(scan_file)
            verification = conn.execute("SELECT verification FROM sources").fetchone()[0]
            conn.close()
        shutil.rmtree(out, ignore_errors=True)
    report(
        args,
        Outcome(media, files, build_seconds, runs, identical, missing, extra, verification),
    )
    if args.smoke:
        shutil.rmtree(work)


@dataclass
class Outcome:
    media: int
    files: int
    build_seconds: float
    runs: dict[str, list[Timing]]
    identical: bool
    missing: int
    extra: int
    verification: str


def report(args: argparse.Namespace, o: Outcome) -> None:
    media, files, build_seconds, runs = o.media, o.files, o.build_seconds, o.runs
    identical, missing, extra, verification = o.identical, o.missing, o.extra, o.verification
    lines = []
    best = {k: min(v, key=lambda t: t.wall) for k, v in runs.items()}
    gb = media / GB
    lines.append(
        f"E01 of an ext4 file system: {media / GB:.2f} GB media, {files:,} files "
        f"(built in {build_seconds:.0f} s; E01 verification by muhafiz: {verification})"
    )
    lines.append("")
    lines.append(
        "| tool | round | wall s | MB/s of media | CPU s | CPU s/GB | load before → after |"
        " peak RSS MB |"
    )
    lines.append("|---|---|---|---|---|---|---|---|")
    for name in ("baseline", "muhafiz"):
        for i, t in enumerate(runs[name], start=1):
            lines.append(
                f"| {name} | {i} | {t.wall:.1f} | {media / MB / t.wall:.0f} | {t.cpu:.1f} | "
                f"{t.cpu / gb:.1f} | {t.load_before:.1f} → {t.load_after:.1f} | "
                f"{t.peak_rss_mb:.0f} |"
            )
    speedup = best["baseline"].wall / best["muhafiz"].wall
    cpu_ratio = best["baseline"].cpu / best["muhafiz"].cpu
    lines.append("")
    lines.append(
        f"Best of {len(runs['muhafiz'])}: muhafiz {speedup:.2f}x the baseline's speed end to end "
        f"(target ≥ {TARGET:g}x: {'met' if speedup >= TARGET else 'missed'}); the baseline "
        f"needs {cpu_ratio:.2f}x muhafiz's CPU time; allocated files' hash sets identical: "
        f"{identical} ({missing} only in the baseline, {extra} only in muhafiz)."
    )
    text = "\n".join(lines)
    print(text)
    if args.smoke or args.dry:
        return
    header = (
        f"## Disk image: E01 vs tsk_recover + hashdeep ({dt.date.today().isoformat()})\n\n"  # noqa: DTZ011
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other sessions "
        f"(timings are noisy; the load average is shown per run), Python "
        f"{platform.python_version()}, {platform.platform()}.\n"
        f"Command: `.venv/bin/python benchmarks/diskimage/run.py --gb {args.gb:g} --rounds "
        f"{args.rounds}`. Baseline: `tsk_recover -e bench.E01 DIR && hashdeep -c "
        f"md5,sha1,sha256 -r DIR`; muhafiz: `muhafiz scan bench.E01 --workers 2` (hashes, "
        f"types, PDQ, EXIF, vPDQ, carving, and the E01's acquisition hashes verified in the same "
        f"pass that reads the files). Warm page cache for both; rounds alternate.\n\n"
    )
    content = RESULTS.read_text(encoding="utf-8")
    start, end = "<!-- disk:start -->", "<!-- disk:end -->"
    before, rest = content.split(start, 1)
    _, after = rest.split(end, 1)
    RESULTS.write_text(f"{before}{start}\n{header}{text}\n{end}{after}", encoding="utf-8")
    print(f"written to {RESULTS} (the disk section)")


if __name__ == "__main__":
    main()
