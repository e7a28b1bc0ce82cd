"""Entry records of a bank segment: kept so a match can say what the list says about a hash.

On disk, `entries.jsonl` holds one compact JSON object per entry and `entries.offsets.npy` the
byte offset of each line, so entry i is read on demand from a memory map without loading the rest.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterable, Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from muhafiz.banks.model import HashEntry

ENTRIES_FILE = "entries.jsonl"
OFFSETS_FILE = "entries.offsets.npy"

_FIELDS = (
    "md5",
    "sha1",
    "sha256",
    "pdq",
    "pdq_quality",
    "photodna",
    "category",
    "series",
    "victim_identified",
    "offender_identified",
    "note",
    "line",
)


def has_details(entry: HashEntry) -> bool:
    """Whether an entry says more than its hashes (then the bank must keep it)."""
    return (
        entry.pdq_quality is not None
        or entry.photodna is not None
        or entry.category is not None
        or entry.series is not None
        or entry.victim_identified is not None
        or entry.offender_identified is not None
        or bool(entry.tags)
        or entry.note is not None
    )


_FIELD_VALUES = attrgetter(*_FIELDS)  # every field's value in one call


def entry_to_json(entry: HashEntry) -> dict[str, Any]:
    data: dict[str, Any] = {
        name: value
        for name, value in zip(_FIELDS, _FIELD_VALUES(entry), strict=True)
        if value is not None
    }
    if not data.get("line", 1):  # line 0: not from a file
        del data["line"]
    if entry.tags:
        data["tags"] = list(entry.tags)
    return data


def entry_from_json(data: dict[str, Any]) -> HashEntry:
    return HashEntry(
        md5=data.get("md5"),
        sha1=data.get("sha1"),
        sha256=data.get("sha256"),
        pdq=data.get("pdq"),
        pdq_quality=data.get("pdq_quality"),
        photodna=data.get("photodna"),
        category=data.get("category"),
        series=data.get("series"),
        victim_identified=data.get("victim_identified"),
        offender_identified=data.get("offender_identified"),
        tags=tuple(data.get("tags", ())),
        note=data.get("note"),
        line=int(data.get("line", 0)),
    )


class EntryStore:
    """Entries by id; `None` from `get` when the segment keeps no entry records."""

    def __len__(self) -> int:
        return 0

    def get(self, entry_id: int) -> HashEntry | None:
        return None

    def __iter__(self) -> Any:
        return iter(())


class MemoryEntryStore(EntryStore):
    def __init__(self, entries: Sequence[HashEntry]) -> None:
        self.entries = list(entries)

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, entry_id: int) -> HashEntry | None:
        return self.entries[entry_id]

    def __iter__(self) -> Any:
        return iter(self.entries)


class FileEntryStore(EntryStore):
    def __init__(self, directory: Path) -> None:
        self.path = directory / ENTRIES_FILE
        self.offsets: npt.NDArray[np.uint64] = np.load(directory / OFFSETS_FILE, mmap_mode="r")
        self._map: mmap.mmap | None = None

    def __len__(self) -> int:
        return max(0, int(self.offsets.shape[0]) - 1)

    def _data(self) -> mmap.mmap:
        if self._map is None:
            with self.path.open("rb") as handle:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return self._map

    def get(self, entry_id: int) -> HashEntry | None:
        start, end = int(self.offsets[entry_id]), int(self.offsets[entry_id + 1])
        return entry_from_json(json.loads(self._data()[start:end]))

    def __iter__(self) -> Any:
        with self.path.open("rb") as handle:
            for line in handle:
                yield entry_from_json(json.loads(line))


def write_entries(directory: Path, entries: Iterable[HashEntry]) -> int:
    offsets = [0]
    with (directory / ENTRIES_FILE).open("wb") as out:
        for entry in entries:
            line = json.dumps(entry_to_json(entry), ensure_ascii=False, separators=(",", ":"))
            data = line.encode("utf-8") + b"\n"
            out.write(data)
            offsets.append(offsets[-1] + len(data))
    np.save(directory / OFFSETS_FILE, np.array(offsets, dtype=np.uint64))
    return len(offsets) - 1
