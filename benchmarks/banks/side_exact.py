"""Exact membership over N SHA-1 values: `build` writes the sorted arrays and a query file;
`lookup` (a fresh process) memory-maps them and measures lookups per second and memory."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from common import emit, peak_rss_mb

from muhafiz.banks.index.exact import ExactSet

WIDTH = 20


def build(directory: Path, size: int, queries: int) -> None:
    rng = np.random.default_rng(30_000_000)
    directory.mkdir(parents=True, exist_ok=True)
    digests = rng.integers(0, 256, size=(size, WIDTH), dtype=np.uint8)
    hits = digests[rng.integers(0, size, size=queries // 2)]
    misses = rng.integers(0, 256, size=(queries - queries // 2, WIDTH), dtype=np.uint8)
    mixed = np.concatenate([hits, misses])
    np.save(directory / "queries.npy", mixed[rng.permutation(mixed.shape[0])])
    started = time.perf_counter()
    exact = ExactSet.build(WIDTH, digests)
    del digests
    exact.save(directory, "sha1")
    emit({"build_s": time.perf_counter() - started, "peak_rss_mb": peak_rss_mb(), "n": len(exact)})


def lookup(directory: Path) -> None:
    started = time.perf_counter()
    exact = ExactSet.load(directory, "sha1", WIDTH)
    open_s = time.perf_counter() - started
    queries = np.load(directory / "queries.npy")
    exact.lookup(queries[:1000])  # touch the code paths once
    batch = per_thousand = 0.0
    hits = 0
    for _ in range(3):  # best of three passes: the cores are shared
        started = time.perf_counter()
        qpos, _ = exact.lookup(queries)
        batch = max(batch, queries.shape[0] / (time.perf_counter() - started))
        started = time.perf_counter()
        hits = 0
        for i in range(0, queries.shape[0], 1000):
            hits += exact.lookup(queries[i : i + 1000])[0].shape[0]
        per_thousand = max(per_thousand, queries.shape[0] / (time.perf_counter() - started))
    emit(
        {
            "open_s": open_s,
            "batch_lookups_per_s": batch,
            "batches_of_1000_lookups_per_s": per_thousand,
            "hits": int(qpos.shape[0]),
            "hits_again": hits,
            "queries": int(queries.shape[0]),
            "peak_rss_mb": peak_rss_mb(),
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["build", "lookup"])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--size", type=int, default=30_000_000)
    parser.add_argument("--queries", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.mode == "build":
        build(args.dir, args.size, args.queries)
    else:
        lookup(args.dir)


if __name__ == "__main__":
    main()
