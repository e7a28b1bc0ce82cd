"""The measurements behind docs/decisions/0101-pdq-index.md and 0105: multi-index layouts and
FAISS brute force on the same random bank, one core, best of five batch passes (wall time and
CPU time; CPU time is the steadier one on a shared machine).

    .venv/bin/python benchmarks/banks/layouts.py --size 10000000
    .venv/bin/python benchmarks/banks/layouts.py --size 1000000 --chunks 12,13,14,15,16 --no-faiss
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from common import flip_bits, random_words

from muhafiz.banks.index.pdq import MihLayout, PdqIndex


def layouts(size: int, chunks: list[int]) -> dict[str, MihLayout]:
    if chunks:
        return {f"{m} chunks": MihLayout.with_chunks(m) for m in chunks}
    return {
        "16 x 16 bits, radius 1 (FAISS/threatexchange layout)": MihLayout((16,) * 16, (1,) * 16),
        "12 x 21-22 bits, radius 1-2": MihLayout((22,) * 4 + (21,) * 8, (1,) * 4 + (2,) * 8),
        f"automatic for {size:,}": MihLayout.for_size(size),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=10_000_000)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--chunks", default="", help="chunk counts to compare, e.g. 12,13,16")
    parser.add_argument("--no-faiss", action="store_true")
    args = parser.parse_args()
    chunks = [int(m) for m in args.chunks.split(",") if m]
    rng = np.random.default_rng(7)
    hashes = random_words(rng, args.size)
    near = flip_bits(
        hashes[rng.integers(0, args.size, args.queries)], rng.integers(0, 32, args.queries), rng
    )
    queries = np.concatenate([near, random_words(rng, args.queries)])
    print(f"automatic for {args.size:,}: {MihLayout.for_size(args.size)}")
    print("| layout | probes/query | build (s) | index MB | lookups/s (batch) | CPU lookups/s |")
    print("|---|---|---|---|---|---|")
    for name, layout in layouts(args.size, chunks).items():
        started = time.perf_counter()
        index = PdqIndex.build(hashes, layout=layout)
        build = time.perf_counter() - started
        size_mb = (index.offsets.nbytes + index.rows.nbytes) / 2**20  # type: ignore[union-attr]
        best, best_cpu = 0.0, 0.0
        for _ in range(5):
            started, cpu = time.perf_counter(), time.process_time()
            index.search(queries)
            best = max(best, queries.shape[0] / (time.perf_counter() - started))
            best_cpu = max(best_cpu, queries.shape[0] / max(1e-9, time.process_time() - cpu))
        probes = index._probe_mask.shape[0]
        print(
            f"| {name}: {layout.widths[0]}…{layout.widths[-1]} bits | {probes:,} | "
            f"{build:.1f} | {size_mb:,.0f} | {best:,.0f} | {best_cpu:,.0f} |",
            flush=True,
        )
        del index
    if args.no_faiss:
        return
    import faiss

    faiss.omp_set_num_threads(1)
    flat = faiss.IndexBinaryFlat(256)
    flat.add(hashes.astype(">u8").view(np.uint8))
    sample = queries[:: max(1, queries.shape[0] // 100)].astype(">u8").view(np.uint8)
    started = time.perf_counter()
    flat.range_search(sample, 32)
    rate = sample.shape[0] / (time.perf_counter() - started)
    print(f"| FAISS IndexBinaryFlat (exhaustive) | - | 0 | - | {rate:,.0f} | - |")


if __name__ == "__main__":
    main()
