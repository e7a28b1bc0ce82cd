"""Our PDQ index, measured in its own process: build, single-query and batch lookups on one
core, recall against brute force, peak memory. Optionally saves the index as a bank directory."""

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

from muhafiz.banks.index.pdq import PdqIndex

REPEATS = 3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hashes", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--bank-dir", type=Path)
    args = parser.parse_args()

    hashes = np.load(args.hashes)
    queries = np.load(args.queries)
    loaded_mb = peak_rss_mb()
    started = time.perf_counter()
    index = PdqIndex.build(hashes)
    build_s = time.perf_counter() - started

    half = queries.shape[0] // 2
    found: set[tuple[int, int]] = set()
    single: dict[str, float] = {}
    # Best of REPEATS passes: the cores are shared, so the fastest pass is the least disturbed.
    for _ in range(REPEATS):
        for name, block, offset in (
            ("near", queries[:half], 0),
            ("unrelated", queries[half:], half),
        ):
            started = time.perf_counter()
            for i in range(block.shape[0]):
                _, rows, _ = index.search(block[i : i + 1])
                found.update((offset + i, int(r)) for r in rows)
            rate = block.shape[0] / (time.perf_counter() - started)
            single[name] = max(single.get(name, 0.0), rate)
    batch = 0.0
    for _ in range(REPEATS):
        started = time.perf_counter()
        qpos, rows, _ = index.search(queries)
        batch = max(batch, queries.shape[0] / (time.perf_counter() - started))
    batch_found = set(zip(qpos.tolist(), rows.tolist(), strict=True))

    result = {
        "side": "muhafiz",
        "layout": index.layout.to_json() if index.layout else None,
        "build_s": build_s,
        "single_lookups_per_s": single,
        "batch_lookups_per_s": batch,
        "found": sorted(found),
        "batch_found_equal": batch_found == found,
        "peak_rss_mb": peak_rss_mb(),
        "data_rss_mb": loaded_mb,
    }
    if args.bank_dir is not None:
        from muhafiz.banks.bankdir import create_bank_dir_from_segment
        from muhafiz.banks.entries import EntryStore
        from muhafiz.banks.model import BankKind
        from muhafiz.banks.segment import Segment

        segment = Segment({}, index, EntryStore(), {"entries": len(index), "pdq": len(index)})
        started = time.perf_counter()
        create_bank_dir_from_segment(
            args.bank_dir,
            name="bench-pdq",
            kind=BankKind.KNOWN_BAD,
            segment=segment,
            provenance={"source": args.hashes.name, "format": "generated"},
        )
        result["save_s"] = time.perf_counter() - started
    emit(result)


if __name__ == "__main__":
    main()
