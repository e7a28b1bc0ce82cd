"""The exact and PDQ indexes against brute force, and their on-disk form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muhafiz.banks.index.exact import ExactSet
from muhafiz.banks.index.pdq import MihLayout, PdqIndex, extract_chunk, flip_masks


def _random_words(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, np.iinfo(np.uint64).max, size=(n, 4), dtype=np.uint64, endpoint=True)


def _flip(words: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(words.astype(">u8").view(np.uint8), axis=1)
    for row, count in enumerate(counts):
        bits[row, rng.choice(256, int(count), replace=False)] ^= 1
    return np.packbits(bits, axis=1).view(">u8").astype(np.uint64)


def _brute(hashes: np.ndarray, queries: np.ndarray, limit: int) -> set[tuple[int, int, int]]:
    distances = np.bitwise_count(queries[:, None, :] ^ hashes[None, :, :]).sum(axis=2)
    q, r = np.nonzero(distances <= limit)
    return {(int(a), int(b), int(distances[a, b])) for a, b in zip(q, r, strict=True)}


@pytest.mark.parametrize("n", [1, 5_000, 100_000])
def test_layouts_guarantee_distance_31(n: int) -> None:
    layout = MihLayout.for_size(n)
    assert sum(layout.widths) == 256
    assert layout.guaranteed_distance >= 31
    assert max(layout.widths) <= 24


def test_chunks_reassemble_the_hash() -> None:
    rng = np.random.default_rng(0)
    words = _random_words(rng, 20)
    layout = MihLayout((23, 24, 23, 24, 30, 2, 30, 30, 30, 30, 10), (0,) * 11)
    value = np.zeros(20, dtype=object)
    for start, width in zip(layout.starts, layout.widths, strict=True):
        value = value * (1 << width) + extract_chunk(words, start, width).astype(object)
    expected = [int("".join(f"{int(w):016x}" for w in row), 16) for row in words]
    assert list(value) == expected


def test_flip_masks_count_every_key_within_the_radius() -> None:
    assert len(set(flip_masks(10, 2).tolist())) == 1 + 10 + 45


@pytest.mark.parametrize("layout", [None, MihLayout.for_size(1 << 20), MihLayout.for_size(3000)])
def test_pdq_index_finds_exactly_what_brute_force_finds(
    layout: MihLayout | None, tmp_path: Path
) -> None:
    rng = np.random.default_rng(7)
    hashes = _random_words(rng, 3000)
    sources = rng.integers(0, 3000, size=300)
    near = _flip(hashes[sources], rng.integers(0, 40, size=300), rng)
    queries = np.concatenate([near, _random_words(rng, 50)])
    index = PdqIndex.build(hashes, layout=layout)
    index.save(tmp_path)
    loaded = PdqIndex.load(tmp_path)
    for candidate in (index, loaded):
        q, r, d = candidate.search(queries, 31)
        found = set(zip(q.tolist(), r.tolist(), d.tolist(), strict=True))
        assert found == _brute(hashes, queries, 31)
    one_at_a_time: set[tuple[int, int, int]] = set()  # few queries: the bit-matrix path
    for i in range(40):
        _, r, d = index.search(queries[i : i + 1], 31)
        one_at_a_time.update(
            (i, row, dist) for row, dist in zip(r.tolist(), d.tolist(), strict=True)
        )
    assert one_at_a_time == {t for t in _brute(hashes, queries, 31) if t[0] < 40}


def test_pdq_search_above_the_guaranteed_distance_falls_back_to_brute_force() -> None:
    rng = np.random.default_rng(3)
    hashes = _random_words(rng, 500)
    index = PdqIndex.build(hashes, layout=MihLayout.for_size(1 << 20))
    queries = _flip(hashes[:20], np.full(20, 45), rng)
    q, r, d = index.search(queries, 50)
    assert set(zip(q.tolist(), r.tolist(), d.tolist(), strict=True)) == _brute(hashes, queries, 50)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.binary(min_size=20, max_size=20), min_size=0, max_size=60), st.data())
def test_exact_set_answers_like_a_python_set(values: list[bytes], data: st.DataObject) -> None:
    # Force prefix collisions too: several values share their first 8 bytes.
    values = values + [v[:8] + bytes(12) for v in values[:5]]
    digests = np.frombuffer(b"".join(values), dtype=np.uint8).reshape(-1, 20).copy()
    exact = ExactSet.build(20, digests)
    assert len(exact) == len(set(values))
    probes = values[:10] + data.draw(st.lists(st.binary(min_size=20, max_size=20), max_size=10))
    if not probes:
        return
    query = np.frombuffer(b"".join(probes), dtype=np.uint8).reshape(-1, 20)
    qpos, spos = exact.lookup(query)
    assert sorted(qpos.tolist()) == [i for i, p in enumerate(probes) if p in set(values)]
    assert all(exact.digest_at(s) == probes[q] for q, s in zip(qpos, spos, strict=True))
    by_search = exact.lookup_by_search(query)
    assert sorted(zip(qpos.tolist(), spos.tolist(), strict=True)) == sorted(
        zip(by_search[0].tolist(), by_search[1].tolist(), strict=True)
    )


def test_exact_set_round_trips_through_disk(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    digests = rng.integers(0, 256, size=(1000, 16), dtype=np.uint8)
    ids = np.arange(1000, dtype=np.uint32)
    ExactSet.build(16, digests, ids).save(tmp_path, "md5")
    loaded = ExactSet.load(tmp_path, "md5", 16)
    _, spos = loaded.lookup(digests[[5, 500]])
    assert loaded.ids is not None
    assert sorted(int(loaded.ids[s]) for s in spos) == [5, 500]


def test_bit_counts_without_numpy_2_match_the_ufunc(monkeypatch: pytest.MonkeyPatch) -> None:
    from muhafiz.banks.index import pdq

    values = _random_words(np.random.default_rng(4), 50)
    expected = pdq.bit_counts(values)
    monkeypatch.delattr(np, "bitwise_count")
    assert (pdq.bit_counts(values) == expected).all()
