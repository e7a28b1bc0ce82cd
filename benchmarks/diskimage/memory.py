"""Peak memory of `muhafiz scan` on disk images with many files: does it grow with the listing?

    .venv/bin/python benchmarks/diskimage/memory.py                   # 10,000 and 60,000 files
    .venv/bin/python benchmarks/diskimage/memory.py --files 5000,20000 --workers 2

Builds (cached under $MUHAFIZ_BENCH_CORPUS/diskimage-memory/ or benchmarks/.corpus/…) raw ext4
images holding N small files each (distinct bytes, folder names like a user's documents), with
`mke2fs -d`, no mounting. Then scans each image and reports the peak resident memory of the
scan's main process and of its whole process tree, and the growth per listed file between the
two sizes (the slope: what every further file costs). CPU-light per file (a few hundred bytes
each), so it can run on a loaded machine: the figure is memory, not time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.proctree import tree_rss_kb  # noqa: E402 - after the path is set

CORPORA = Path(os.environ.get("MUHAFIZ_BENCH_CORPUS") or ROOT / "benchmarks" / ".corpus")
CORPUS = CORPORA / "diskimage-memory"
MUHAFIZ = str(Path(sys.executable).with_name("muhafiz"))
PER_FOLDER = 500


def build_image(folder: Path, files: int) -> Path:
    """A raw ext4 image of `files` small files (cached by count)."""
    image = folder / f"files-{files}.img"
    if image.exists():
        return image
    folder.mkdir(parents=True, exist_ok=True)
    tree = folder / f"tree-{files}"
    shutil.rmtree(tree, ignore_errors=True)
    for n in range(files):
        sub = tree / "Users" / f"user{n % 3}" / "Documents" / f"project-{n // PER_FOLDER:04d}"
        if n % PER_FOLDER < 3:
            sub.mkdir(parents=True, exist_ok=True)
        (sub / f"meeting-notes-{n:07d}.txt").write_bytes(f"note {n}\n".encode() * 20)
    blocks = files + files // PER_FOLDER + 16_384  # one 1 KiB block a file, folders, metadata
    partial = image.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    subprocess.run(["truncate", "-s", str(blocks * 1024 * 2), str(partial)], check=True)
    subprocess.run(
        ["mke2fs", "-q", "-F", "-t", "ext4", "-b", "1024", "-N", str(files + 4096),
         "-O", "^has_journal", "-d", str(tree), str(partial)],
        check=True,
    )  # fmt: skip
    shutil.rmtree(tree)
    partial.rename(image)
    return image


def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(image: Path, workers: int, out_dir: Path) -> tuple[float, float, float]:
    """(peak RSS of the main process MB, peak RSS of the process tree MB, wall seconds)."""
    out = out_dir / f"{image.stem}-{workers}.scan"
    out.unlink(missing_ok=True)
    command = [MUHAFIZ, "scan", str(image), "--out", str(out), "--workers", str(workers),
               "--quiet"]  # fmt: skip
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    main_peak = tree_peak = 0
    while process.poll() is None:
        main_peak = max(main_peak, _status_kb(process.pid, "VmHWM:"))
        tree_peak = max(tree_peak, tree_rss_kb(process.pid))
        time.sleep(0.1)
    if process.returncode != 0:
        raise SystemExit(f"scan failed: {process.stderr.read().decode() if process.stderr else ''}")
    return main_peak / 1024, tree_peak / 1024, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", default="10000,60000", help="file counts, comma-separated")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    counts = [int(x) for x in args.files.split(",")]
    print(f"load {os.getloadavg()[0]:.1f}; workers {args.workers}")
    rows = []
    with tempfile.TemporaryDirectory(dir=CORPORA if CORPORA.exists() else None) as tmp:
        for count in counts:
            image = build_image(CORPUS, count)
            main_mb, tree_mb, wall = measure(image, args.workers, Path(tmp))
            rows.append((count, main_mb, tree_mb))
            print(
                f"{count:>8} files: main process peak {main_mb:7.1f} MB, process tree peak "
                f"{tree_mb:7.1f} MB, {wall:6.1f} s wall"
            )
    if len(rows) >= 2:
        (n0, m0, t0), (n1, m1, t1) = rows[0], rows[-1]
        per_main = (m1 - m0) * 1024 * 1024 / (n1 - n0)
        per_tree = (t1 - t0) * 1024 * 1024 / (n1 - n0)
        print(
            f"growth per listed file: main process {per_main:.0f} bytes, "
            f"process tree {per_tree:.0f} bytes; load {os.getloadavg()[0]:.1f}"
        )


if __name__ == "__main__":
    main()
