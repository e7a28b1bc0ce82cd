"""Exact PDQ range search (Hamming distance ≤ 31 of 256 bits) by multi-index hashing.

The 256 bits are cut into m chunks; chunk i is probed at radius r_i (every key within r_i bit
flips of the query's chunk). If Σ (r_i + 1) > d, any hash within distance d of the query has
some chunk within r_i of the query's (pigeonhole), so the probes find every true match: recall
is 100 % by construction, and each candidate is then verified with its full distance.

The chunk count is chosen from the number of hashes n when the tables are built (Norouzi et
al., "Fast exact search in Hamming space with multi-index hashing"): the one with the fewest
probes + expected candidates per query. At 10 million hashes, 11 chunks of 23-24 bits probed
at radius 2 (one at radius 1) cost ~2,800 probes and ~3,000 candidates per query, against
~41,600 candidates for 16 chunks of 16 bits at radius 1; at 100,000, 16 chunks of 16 bits at
radius 1 cost 272 probes and ~400 candidates. The layout is saved beside the tables. Each
chunk is a counting-sort table: `offsets` (2^w + 1 uint32) into `rows` (n uint32, row
numbers of `hashes` ordered by that chunk's value).
Small sets (under `BRUTE_FORCE_BELOW`) are searched by brute force instead, and so is any
search beyond the layout's guaranteed distance (correct, but slow).
See docs/decisions/0101-pdq-index.md and 0105 for the measurements behind these choices.
"""

from __future__ import annotations

import ctypes
import json
import math
import sys
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]

PDQ_BITS = 256
MATCH_DISTANCE = 31
# PDQ hashes of lower quality are not matched (formats.md). The one place this number lives.
MIN_PDQ_QUALITY = 50
BRUTE_FORCE_BELOW = 1 << 16
MAX_CHUNK_BITS = 24
QUERY_BATCH = 64  # measured best at 10 M: small batches keep probe arrays in cache
# glibc malloc: temporaries below this come from the heap, not from a fresh mmap each time,
# and up to KEEP_FREED bytes of freed heap stay with the process (decision 0105).
HEAP_BELOW = 16 << 20
KEEP_FREED = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
FRONT = np.dtype((np.void, 16))  # the first two 64-bit words of a hash, as one item
_malloc_tuned = False


def hex_to_words(values: list[str]) -> U64:
    """64-hex PDQ strings (validated) to an (n, 4) array of big-endian 64-bit words."""
    if not values:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = bytes.fromhex("".join(values))
    return np.frombuffer(raw, dtype=">u8").reshape(len(values), 4).astype(np.uint64)


def words_to_hex(words: U64) -> str:
    return b"".join(int(w).to_bytes(8, "big") for w in words).hex()


_BYTE_BITS = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def bit_counts(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint8]:
    """Bits set in each uint64 (numpy ≥ 2 has a ufunc; older numpy gets a byte table)."""
    if hasattr(np, "bitwise_count"):
        counts: npt.NDArray[np.uint8] = np.bitwise_count(values)
        return counts
    as_bytes = np.ascontiguousarray(values).view(np.uint8).reshape(*values.shape, 8)
    summed: npt.NDArray[np.uint8] = _BYTE_BITS[as_bytes].sum(axis=-1, dtype=np.uint8)
    return summed


def popcount_rows(xored: U64) -> npt.NDArray[np.int64]:
    """Bits set per row of an (n, 4) uint64 array.

    Adds the four columns by hand: a reduction along an axis of four is ten times slower than
    three additions (each pair of words has at most 128 bits set, so uint8 holds it)."""
    counts = bit_counts(xored)
    low = (counts[:, 0] + counts[:, 1]).astype(np.int64)
    low += counts[:, 2] + counts[:, 3]
    return low


@dataclass(frozen=True)
class MihLayout:
    """Chunk widths (bits, summing to 256) and the probe radius of each chunk."""

    widths: tuple[int, ...]
    radii: tuple[int, ...]

    @property
    def guaranteed_distance(self) -> int:
        """Largest distance at which recall is complete: Σ (r_i + 1) − 1."""
        return sum(r + 1 for r in self.radii) - 1

    @property
    def starts(self) -> tuple[int, ...]:
        out, position = [], 0
        for width in self.widths:
            out.append(position)
            position += width
        return tuple(out)

    @classmethod
    def for_size(cls, n: int, distance: int = MATCH_DISTANCE) -> MihLayout:
        """The layout with the least expected work per query for n hashes: of every chunk
        count that keeps chunks at most MAX_CHUNK_BITS wide, the one with the fewest probes
        plus candidates (`expected_cost`). Measured per size in docs/decisions/0105."""
        fewest = math.ceil(PDQ_BITS / MAX_CHUNK_BITS)
        layouts = [cls.with_chunks(m, distance) for m in range(fewest, distance + 2)]
        return min(layouts, key=lambda layout: layout.expected_cost(n))

    @classmethod
    def with_chunks(cls, chunks: int, distance: int = MATCH_DISTANCE) -> MihLayout:
        """`chunks` chunks of (nearly) equal width, radii summing to the pigeonhole budget
        Σ (r_i + 1) = distance + 1; the narrower chunks take the larger radii (a radius
        costs more probes on a wide chunk). Above distance + 1 chunks no layout exists."""
        base, extra = divmod(PDQ_BITS, chunks)
        widths = tuple([base + 1] * extra + [base] * (chunks - extra))
        share, more = divmod(distance + 1, chunks)
        radii = [share - 1] * chunks
        for i in range(more):
            radii[chunks - 1 - i] += 1
        if min(radii) < 0:
            raise ValueError(f"{chunks} chunks cannot guarantee distance {distance}")
        return cls(widths, tuple(radii))

    @property
    def probes(self) -> int:
        """Table probes per query: every key within r_i flips of each chunk's."""
        return sum(
            sum(math.comb(w, k) for k in range(r + 1))
            for w, r in zip(self.widths, self.radii, strict=True)
        )

    def expected_cost(self, n: int) -> float:
        """Probes plus expected candidates per query on n random hashes (each probe of a
        w-bit chunk finds n / 2^w rows); the two cost about the same (measured, 0105)."""
        candidates = sum(
            sum(math.comb(w, k) for k in range(r + 1)) * n / (1 << w)
            for w, r in zip(self.widths, self.radii, strict=True)
        )
        return self.probes + candidates

    def to_json(self) -> dict[str, list[int]]:
        return {"widths": list(self.widths), "radii": list(self.radii)}

    @classmethod
    def from_json(cls, data: dict[str, list[int]]) -> MihLayout:
        return cls(tuple(int(w) for w in data["widths"]), tuple(int(r) for r in data["radii"]))


def keep_search_memory() -> None:
    """Stop glibc from giving each search's temporaries back to the OS and faulting them in
    again: a search batch allocates and frees a few MB of arrays, above malloc's default mmap
    and trim thresholds, so every batch paid ~10 page faults per KB (21,000 per 2,000 queries
    at 100 k, over half the search time). Once per process; a no-op off glibc."""
    global _malloc_tuned  # noqa: PLW0603 - a process-wide setting, made once
    if _malloc_tuned:
        return
    _malloc_tuned = True
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return
    mallopt(_M_MMAP_THRESHOLD, HEAP_BELOW)
    mallopt(_M_TRIM_THRESHOLD, KEEP_FREED)


def extract_chunk(words: U64, start: int, width: int) -> I64:
    """Bits [start, start+width) of each 256-bit row (bit 0 = most significant of word 0)."""
    first, offset = divmod(start, 64)
    mask = np.uint64((1 << width) - 1)
    if offset + width <= 64:
        shift = np.uint64(64 - offset - width)
        return ((words[:, first] >> shift) & mask).astype(np.int64)
    high_bits = 64 - offset
    low_bits = width - high_bits
    high = (words[:, first] & np.uint64((1 << high_bits) - 1)) << np.uint64(low_bits)
    low = words[:, first + 1] >> np.uint64(64 - low_bits)
    return (high | low).astype(np.int64)


def flip_masks(width: int, radius: int) -> I64:
    """XOR masks of every key within `radius` bit flips in a `width`-bit chunk."""
    masks = [0]
    for r in range(1, radius + 1):
        masks.extend(sum(1 << b for b in bits) for bits in combinations(range(width), r))
    return np.array(masks, dtype=np.int64)


class PdqIndex:
    """PDQ hashes of one segment with their chunk tables; search returns verified distances.

    All chunk tables live in two flat arrays, so one probe pass covers every chunk at once
    (a handful of numpy calls per query batch, not a handful per chunk): `offsets` is the
    concatenation of each chunk's 2^w + 1 counting-sort offsets, already shifted to point
    into `rows`, the concatenation of each chunk's row order.
    """

    def __init__(
        self,
        hashes: U64,
        ids: U32 | None = None,
        layout: MihLayout | None = None,
        offsets: npt.NDArray[np.unsignedinteger[Any]] | None = None,
        rows: U32 | None = None,
    ) -> None:
        self.hashes = hashes
        self.ids = ids
        self.layout = layout
        self.offsets = offsets
        self.rows = rows
        # The front half of every hash as one 16-byte item (a view, no copy), for verifying
        # candidates in two steps (`_search_batch`).
        self._front: npt.NDArray[np.void] | None = None
        if hashes.ndim == 2 and hashes.shape[1] == 4 and hashes.flags.c_contiguous:
            self._front = hashes.view(FRONT)[:, 0]
        if layout is not None:
            masks = [flip_masks(w, r) for w, r in zip(layout.widths, layout.radii, strict=True)]
            bases = np.cumsum([0] + [(1 << w) + 1 for w in layout.widths[:-1]])
            # Per probe: which chunk it belongs to and where that chunk's offsets begin.
            self._probe_chunk = np.concatenate(
                [np.full(m.shape[0], c, dtype=np.int64) for c, m in enumerate(masks)]
            )
            self._probe_mask = np.concatenate(masks)
            self._probe_base = bases[self._probe_chunk].astype(np.int64)
            # Bit p of the hash is worth 2^(chunk end - 1 - p) in its chunk's key.
            self._bit_weights = np.zeros((PDQ_BITS, len(layout.widths)), dtype=np.int64)
            for c, (start, width) in enumerate(zip(layout.starts, layout.widths, strict=True)):
                for p in range(start, start + width):
                    self._bit_weights[p, c] = 1 << (start + width - 1 - p)

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    @classmethod
    def build(
        cls, hashes: U64, ids: U32 | None = None, layout: MihLayout | None = None
    ) -> PdqIndex:
        """Index `hashes` ((n, 4) uint64); `layout` overrides the size-based choice."""
        n = hashes.shape[0]
        if layout is None:
            if n < BRUTE_FORCE_BELOW:
                return cls(hashes, ids)
            layout = MihLayout.for_size(n)
        chunks = len(layout.widths)
        position_type = np.uint32 if n * chunks < 1 << 32 else np.uint64
        table_sizes = [(1 << w) + 1 for w in layout.widths]
        offsets: npt.NDArray[np.unsignedinteger[Any]] = np.empty(
            sum(table_sizes), dtype=position_type
        )
        rows = np.empty(n * chunks, dtype=np.uint32)
        table_start = 0
        for c, (start, width) in enumerate(zip(layout.starts, layout.widths, strict=True)):
            keys = extract_chunk(hashes, start, width)
            counts = np.bincount(keys, minlength=1 << width)
            table = offsets[table_start : table_start + table_sizes[c]]
            table[0] = c * n
            np.cumsum(counts, out=table[1:])
            np.add(table[1:], c * n, out=table[1:], casting="unsafe")
            del counts
            rows[c * n : (c + 1) * n] = np.argsort(keys, kind="stable")
            del keys
            table_start += table_sizes[c]
        return cls(hashes, ids, layout, offsets, rows)

    def search(self, queries: U64, max_distance: int = MATCH_DISTANCE) -> tuple[I64, I64, I64]:
        """All (query position, row, distance) with distance ≤ max_distance, each pair once."""
        keep_search_memory()
        # Every query's chunk keys at once: a dozen numpy calls for the whole search, not a
        # dozen per batch.
        keys = None
        layout = self.layout
        if layout is not None and max_distance <= layout.guaranteed_distance and len(queries) > 8:
            keys = self._chunk_keys(queries, layout)
        parts = [
            self._search_batch(
                queries[i : i + QUERY_BATCH],
                max_distance,
                i,
                None if keys is None else keys[i : i + QUERY_BATCH],
            )
            for i in range(0, queries.shape[0], QUERY_BATCH)
        ]
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        if len(parts) == 1:
            return parts[0]
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate([p[2] for p in parts]),
        )

    def _search_batch(
        self, queries: U64, max_distance: int, base: int, keys: I64 | None = None
    ) -> tuple[I64, I64, I64]:
        n, q = len(self), queries.shape[0]
        empty = np.zeros(0, dtype=np.int64)
        if n == 0 or q == 0:
            return empty, empty, empty
        layout, offsets, chunk_rows = self.layout, self.offsets, self.rows
        if (
            layout is None
            or offsets is None
            or chunk_rows is None
            or max_distance > layout.guaranteed_distance
        ):
            return self._brute_force(queries, max_distance, base)
        if keys is None:
            keys = self._chunk_keys(queries, layout)
        probes = ((keys[:, self._probe_chunk] ^ self._probe_mask) + self._probe_base).ravel()
        # np.take, not offsets[probes]: the same gather, ~10 % less of the search at 100 k (0105).
        begin = np.take(offsets, probes).astype(np.int64)
        lengths = np.take(offsets, probes + 1).astype(np.int64) - begin
        nonempty = np.flatnonzero(lengths)
        if nonempty.size == 0:
            return empty, empty, empty
        lengths = lengths[nonempty]
        total = int(lengths.sum())
        ends = np.cumsum(lengths)
        positions = np.repeat(begin[nonempty] - (ends - lengths), lengths) + np.arange(total)
        qrows = np.repeat(nonempty // self._probe_mask.shape[0], lengths)
        rows = np.take(chunk_rows, positions).astype(np.int64)
        if self._front is not None:
            # First the front 128 bits: an unrelated candidate differs in ~64 of them, so they
            # rule out nearly every one, and indexing by 16-byte items copies only that half
            # of each candidate (1.6x faster than whole rows at 1-10 M, 3x at 100 k; 0105).
            query_front = np.ascontiguousarray(queries).view(FRONT)[:, 0]
            front = self._front[rows].view(np.uint64).reshape(-1, 2)
            front ^= query_front[qrows].view(np.uint64).reshape(-1, 2)
            counts = bit_counts(front)
            near = np.flatnonzero(counts[:, 0] + counts[:, 1] <= min(max_distance, 128))
            qrows, rows = qrows[near], rows[near]
        # take(axis=0) copies whole rows; hashes[rows] on a 2-D array is ten times slower.
        candidates = np.take(self.hashes, rows, axis=0)
        candidates ^= np.take(queries, qrows, axis=0)
        distances = popcount_rows(candidates)
        close = np.flatnonzero(distances <= max_distance)
        qrows, rows, distances = qrows[close], rows[close], distances[close]
        if qrows.size > 1:
            # A near match is usually found through several chunks: keep each pair once.
            _, first = np.unique(qrows * n + rows, return_index=True)
            qrows, rows, distances = qrows[first], rows[first], distances[first]
        return qrows + base, rows, distances

    def _chunk_keys(self, queries: U64, layout: MihLayout) -> npt.NDArray[np.int64]:
        """Every chunk's value for each query, (q, chunks). A few queries (triage matches one
        file at a time) go through one bit-matrix product, cheaper than a dozen shifts."""
        if queries.shape[0] <= 8:
            bits = np.unpackbits(queries.astype(">u8").view(np.uint8), axis=1)
            keys: npt.NDArray[np.int64] = bits.astype(np.int64) @ self._bit_weights
            return keys
        return np.stack(
            [
                extract_chunk(queries, start, width)
                for start, width in zip(layout.starts, layout.widths, strict=True)
            ],
            axis=1,
        )

    def _brute_force(self, queries: U64, max_distance: int, base: int) -> tuple[I64, I64, I64]:
        found_q: list[I64] = []
        found_r: list[I64] = []
        found_d: list[I64] = []
        block = max(1, (1 << 22) // max(1, len(self)))
        for i in range(0, queries.shape[0], block):
            chunk = queries[i : i + block]
            xored = chunk[:, None, :] ^ self.hashes[None, :, :]
            distances = bit_counts(xored).sum(axis=2, dtype=np.int64)
            qi, rows = np.nonzero(distances <= max_distance)
            found_q.append(qi.astype(np.int64) + i + base)
            found_r.append(rows.astype(np.int64))
            found_d.append(distances[qi, rows])
        return np.concatenate(found_q), np.concatenate(found_r), np.concatenate(found_d)

    def save(self, directory: Path, stem: str = "pdq") -> None:
        np.save(directory / f"{stem}.hashes.npy", self.hashes)
        if self.ids is not None:
            np.save(directory / f"{stem}.ids.npy", self.ids)
        if self.layout is not None and self.offsets is not None and self.rows is not None:
            (directory / f"{stem}.mih.json").write_text(json.dumps(self.layout.to_json()))
            np.save(directory / f"{stem}.offsets.npy", self.offsets)
            np.save(directory / f"{stem}.rows.npy", self.rows)

    @classmethod
    def load(cls, directory: Path, stem: str = "pdq") -> PdqIndex:
        hashes = mapped(directory / f"{stem}.hashes.npy")
        ids_path = directory / f"{stem}.ids.npy"
        ids = mapped(ids_path) if ids_path.exists() else None
        layout_path = directory / f"{stem}.mih.json"
        if not layout_path.exists():
            return cls(hashes, ids)
        layout = MihLayout.from_json(json.loads(layout_path.read_text()))
        offsets = mapped(directory / f"{stem}.offsets.npy")
        rows = mapped(directory / f"{stem}.rows.npy")
        return cls(hashes, ids, layout, offsets, rows)


def mapped(path: Path) -> Any:
    """A read-only memory map of a .npy file as a plain ndarray view (no np.memmap subclass
    overhead on every fancy-indexing call)."""
    return np.asarray(np.load(path, mmap_mode="r"))
