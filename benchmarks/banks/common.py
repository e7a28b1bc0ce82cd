"""Shared pieces of the bank benchmarks: the synthetic corpus and small measuring helpers.

Imported by the orchestrator and by our side; the baseline side (another virtualenv, no
Muhafiz) reads only the .npy files written here.
"""

from __future__ import annotations

import json
import resource
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "benchmarks" / ".corpus" / "banks"
MATCH_DISTANCE = 31


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    Read from VmHWM, which starts afresh at exec; `ru_maxrss` would carry the parent's peak
    into a child started by fork/vfork + exec and overstate small processes.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def random_words(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, np.iinfo(np.uint64).max, size=(n, 4), dtype=np.uint64, endpoint=True)


def flip_bits(words: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copies of `words` rows with counts[i] distinct random bits flipped in row i."""
    bits = np.unpackbits(words.astype(">u8").view(np.uint8), axis=1)
    for row, count in enumerate(counts):
        bits[row, rng.choice(256, int(count), replace=False)] ^= 1
    return np.packbits(bits, axis=1).view(">u8").astype(np.uint64)


def make_corpus(size: int, queries: int, seed: int = 20261129) -> dict[str, Path]:
    """Bank hashes, near-duplicate queries (0-31 bits flipped), unrelated queries; cached."""
    CORPUS.mkdir(parents=True, exist_ok=True)
    paths = {
        "hashes": CORPUS / f"pdq-{size}.npy",
        "queries": CORPUS / f"queries-{size}-{queries}.npy",
        "sources": CORPUS / f"sources-{size}-{queries}.npy",
    }
    if all(p.exists() for p in paths.values()):
        return paths
    rng = np.random.default_rng(seed)
    hashes = random_words(rng, size)
    np.save(paths["hashes"], hashes)
    sources = rng.integers(0, size, size=queries)
    near = flip_bits(hashes[sources], rng.integers(0, MATCH_DISTANCE + 1, size=queries), rng)
    unrelated = random_words(rng, queries)
    np.save(paths["queries"], np.concatenate([near, unrelated]))
    np.save(paths["sources"], sources)
    return paths


def ground_truth(hashes_path: Path, queries_path: Path) -> set[tuple[int, int]]:
    """(query, row) pairs within distance 31, by exhaustive search (FAISS flat, exact)."""
    import faiss

    cache = queries_path.with_suffix(".truth.npy")
    if cache.exists():
        pairs = np.load(cache)
        return {(int(q), int(r)) for q, r in pairs}
    faiss.omp_set_num_threads(1)
    hashes = np.load(hashes_path)
    queries = np.load(queries_path)
    index = faiss.IndexBinaryFlat(256)
    index.add(hashes.astype(">u8").view(np.uint8))
    limits, _, ids = index.range_search(queries.astype(">u8").view(np.uint8), MATCH_DISTANCE + 1)
    pairs = np.array(
        [(q, int(r)) for q in range(queries.shape[0]) for r in ids[limits[q] : limits[q + 1]]],
        dtype=np.int64,
    ).reshape(-1, 2)
    np.save(cache, pairs)
    return {(int(q), int(r)) for q, r in pairs}


def recall(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> float:
    return 1.0 if not truth else len(found & truth) / len(truth)


def emit(result: dict[str, Any]) -> None:
    """A side process reports one JSON object on its last stdout line."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
