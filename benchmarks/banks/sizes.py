"""PDQ lookups at every bank size, whole process, against python-threatexchange (issue 14):

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/banks/sizes.py --sizes 100000,1000000,10000000

At each size: a bank of random PDQ hashes and 2,000 queries (1,000 near-duplicates of bank
hashes at 0-31 bits, 1,000 unrelated). Each side first builds and saves its index in its own
process (timed), then answers the 2,000 queries in a fresh process, timed from start to exit:
ours is `muhafiz bank lookup --bank-dir DIR QUERIES`, the baseline a script that opens the
saved `PDQIndex` (its own `serialize`/`deserialize`) and batch-searches it
(side_baseline_process.py, benchmarks/.venv-baseline). Both answer in JSON lines; recall is
checked against exhaustive search (FAISS flat), and nothing beyond distance 31 may be reported.
Each lookup process runs `--repeats` times, alternating sides; the best run of each side
counts (the cores are shared). CPU time (user + system) is reported beside wall time: it is
less disturbed by other load. Results go to the bank-sizes section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np
from benchmarks.results import uptime, write_section
from common import CORPUS, ROOT, ground_truth, make_corpus
from run import baseline_python, machine

HERE = Path(__file__).resolve().parent
ONE_CORE = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
QUERIES = 1000  # near-duplicates, and as many unrelated
MATCH_DISTANCE = 31


def timed(command: list[str], stdout: Path | None = None) -> dict[str, Any]:
    """Run a process; wall time from start to exit, its CPU time, its stderr's last line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with (stdout or Path(os.devnull)).open("w") as handle:
        done = subprocess.run(
            command, stdout=handle, stderr=subprocess.PIPE, env=ONE_CORE, check=False
        )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stderr.decode()[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    tail = done.stderr.decode().strip().splitlines()
    phases: dict[str, Any] = {}
    if tail and tail[-1].startswith("{"):
        phases = json.loads(tail[-1])
    return {"wall_s": wall, "cpu_s": cpu, "phases": phases}


def write_queries(queries: np.ndarray, path: Path) -> None:
    raw = queries.astype(">u8").tobytes()
    path.write_text("".join(raw[i : i + 32].hex() + "\n" for i in range(0, len(raw), 32)))


def found_pairs(output: Path, row_of: dict[str, int]) -> tuple[set[tuple[int, int]], int]:
    """(query, bank row) pairs in a side's JSON lines, and the largest distance it reported."""
    pairs: set[tuple[int, int]] = set()
    largest = 0
    for line in output.read_text().splitlines():
        record = json.loads(line)
        for match in record.get("matches", []):
            entry = match["entry"]
            value = entry["pdq"] if isinstance(entry, dict) else entry
            if value is None:
                continue  # an exact SHA-256 match (not possible with random values)
            pairs.add((record["line"] - 1, row_of[value]))
            largest = max(largest, int(match["distance"]))
    return pairs, largest


def measure_size(size: int, repeats: int, baseline: bool) -> dict[str, Any]:
    paths = make_corpus(size, QUERIES)
    truth = ground_truth(paths["hashes"], paths["queries"])
    hashes = np.load(paths["hashes"], mmap_mode="r")
    query_file = CORPUS / f"sizes-queries-{size}.txt"
    write_queries(np.load(paths["queries"]), query_file)
    list_file = CORPUS / f"sizes-bank-{size}.pdq"
    if not list_file.exists():
        write_queries(np.asarray(hashes), list_file)
    wanted_rows = sorted({r for _, r in truth})
    raw = np.asarray(hashes[wanted_rows]).astype(">u8").tobytes()
    row_of = {raw[i * 32 : i * 32 + 32].hex(): r for i, r in enumerate(wanted_rows)}
    result: dict[str, Any] = {"size": size, "truth_pairs": len(truth)}

    muhafiz = ROOT / ".venv" / "bin" / "muhafiz"
    bank_dir = CORPUS / f"sizes-bank-{size}"
    shutil.rmtree(bank_dir, ignore_errors=True)
    build_command = [str(muhafiz), "bank", "build-dir", str(bank_dir), str(list_file)]
    build_command += ["--name", "bench", "--kind", "known-bad", "--format", "pdq"]
    result["ours_build"] = timed(build_command)
    layout_file = next(bank_dir.rglob("pdq.mih.json"), None)
    result["layout"] = json.loads(layout_file.read_text()) if layout_file else None
    ours_command = [str(muhafiz), "bank", "lookup", "--bank-dir", str(bank_dir), str(query_file)]
    result["ours_command"] = "muhafiz bank lookup --bank-dir BANK_DIR QUERIES.txt"

    base_command: list[str] = []
    if baseline:
        python = str(baseline_python())
        index_file = CORPUS / f"sizes-threatexchange-{size}.pickle"
        script = str(HERE / "side_baseline_process.py")
        built = timed(
            [python, script, "build", "--hashes", str(paths["hashes"]), "--index", str(index_file)]
        )
        result["base_build"] = built
        base_command = [python, script, "lookup", "--index", str(index_file), str(query_file)]

    runs: dict[str, list[dict[str, Any]]] = {"ours": [], "base": []}
    outputs = {
        "ours": CORPUS / f"sizes-out-ours-{size}.jsonl",
        "base": CORPUS / f"sizes-out-base-{size}.jsonl",
    }
    for _ in range(repeats):
        runs["ours"].append(timed(ours_command, outputs["ours"]))
        if base_command:
            runs["base"].append(timed(base_command, outputs["base"]))
    for side in ("ours", "base"):
        if not runs[side]:
            continue
        found, largest = found_pairs(outputs[side], row_of)
        result[side] = {
            "best_wall_s": min(r["wall_s"] for r in runs[side]),
            "best_cpu_s": min(r["cpu_s"] for r in runs[side]),
            "walls": [round(r["wall_s"], 2) for r in runs[side]],
            "phases": min(runs[side], key=lambda r: r["wall_s"])["phases"],
            "recall": len(found & truth) / len(truth) if truth else 1.0,
            "largest_distance": largest,
            "extra_pairs": len(found - truth),
        }
    if bank_dir.exists():
        result["ours_disk_mb"] = (
            sum(p.stat().st_size for p in bank_dir.rglob("*") if p.is_file()) / 2**20
        )
    result["load_after"] = f"{os.getloadavg()[0]:.1f}"
    return result


def render(results: list[dict[str, Any]], facts: dict[str, str], command: str, load: str) -> str:
    count = 2 * QUERIES
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}`.",
        "",
        f"Machine: {facts['nproc']} cores ({facts['cpu']}), {facts['memory']} RAM, Python "
        f"{facts['python']}, numpy {facts['numpy']}. Load before: `{load}`; after: "
        f"`{uptime()}`. Other engineers' jobs share the cores: wall times carry that noise, "
        "CPU times (user + system of the lookup process) much less.",
        "",
        f"Each lookup process answers {count:,} queries ({QUERIES:,} near-duplicates at 0-31 "
        f"bits, {QUERIES:,} unrelated) from a text file, one hash a line, and writes JSON lines; "
        "timed from process start to exit, best of the repeats, the two sides alternating. "
        "Ours: `muhafiz bank lookup --bank-dir BANK QUERIES`. threatexchange: a script that "
        "opens the `PDQIndex` saved by its own `serialize` and batch-searches it "
        "(`benchmarks/banks/side_baseline_process.py`). Builds are separate processes.",
        "",
        "| bank size | Muhafiz lookups/s (wall) | threatexchange lookups/s (wall) | ratio (wall) "
        "| ratio (CPU) | threatexchange's lookups alone, per s (ratio) | recall (ours / theirs) "
        "| largest distance reported |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ours, base = r["ours"], r.get("base")
        ours_rate = count / ours["best_wall_s"]
        if base:
            base_rate = count / base["best_wall_s"]
            alone = count / base["phases"]["lookups_s"] if base["phases"] else 0.0
            lines.append(
                f"| {r['size']:,} | {ours_rate:,.0f} | {base_rate:,.0f} | "
                f"**{ours_rate / base_rate:.1f}×** | "
                f"{base['best_cpu_s'] / ours['best_cpu_s']:.1f}× | "
                f"{alone:,.0f} ({ours_rate / alone if alone else 0:.1f}×) | "
                f"{ours['recall']:.2%} / {base['recall']:.2%} | "
                f"{ours['largest_distance']} / {base['largest_distance']} |"
            )
        else:
            lines.append(
                f"| {r['size']:,} | {ours_rate:,.0f} | not run | | | | {ours['recall']:.2%} | "
                f"{ours['largest_distance']} |"
            )
    lines += [
        "",
        "The ratio (wall) compares whole processes; the column after it compares our whole "
        "process with only the baseline's lookup loop (its imports and its index load left "
        "out), the strictest reading.",
        "",
        "Where the time goes (best run of each side; threatexchange's phases are its own "
        "clock, ours are the process total less that of a lookup of no hashes against the "
        "same bank):",
        "",
        "| bank size | side | build (s) | lookup process wall (s) | CPU (s) | start-up and "
        "open (s) | lookups (s) | peak memory of build (MB) | runs (wall, s) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for side, label in (("ours", "Muhafiz"), ("base", "threatexchange")):
            if side not in r:
                continue
            run = r[side]
            build = r["ours_build"] if side == "ours" else r["base_build"]
            phases = run["phases"]
            if side == "base" and phases:
                startup = f"{phases['imports_s'] + phases['open_s']:.2f}"
                lookups = f"{phases['lookups_s']:.2f}"
                build_s = f"{build['phases'].get('build_s', build['wall_s']):.1f}"
                peak = f"{build['phases'].get('peak_rss_mb', 0):,.0f}"
            else:
                startup = f"{r['startup_s']:.2f}"
                lookups = f"{run['best_wall_s'] - r['startup_s']:.2f}"
                build_s = f"{build['wall_s']:.1f}"
                peak = "-"
            lines.append(
                f"| {r['size']:,} | {label} | {build_s} | {run['best_wall_s']:.2f} | "
                f"{run['best_cpu_s']:.2f} | {startup} | {lookups} | {peak} | "
                f"{', '.join(str(w) for w in run['walls'])} |"
            )
    lines.append("")
    for r in results:
        layout = r["layout"]
        if layout:
            lines.append(
                f"- {r['size']:,}: Muhafiz layout {len(layout['widths'])} chunks of "
                f"{min(layout['widths'])}-{max(layout['widths'])} bits, radii "
                f"{min(layout['radii'])}-{max(layout['radii'])} (chosen from the size at "
                f"build); bank directory {r.get('ours_disk_mb', 0):,.0f} MB; our build is "
                "`muhafiz bank build-dir` from a PDQ list file (parsing included), theirs "
                "`PDQIndex.build` from hex strings in memory plus `serialize`."
            )
    return "\n".join(lines) + "\n"


def startup_seconds(size: int, repeats: int) -> float:
    """Wall time of `muhafiz bank lookup` of no hashes against the bank: the interpreter, the
    imports and opening the bank directory (`--help` would time click's command tree, which
    a plain lookup no longer loads)."""
    muhafiz = str(ROOT / ".venv" / "bin" / "muhafiz")
    empty = CORPUS / "sizes-queries-none.txt"
    empty.write_text("")
    command = [muhafiz, "bank", "lookup", "--bank-dir", str(CORPUS / f"sizes-bank-{size}")]
    return float(min(timed([*command, str(empty)])["wall_s"] for _ in range(repeats)))


def compile_sources() -> None:
    """Write the bytecode of Muhafiz's own modules, as installing a wheel does: in an editable
    install under PYTHONDONTWRITEBYTECODE=1 (our shells set it) no .pyc is ever written, and
    every lookup process would compile its modules from source (13 ms of CPU at load 9)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "muhafiz")],
        stdout=subprocess.DEVNULL,
        check=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--no-results", action="store_true", help="do not write RESULTS.md")
    args = parser.parse_args()
    compile_sources()
    facts = machine()
    load = uptime()
    print(f"machine: {facts}; {load}", flush=True)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        result = measure_size(size, args.repeats, not args.no_baseline)
        result["startup_s"] = startup_seconds(size, args.repeats)
        print(json.dumps(result), flush=True)
        results.append(result)
    command = "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/banks/sizes.py"
    command += f" --sizes {args.sizes}"
    report = render(results, facts, command, load)
    print(report)
    if not args.no_results:
        write_section("bank-sizes", "PDQ lookups at every bank size, whole process", report)


if __name__ == "__main__":
    main()
