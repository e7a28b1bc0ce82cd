"""Near-duplicate clustering at the end of a scan (`ScanWriter.finish`): index against all pairs.

    .venv/bin/python benchmarks/triage/clusters.py --hashes 200000          # both, same run
    .venv/bin/python benchmarks/triage/clusters.py --hashes 2000000 --no-all-pairs

The hashes are random, with a fifth of them in near-duplicate families (each member 10-31 bits
from the previous) and some exact copies, as a phone's camera roll has bursts and re-saves.
'All pairs' is the earlier `pdq_clusters` (one vectorised row against every later row, union-
find); both must give the same clusters. CPU seconds of this process.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from muhafiz.triage.scanfile import pdq_clusters  # noqa: E402


def corpus(n: int, seed: int = 1) -> list[str]:
    rng = np.random.default_rng(seed)
    hexes: list[str] = []
    while len(hexes) < n // 5:
        value = int.from_bytes(rng.bytes(32), "big")
        for _ in range(int(rng.integers(2, 8))):
            hexes.append(f"{value:064x}")
            if rng.random() < 0.1:
                hexes.append(f"{value:064x}")
            for bit in rng.choice(256, size=int(rng.integers(10, 32)), replace=False).tolist():
                value ^= 1 << bit
    hexes.extend(f"{int.from_bytes(rng.bytes(32), 'big'):064x}" for _ in range(n - len(hexes)))
    order = rng.permutation(len(hexes))
    return [hexes[i] for i in order.tolist()]


def all_pairs(hexes: list[str], max_distance: int) -> list[list[int]]:
    """The earlier implementation, kept here as the baseline."""
    n = len(hexes)
    if n < 2:
        return []
    words = np.frombuffer(b"".join(bytes.fromhex(h) for h in hexes), dtype=">u8").reshape(n, 4)
    words = words.astype(np.uint64)
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n - 1):
        distances = np.bitwise_count(words[i + 1 :] ^ words[i]).sum(axis=1)
        for j in np.nonzero(distances <= max_distance)[0].tolist():
            a, b = find(i), find(i + 1 + j)
            if a != b:
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hashes", type=int, default=200_000)
    parser.add_argument("--distance", type=int, default=31)
    parser.add_argument("--no-all-pairs", action="store_true")
    args = parser.parse_args()
    hexes = corpus(args.hashes)
    load = Path("/proc/loadavg").read_text().split()[:3]
    start = time.process_time()
    ours = pdq_clusters(hexes, args.distance)
    index_s = time.process_time() - start
    print(
        f"{len(hexes):,} hashes, distance {args.distance}: index {index_s:.2f} CPU s, "
        f"{len(ours):,} clusters (load {' '.join(load)})",
        flush=True,
    )
    if not args.no_all_pairs:
        start = time.process_time()
        reference = all_pairs(hexes, args.distance)
        pairs_s = time.process_time() - start
        print(
            f"all pairs {pairs_s:.2f} CPU s ({pairs_s / index_s:.0f}x); "
            f"same clusters: {reference == ours}",
            flush=True,
        )


if __name__ == "__main__":
    main()
