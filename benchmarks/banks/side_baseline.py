"""python-threatexchange's PDQIndex (FAISS multi-index hashing, 16 x 16 bits), measured in its own
process under benchmarks/.venv-baseline (this file must not import Muhafiz)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ["OMP_NUM_THREADS"] = "1"

import faiss
import numpy as np
from threatexchange.signal_type.pdq.pdq_index import PDQIndex

REPEATS = 3


def peak_rss_mb() -> float:
    """VmHWM (fresh at exec; ru_maxrss would include the parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def to_hex(words: np.ndarray) -> list[str]:
    raw = words.astype(">u8").tobytes()
    return [raw[i : i + 32].hex() for i in range(0, len(raw), 32)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hashes", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)

    hexes = to_hex(np.load(args.hashes))
    queries = to_hex(np.load(args.queries))
    started = time.perf_counter()
    index = PDQIndex.build((h, i) for i, h in enumerate(hexes))
    build_s = time.perf_counter() - started
    del hexes

    half = len(queries) // 2
    found: set[tuple[int, int]] = set()
    single: dict[str, float] = {}
    # Best of REPEATS passes, exactly as on our side.
    for _ in range(REPEATS):
        for name, block, offset in (
            ("near", queries[:half], 0),
            ("unrelated", queries[half:], half),
        ):
            started = time.perf_counter()
            for i, query in enumerate(block):
                for match in index.query(query):
                    found.add((offset + i, int(match.metadata)))
            rate = len(block) / (time.perf_counter() - started)
            single[name] = max(single.get(name, 0.0), rate)
    batch = 0.0
    for _ in range(REPEATS):
        started = time.perf_counter()
        index.index.search_with_distance_in_result(queries, 31)
        batch = max(batch, len(queries) / (time.perf_counter() - started))

    print(
        json.dumps(
            {
                "side": "threatexchange",
                "build_s": build_s,
                "single_lookups_per_s": single,
                "batch_lookups_per_s": batch,
                "found": sorted(found),
                "peak_rss_mb": peak_rss_mb(),
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
