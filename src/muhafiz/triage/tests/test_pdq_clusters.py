"""Near-duplicate clusters of PDQ hashes: the index gives what comparing every pair gives."""

from __future__ import annotations

import numpy as np
import pytest

from muhafiz.triage import scanfile
from muhafiz.triage.scanfile import pdq_clusters


def all_pairs(hexes: list[str], max_distance: int) -> list[list[int]]:
    """The definition: single linkage over every pair's distance (what finish() did before)."""
    n = len(hexes)
    values = [int(h, 16) for h in hexes]
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    for i in range(n):
        for j in range(i + 1, n):
            if (values[i] ^ values[j]).bit_count() <= max_distance:
                a, b = find(i), find(j)
                parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def families(rng: np.random.Generator, count: int, unrelated: int, max_distance: int) -> list[str]:
    """Near-duplicate families (chains that link only through their middle members, exact
    copies, members just inside and just outside the distance) among unrelated hashes."""
    hexes: list[str] = []
    for _ in range(count):
        base = int.from_bytes(rng.bytes(32), "big")
        size = int(rng.integers(2, 6))
        value = base
        for _ in range(size):
            hexes.append(f"{value:064x}")
            step = int(rng.integers(max_distance * 2 // 3, max_distance + 5))
            flips = rng.choice(256, size=step, replace=False)
            for bit in flips.tolist():
                value ^= 1 << bit
        if rng.random() < 0.3:
            hexes.append(f"{base:064x}")  # an exact copy
    hexes.extend(f"{int.from_bytes(rng.bytes(32), 'big'):064x}" for _ in range(unrelated))
    order = rng.permutation(len(hexes))
    return [hexes[i] for i in order.tolist()]


@pytest.mark.parametrize("through_index", [False, True])
@pytest.mark.parametrize("max_distance", [31, 12, 40])
def test_clusters_equal_all_pairs(
    monkeypatch: pytest.MonkeyPatch, through_index: bool, max_distance: int
) -> None:
    if through_index:  # small sets take the index too, so that it is what is compared
        monkeypatch.setattr(scanfile, "CLUSTER_INDEX_FROM", 2)
        monkeypatch.setattr(scanfile, "CLUSTER_QUERY_BLOCK", 7)
    rng = np.random.default_rng(max_distance)
    hexes = families(rng, count=60, unrelated=300, max_distance=max_distance)
    expected = all_pairs(hexes, max_distance)
    assert len(expected) >= 30  # the families do form clusters, some through chains
    assert pdq_clusters(hexes, max_distance) == expected


def test_copies_of_one_picture_are_one_cluster() -> None:
    hexes = ["ab" * 32] * 5 + ["cd" * 32] + ["ab" * 32]
    assert pdq_clusters(hexes, 31) == [[0, 1, 2, 3, 4, 6]]
    assert pdq_clusters(hexes, 0) == [[0, 1, 2, 3, 4, 6]]
    assert pdq_clusters(["ab" * 32], 31) == []
    assert pdq_clusters([], 31) == []
