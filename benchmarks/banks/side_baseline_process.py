"""python-threatexchange's PDQIndex as a user would run it from the command line, for the
whole-process comparison in sizes.py (runs under benchmarks/.venv-baseline; no Muhafiz).

    build  --hashes H.npy --index OUT.pickle   build the index, save it (PDQIndex.serialize)
    lookup --index OUT.pickle QUERIES.txt      open the saved index, look every line up, write
                                               one JSON line per query: {"line", "matches"}

The lookup process is timed from outside (start to exit); it also reports its own phases
(imports, opening the index, the lookups) on stderr as one JSON object, so the whole-process
time can be split into start-up and per-query cost. Queries go through the index's batch
search (faster than `PDQIndex.query` one hash at a time), the strictest comparison for us.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

os.environ["OMP_NUM_THREADS"] = "1"

import faiss  # noqa: E402
import numpy as np  # noqa: E402
from threatexchange.signal_type.pdq.pdq_index import PDQIndex  # noqa: E402

IMPORTED = time.perf_counter()


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def build(hashes_path: Path, index_path: Path) -> None:
    words = np.load(hashes_path)
    raw = words.astype(">u8").tobytes()
    hexes = [raw[i : i + 32].hex() for i in range(0, len(raw), 32)]
    started = time.perf_counter()
    index = PDQIndex.build((h, i) for i, h in enumerate(hexes))
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    with index_path.open("wb") as handle:
        index.serialize(handle)
    save_s = time.perf_counter() - started
    phases = {"build_s": build_s, "save_s": save_s, "peak_rss_mb": peak_rss_mb()}
    sys.stderr.write(json.dumps(phases) + "\n")


def lookup(index_path: Path, queries_path: Path) -> None:
    faiss.omp_set_num_threads(1)
    with index_path.open("rb") as handle:
        index = PDQIndex.deserialize(handle)
    opened = time.perf_counter()
    queries = [line.strip() for line in queries_path.read_text().splitlines() if line.strip()]
    results = index.index.search_with_distance_in_result(queries, index.get_match_threshold())
    out = sys.stdout
    for number, query in enumerate(queries, start=1):
        matches = [
            {"entry": index.local_id_to_entry[int(local)][0], "distance": int(distance)}
            for local, _, distance in results[query]
        ]
        out.write(json.dumps({"line": number, "matches": matches}) + "\n")
    out.flush()
    done = time.perf_counter()
    phases = {
        "imports_s": IMPORTED - STARTED,
        "open_s": opened - IMPORTED,
        "lookups_s": done - opened,
        "peak_rss_mb": peak_rss_mb(),
    }
    sys.stderr.write(json.dumps(phases) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    build_parser = commands.add_parser("build")
    build_parser.add_argument("--hashes", type=Path, required=True)
    build_parser.add_argument("--index", type=Path, required=True)
    lookup_parser = commands.add_parser("lookup")
    lookup_parser.add_argument("--index", type=Path, required=True)
    lookup_parser.add_argument("queries", type=Path)
    args = parser.parse_args()
    if args.command == "build":
        build(args.hashes, args.index)
    else:
        lookup(args.index, args.queries)


if __name__ == "__main__":
    main()
