"""Every PDQ index layout the size rule can pick finds exactly what brute force finds.

The rule (`MihLayout.for_size`) picks a chunk count from the bank's size; recall must be
complete at distance 0..31 whatever it picks, including the worst case for the pigeonhole
argument (every chunk one flip beyond its radius except one chunk at exactly its radius).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from muhafiz.banks.index.pdq import BRUTE_FORCE_BELOW, MihLayout, PdqIndex, popcount_rows

# One bank size per layout the rule picks, from 65,536 hashes up (below, brute force).
SIZES = [1 << 16, 100_000, 500_000, 1_000_000, 10_000_000, 1 << 34]


def _words(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, np.iinfo(np.uint64).max, size=(n, 4), dtype=np.uint64, endpoint=True)


def _flip(row: np.ndarray, positions: list[int]) -> np.ndarray:
    bits = np.unpackbits(row.astype(">u8").view(np.uint8))
    bits[positions] ^= 1
    return np.packbits(bits).view(">u8").astype(np.uint64)


def _brute(hashes: np.ndarray, queries: np.ndarray) -> set[tuple[int, int, int]]:
    distances = np.bitwise_count(queries[:, None, :] ^ hashes[None, :, :]).sum(axis=2)
    q, r = np.nonzero(distances <= 31)
    return {(int(a), int(b), int(distances[a, b])) for a, b in zip(q, r, strict=True)}


def _worst_cases(layout: MihLayout, row: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """For each chunk j: r_i + 1 flips in every other chunk, r_j flips in chunk j (distance
    31 when the budget is 32): only chunk j's probes at full radius can find the hash."""
    out = []
    for j in range(len(layout.widths)):
        positions: list[int] = []
        for i, (start, width) in enumerate(zip(layout.starts, layout.widths, strict=True)):
            flips = layout.radii[i] + (0 if i == j else 1)
            positions.extend(int(p) for p in start + rng.choice(width, flips, replace=False))
        out.append(_flip(row, positions))
    return out


def _rule_layouts() -> list[MihLayout]:
    return list(dict.fromkeys(MihLayout.for_size(n) for n in SIZES))


def test_the_rule_picks_several_layouts_and_each_guarantees_31() -> None:
    layouts = _rule_layouts()
    assert len(layouts) >= 4
    for layout in layouts:
        assert sum(layout.widths) == 256
        assert max(layout.widths) <= 24
        assert layout.guaranteed_distance == 31
    # Small banks get narrow chunks at radius 1, large ones wide chunks at radius 2.
    assert MihLayout.for_size(100_000) == MihLayout.with_chunks(16)
    assert MihLayout.for_size(10_000_000) == MihLayout.with_chunks(11)


def test_the_rule_takes_the_cheapest_layout_for_the_size() -> None:
    for n in (70_000, 300_000, 700_000, 3_000_000, 50_000_000):
        chosen = MihLayout.for_size(n)
        costs = [MihLayout.with_chunks(m).expected_cost(n) for m in range(11, 33)]
        assert chosen.expected_cost(n) == min(costs)


@pytest.mark.parametrize("layout", _rule_layouts(), ids=lambda lay: f"{len(lay.widths)}chunks")
def test_every_layout_the_rule_picks_has_complete_recall(layout: MihLayout, tmp_path: Path) -> None:
    rng = np.random.default_rng(len(layout.widths))
    hashes = _words(rng, 2_000)
    queries = []
    for distance in range(41):  # 32..40 must not be reported
        for source in rng.integers(0, hashes.shape[0], size=4):
            positions = [int(p) for p in rng.choice(256, distance, replace=False)]
            queries.append(_flip(hashes[source], positions))
    for source in rng.integers(0, hashes.shape[0], size=3):
        queries.extend(_worst_cases(layout, hashes[source], rng))
    queries.extend(_words(rng, 50))
    batch = np.stack(queries)
    expected = _brute(hashes, batch)
    assert {d for _, _, d in expected} >= set(range(32))  # every distance 0..31 is exercised

    index = PdqIndex.build(hashes, layout=layout)
    index.save(tmp_path)
    loaded = PdqIndex.load(tmp_path)
    assert loaded.layout == layout
    for candidate in (index, loaded):
        q, r, d = candidate.search(batch, 31)
        assert set(zip(q.tolist(), r.tolist(), d.tolist(), strict=True)) == expected
    single: set[tuple[int, int, int]] = set()
    for i in range(0, batch.shape[0], 7):  # the few-queries path (bit-matrix chunk keys)
        _, r, d = loaded.search(batch[i : i + 1], 31)
        single.update((i, row, dist) for row, dist in zip(r.tolist(), d.tolist(), strict=True))
    assert single == {t for t in expected if t[0] % 7 == 0}


def test_an_index_saved_with_an_older_layout_is_searched_with_that_layout(
    tmp_path: Path,
) -> None:
    # The rule before issue 14 gave 100,000 hashes 15 chunks of 17-18 bits; a bank directory
    # written then keeps its layout file and must answer the same with it.
    old = MihLayout((18,) + (17,) * 14, (1,) * 13 + (2, 2))
    assert old != MihLayout.for_size(100_000)
    rng = np.random.default_rng(15)
    hashes = _words(rng, BRUTE_FORCE_BELOW + 10)
    PdqIndex.build(hashes, layout=old).save(tmp_path)
    loaded = PdqIndex.load(tmp_path)
    assert loaded.layout == old
    sources = rng.integers(0, hashes.shape[0], size=40)
    queries = np.stack(
        [
            _flip(hashes[s], [int(p) for p in rng.choice(256, i % 32, replace=False)])
            for i, s in enumerate(sources)
        ]
    )
    q, r, d = loaded.search(queries, 31)
    assert set(zip(q.tolist(), r.tolist(), d.tolist(), strict=True)) == _brute(hashes, queries)


def test_popcount_rows_counts_all_256_bits() -> None:
    # The distance adds four per-word counts in small integers: 256 must not wrap to 0.
    full = np.iinfo(np.uint64).max
    rows = np.array([[full] * 4, [0] * 4, [full, 0, full, 1], [1, 3, 7, 15]], dtype=np.uint64)
    assert popcount_rows(rows).tolist() == [256, 0, 129, 10]


FAULTS_OF_A_SEARCH = """
import resource, sys
from pathlib import Path
import numpy as np
from muhafiz.banks.index.pdq import PdqIndex
index = PdqIndex.load(Path(sys.argv[1]))
queries = np.load(sys.argv[2])
index.search(queries)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
index.search(queries)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc malloc and minflt")
def test_a_repeated_search_does_not_fault_its_memory_in_again(tmp_path: Path) -> None:
    # Before, each search batch's temporaries went back to the OS and were faulted in again:
    # ~10 minor page faults per query at 100 k hashes, over half the search time. A fresh
    # process, as `muhafiz bank lookup` is: memory-maps a saved index and searches it twice.
    rng = np.random.default_rng(5)
    hashes = _words(rng, 100_000)
    PdqIndex.build(hashes).save(tmp_path)
    queries = np.concatenate(
        [np.stack([_flip(hashes[i], [3, 70, 140]) for i in range(500)]), _words(rng, 1_500)]
    )
    np.save(tmp_path / "queries.npy", queries)
    done = subprocess.run(
        [sys.executable, "-c", FAULTS_OF_A_SEARCH, str(tmp_path), str(tmp_path / "queries.npy")],
        capture_output=True,
        text=True,
        check=True,
    )
    faults = int(done.stdout.strip())
    assert faults < 200, f"{faults} page faults for 2,000 queries"
