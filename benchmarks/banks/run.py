"""Hash-bank benchmarks, one command:

    .venv/bin/python benchmarks/banks/run.py            # 10 M PDQ, 30 M SHA-1, CLI cold start
    .venv/bin/python benchmarks/banks/run.py --size 1000000 --sha1 3000000 --no-results

Each side runs in its own process (peak memory is per process, one side at a time): ours, then
python-threatexchange's PDQIndex from a separate virtualenv (benchmarks/.venv-baseline, created
here on first use; threatexchange is never a Muhafiz dependency). Results go to the banks
section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from common import CORPUS, ROOT, flip_bits, ground_truth, make_corpus, random_words, recall

HERE = Path(__file__).resolve().parent
BASELINE_VENV = ROOT / "benchmarks" / ".venv-baseline"
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- banks:start -->", "<!-- banks:end -->"
ONE_CORE = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def side(command: list[str]) -> dict[str, Any]:
    """Run a measuring process and return the JSON object on its last stdout line."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=ONE_CORE, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    result["load_after"] = f"{os.getloadavg()[0]:.1f}"
    return result


def baseline_python() -> Path:
    python = BASELINE_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BASELINE_VENV)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "threatexchange", "faiss-cpu", "numpy"],
            check=True,
        )
    return python


def evict_from_page_cache(directory: Path) -> None:
    """Drop our bank files (only them) from the OS page cache, for a truly cold start."""
    for path in directory.rglob("*"):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)


def cli_cold_start(bank_dir: Path, hashes_path: Path, count: int) -> dict[str, Any]:
    rng = np.random.default_rng(10_000)
    hashes = np.load(hashes_path, mmap_mode="r")
    near = flip_bits(
        np.asarray(hashes[rng.integers(0, hashes.shape[0], size=count // 2)]),
        rng.integers(0, 32, size=count // 2),
        rng,
    )
    queries = np.concatenate([near, random_words(rng, count - count // 2)])
    query_file = CORPUS / f"cli-queries-{count}.txt"
    raw = queries.astype(">u8").tobytes()
    query_file.write_text("".join(raw[i : i + 32].hex() + "\n" for i in range(0, len(raw), 32)))
    muhafiz = ROOT / ".venv" / "bin" / "muhafiz"
    command = [str(muhafiz), "bank", "lookup", "--bank-dir", str(bank_dir), str(query_file)]
    probe = subprocess.run([str(muhafiz), "bank", "--help"], capture_output=True, check=False)
    if probe.returncode != 0 or b"lookup" not in probe.stdout:
        # `muhafiz bank` is routed elsewhere in this tree: run the same command via -m.
        command = [sys.executable, "-m", "muhafiz.banks", *command[2:]]
    evict_from_page_cache(bank_dir)
    out = CORPUS / "cli-out.jsonl"
    started = time.perf_counter()
    with out.open("w") as handle:
        done = subprocess.run(
            command, stdout=handle, stderr=subprocess.PIPE, env=ONE_CORE, check=False
        )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"lookup failed: {done.stderr.decode()[-2000:]}")
    lines = out.read_text().splitlines()
    matched = sum(1 for line in lines if json.loads(line)["matches"])
    evict_from_page_cache(bank_dir)
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, env=ONE_CORE, check=True)
    warm = time.perf_counter() - started
    return {
        "command": " ".join(
            Path(c).name if c.startswith("/") and i == 0 else c for i, c in enumerate(command)
        ),
        "seconds": seconds,
        "seconds_again": warm,
        "lines": len(lines),
        "matched": matched,
        "near_queries": count // 2,
    }


def machine() -> dict[str, str]:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f"{total_kb / 1024 / 1024:.1f} GB"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10_000_000, help="PDQ hashes in the bank")
    parser.add_argument("--queries", type=int, default=1000, help="near and as many unrelated")
    parser.add_argument("--sha1", type=int, default=30_000_000, help="SHA-1 values (0: skip)")
    parser.add_argument("--cli-queries", type=int, default=10_000)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-results", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()

    facts = machine()
    load_before = facts["load"]
    print(f"machine: {facts}", flush=True)
    paths = make_corpus(args.size, args.queries)
    print("corpus ready; exhaustive ground truth…", flush=True)
    started = time.perf_counter()
    truth = ground_truth(paths["hashes"], paths["queries"])
    truth_s = time.perf_counter() - started
    near_truth = {(q, r) for q, r in truth if q < args.queries}
    sources = np.load(paths["sources"])
    assert all((q, int(sources[q])) in truth for q in range(args.queries))

    bank_dir = CORPUS / f"bank-{args.size}"
    shutil.rmtree(bank_dir, ignore_errors=True)
    ours = side(
        [
            sys.executable,
            str(HERE / "side_ours.py"),
            "--hashes",
            str(paths["hashes"]),
            "--queries",
            str(paths["queries"]),
            "--bank-dir",
            str(bank_dir),
        ]
    )
    ours["recall"] = recall({tuple(p) for p in ours.pop("found")}, truth)
    print(f"ours: {ours}", flush=True)

    baseline: dict[str, Any] | None = None
    if not args.no_baseline:
        baseline = side(
            [
                str(baseline_python()),
                str(HERE / "side_baseline.py"),
                "--hashes",
                str(paths["hashes"]),
                "--queries",
                str(paths["queries"]),
            ]
        )
        baseline["recall"] = recall({tuple(p) for p in baseline.pop("found")}, truth)
        print(f"threatexchange: {baseline}", flush=True)

    exact: dict[str, Any] | None = None
    if args.sha1:
        exact_dir = CORPUS / f"sha1-{args.sha1}"
        shutil.rmtree(exact_dir, ignore_errors=True)
        built = side(
            [
                sys.executable,
                str(HERE / "side_exact.py"),
                "build",
                "--dir",
                str(exact_dir),
                "--size",
                str(args.sha1),
            ]
        )
        looked = side(
            [sys.executable, str(HERE / "side_exact.py"), "lookup", "--dir", str(exact_dir)]
        )
        exact = {"build": built, "lookup": looked}
        print(f"exact: {exact}", flush=True)
        shutil.rmtree(exact_dir, ignore_errors=True)

    cli = cli_cold_start(bank_dir, paths["hashes"], args.cli_queries)
    print(f"cli: {cli}", flush=True)
    facts["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    facts["load"] = load_before
    report = render(args, facts, ours, baseline, exact, cli, len(near_truth), truth_s)
    print(report)
    if not args.no_results:
        write_results(report)


def render(  # noqa: PLR0917 - one call site, the parts of one report
    args: argparse.Namespace,
    facts: dict[str, str],
    ours: dict[str, Any],
    baseline: dict[str, Any] | None,
    exact: dict[str, Any] | None,
    cli: dict[str, Any],
    near_pairs: int,
    truth_s: float,
) -> str:
    command = "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/banks/run.py"
    if args.size != 10_000_000 or args.sha1 != 30_000_000:
        command += f" --size {args.size} --sha1 {args.sha1}"
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}`.",
        "",
        f"Machine: {facts['nproc']} cores ({facts['cpu']}), {facts['memory']} RAM, Python "
        f"{facts['python']}, numpy {facts['numpy']}. Load average {facts['load']} before, "
        f"{facts['load_after']} after: other engineers' jobs (test suites, a headless browser) "
        "share these two cores, so absolute figures carry that noise; both sides ran in the "
        "same run, one after the other. Every timed lookup runs on one core "
        "(`OMP_NUM_THREADS=1`, `faiss.omp_set_num_threads(1)`) and is the best of three "
        "passes on both sides; each side runs alone in its own process, and peak memory is "
        "that process's high-water RSS (VmHWM, including its copy of the input hashes).",
        "",
        f"### PDQ near-match: {args.size:,} random hashes, {args.queries:,} near-duplicate "
        f"queries (0-31 bits flipped) + {args.queries:,} unrelated",
        "",
        "Ground truth by exhaustive search (FAISS flat, "
        + (f"{truth_s:.0f} s" if truth_s >= 1 else "cached from an earlier run")
        + f"): {near_pairs:,} "
        "(query, hash) pairs within distance 31 for the near-duplicate queries.",
        "",
        "| | Muhafiz (`banks.index.pdq`, MIH) | threatexchange `PDQIndex` "
        "(FAISS MIH 16×16) | ratio |",
        "|---|---|---|---|",
    ]

    def row(label: str, ours_value: float, base_value: float | None, fmt: str, better: str) -> None:
        if base_value is None:
            lines.append(f"| {label} | {ours_value:{fmt}} | not run | |")
            return
        ratio = ours_value / base_value if better == "higher" else base_value / ours_value
        lines.append(f"| {label} | {ours_value:{fmt}} | {base_value:{fmt}} | {ratio:.1f}× |")

    b = baseline or {}
    row("build (s)", ours["build_s"], b.get("build_s"), ".1f", "lower")
    for name in ("near", "unrelated"):
        row(
            f"lookups/s, one query at a time, {name}",
            ours["single_lookups_per_s"][name],
            b.get("single_lookups_per_s", {}).get(name),
            ",.0f",
            "higher",
        )
    row(
        "lookups/s, batch of all queries",
        ours["batch_lookups_per_s"],
        b.get("batch_lookups_per_s"),
        ",.0f",
        "higher",
    )
    row("peak memory (MB)", ours["peak_rss_mb"], b.get("peak_rss_mb"), ",.0f", "lower")
    lines.append(
        f"| recall vs brute force | {ours['recall']:.2%} | "
        + (f"{b['recall']:.2%}" if baseline else "not run")
        + " | |"
    )
    lines.append(
        f"| 1-minute load average when the side finished | {ours['load_after']} | "
        + (b["load_after"] if baseline else "")
        + " | |"
    )
    lines += [
        "",
        f"Muhafiz layout: chunk widths {ours['layout']['widths'] if ours['layout'] else '-'}, "
        f"probe radii {ours['layout']['radii'] if ours['layout'] else '-'}; saving the bank "
        f"directory took {ours.get('save_s', 0):.1f} s.",
    ]
    if exact:
        build, look = exact["build"], exact["lookup"]
        lines += [
            "",
            f"### Exact membership: {build['n']:,} SHA-1 values (sorted arrays, memory-mapped)",
            "",
            "| measure | value |",
            "|---|---|",
            f"| build + save (s) | {build['build_s']:.1f} |",
            f"| build peak memory (MB) | {build['peak_rss_mb']:,.0f} |",
            f"| open (memory-map) (s) | {look['open_s']:.3f} |",
            f"| lookups/s, {look['queries']:,} at once (half present) | "
            f"{look['batch_lookups_per_s']:,.0f} |",
            f"| lookups/s, in batches of 1,000 | {look['batches_of_1000_lookups_per_s']:,.0f} |",
            f"| lookup process peak memory (MB) | {look['peak_rss_mb']:,.0f} |",
        ]
    lines += [
        "",
        f"### `muhafiz bank lookup`: {cli['lines']:,} PDQ hashes against the {args.size:,}-hash "
        "bank directory, whole process",
        "",
        f"Command: `{cli['command']}`. Bank files evicted from the page cache first "
        "(`posix_fadvise(DONTNEED)`), so the process starts cold and memory-maps from disk.",
        "",
        f"- cold start to last line written: **{cli['seconds']:.1f} s** "
        f"({cli['matched']:,} of {cli['lines']:,} inputs matched; {cli['near_queries']:,} were "
        "near-duplicates, the rest random and unmatched); again, cold: "
        f"{cli['seconds_again']:.1f} s",
    ]
    return "\n".join(lines) + "\n"


def write_results(report: str) -> None:
    text = RESULTS.read_text()
    before, rest = text.split(START, 1)
    _, after = rest.split(END, 1)
    RESULTS.write_text(before + START + "\n" + report + END + after)


if __name__ == "__main__":
    main()
