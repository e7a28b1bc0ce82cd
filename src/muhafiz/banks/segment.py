"""A bank segment: an immutable set of entries with its exact and PDQ indexes.

A bank is one or more segments. New entries go into a new small segment (matchable at once);
`compact` merges segments into one when convenient. Entry ids are positions within a segment.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from muhafiz.banks.entries import (
    EntryStore,
    FileEntryStore,
    MemoryEntryStore,
    has_details,
    write_entries,
)
from muhafiz.banks.hexhash import DIGEST_BYTES
from muhafiz.banks.index.exact import ExactSet
from muhafiz.banks.index.pdq import PdqIndex
from muhafiz.banks.model import HashEntry, HashKind

if TYPE_CHECKING:  # the format registry loads only when a segment is built, not to match
    from muhafiz.banks.formats.base import DigestBatch, HashListFormat

EXACT_KINDS = (HashKind.MD5, HashKind.SHA1, HashKind.SHA256)
_WIDTHS = {**DIGEST_BYTES, HashKind.PDQ: 32}
SEGMENT_FILE = "segment.json"


class Segment:
    def __init__(
        self,
        exact: dict[HashKind, ExactSet],
        pdq: PdqIndex,
        entries: EntryStore,
        counts: dict[str, int],
    ) -> None:
        self.exact = exact
        self.pdq = pdq
        self.entries = entries
        self.counts = counts

    @property
    def entry_count(self) -> int:
        return self.counts.get("entries", 0)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        for kind, exact in self.exact.items():
            exact.save(directory, kind.value)
        self.pdq.save(directory, "pdq")
        if len(self.entries):
            write_entries(directory, self.entries)
        (directory / SEGMENT_FILE).write_text(json.dumps({"counts": self.counts}, indent=1))

    @classmethod
    def load(cls, directory: Path) -> Segment:
        meta = json.loads((directory / SEGMENT_FILE).read_text())
        exact = {
            kind: ExactSet.load(directory, kind.value, DIGEST_BYTES[kind])
            for kind in EXACT_KINDS
            if (directory / f"{kind.value}.keys.npy").exists()
        }
        pdq = PdqIndex.load(directory, "pdq")
        store: EntryStore = (
            FileEntryStore(directory) if (directory / "entries.jsonl").exists() else EntryStore()
        )
        return cls(exact, pdq, store, {k: int(v) for k, v in meta["counts"].items()})


class SegmentBuilder:
    """Collects entries (streamed from a reader) into compact arrays, then builds a Segment.

    Entries that carry details (category, series, flags, note, quality, PhotoDNA) are kept as
    records, checked for contradictory duplicates and numbered; bare hashes (NSRL, plain lists)
    are kept only as digests, de-duplicated when the segment is built.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        # Digests as raw bytes and entry ids as machine integers: tens of millions of NSRL rows
        # must not become tens of millions of Python strings.
        kinds = (*EXACT_KINDS, HashKind.PDQ)
        self._raw: dict[HashKind, bytearray] = {k: bytearray() for k in kinds}
        self._counts: dict[HashKind, int] = dict.fromkeys(kinds, 0)
        # Only digests that belong to a record remember it: (digest position, record id).
        self._record_at: dict[HashKind, array[int]] = {k: array("q") for k in kinds}
        self._record_id: dict[HashKind, array[int]] = {k: array("q") for k in kinds}
        self._records: list[HashEntry] = []
        from muhafiz.banks.formats import DuplicateMerger

        self._merger = DuplicateMerger(source)
        self.entries = 0
        self.duplicates = 0
        self.photodna = 0

    def add(self, entry: HashEntry) -> None:
        if has_details(entry):
            if not self._merger.keep(entry):
                self.duplicates += 1
                return
            entry_id = len(self._records)
            self._records.append(entry)
        else:
            entry_id = -1
        self.entries += 1
        if entry.photodna is not None:
            self.photodna += 1
        for kind, value in (
            (HashKind.MD5, entry.md5),
            (HashKind.SHA1, entry.sha1),
            (HashKind.SHA256, entry.sha256),
            (HashKind.PDQ, entry.pdq),
        ):
            if value is not None:
                self._raw[kind] += bytes.fromhex(value)
                if entry_id >= 0:
                    self._record_at[kind].append(self._counts[kind])
                    self._record_id[kind].append(entry_id)
                self._counts[kind] += 1

    def add_all(self, entries: Iterable[HashEntry]) -> SegmentBuilder:
        for entry in entries:
            self.add(entry)
        return self

    def add_digests(self, batch: DigestBatch) -> None:
        """Bare digests read in bulk (no entry records)."""
        self.entries += batch.entries - len(batch.records)
        for kind, raw in batch.digests.items():
            self._raw[kind] += raw
            self._counts[kind] += len(raw) // _WIDTHS[kind]
        self.add_all(batch.records)

    def add_source(self, fmt: HashListFormat, path: Path) -> int:
        """Everything in the hash-list file at `path`, in bulk when the format can; returns how
        many entries (rows, lines, records) it held."""
        before = self.entries + self.duplicates
        self.source = self._merger.source = str(path)
        bulk = fmt.read_bare_digests(path)
        if bulk is None:
            self.add_all(fmt.read(path))
        else:
            for batch in bulk:
                self.add_digests(batch)
        return self.entries + self.duplicates - before

    def build(self) -> Segment:
        keep_records = bool(self._records)
        counts: dict[str, int] = {"entries": self.entries, "photodna": self.photodna}
        exact: dict[HashKind, ExactSet] = {}
        for kind in EXACT_KINDS:
            raw = self._raw[kind]
            if not raw:
                continue
            width = DIGEST_BYTES[kind]
            digests = np.frombuffer(raw, dtype=np.uint8).reshape(-1, width).copy()
            raw.clear()
            ids = self._entry_ids(kind) if keep_records else None
            exact[kind] = ExactSet.build(DIGEST_BYTES[kind], digests, ids)
            counts[kind.value] = len(exact[kind])
        pdq_raw = self._raw[HashKind.PDQ]
        words = np.frombuffer(pdq_raw, dtype=">u8").reshape(-1, 4).astype(np.uint64)
        pdq_raw.clear()
        pdq = PdqIndex.build(words, self._entry_ids(HashKind.PDQ) if keep_records else None)
        counts["pdq"] = len(pdq)
        store: EntryStore = MemoryEntryStore(self._records) if keep_records else EntryStore()
        counts["records"] = len(store)
        return Segment(exact, pdq, store, counts)

    def _entry_ids(self, kind: HashKind) -> np.ndarray[tuple[int], np.dtype[np.uint32]]:
        # Bare hashes in a segment that also keeps records get the id 2^32-1 ("no record").
        ids = np.full(self._counts[kind], NO_RECORD, dtype=np.uint32)
        positions = np.frombuffer(self._record_at[kind], dtype=np.int64)
        ids[positions] = np.frombuffer(self._record_id[kind], dtype=np.int64)
        return ids


NO_RECORD = 0xFFFFFFFF
