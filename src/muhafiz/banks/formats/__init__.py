"""Hash-list formats: one module each, a common interface (`base.HashListFormat`), a registry.

Adding a format is: copy a sibling module, add its instance to `_REGISTERED`, register its sample
in `banks/tests/format_samples.py`; the contract suite (`test_format_contract.py`) runs on it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from muhafiz.banks.formats.base import SNIFF_BYTES, HashListFormat
from muhafiz.banks.formats.checksum import ChecksumList
from muhafiz.banks.formats.hashdeep import HashdeepList
from muhafiz.banks.formats.nsrl import NsrlRds
from muhafiz.banks.formats.pdqlist import PdqList
from muhafiz.banks.formats.plain import PlainHashList
from muhafiz.banks.formats.vics import VicsJson
from muhafiz.banks.formats.vpdq import VpdqFrames
from muhafiz.banks.model import HashEntry, HashListError
from muhafiz.banks.reasons import reason

_REGISTERED: list[HashListFormat] = [
    NsrlRds(),
    HashdeepList(),
    VicsJson(),
    VpdqFrames(),
    PdqList(),
    ChecksumList(),
    PlainHashList(),
]


def register(fmt: HashListFormat) -> None:
    """Add a format to the registry (replacing one of the same name)."""
    global _REGISTERED  # noqa: PLW0603 - the registry is module state by design
    _REGISTERED = [f for f in _REGISTERED if f.name != fmt.name] + [fmt]


def formats() -> list[HashListFormat]:
    """Registered formats in sniffing order."""
    return sorted(_REGISTERED, key=lambda f: f.sniff_order)


def get_format(name: str) -> HashListFormat:
    for fmt in _REGISTERED:
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in formats())
    raise HashListError(name, None, reason("unknown_format", known=known))


def detect_format(path: Path) -> HashListFormat:
    """The format of the file at `path`, by content (and, for bare PDQ lists, by file name)."""
    source = str(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise HashListError(
            source, None, reason("cannot_read", detail=str(exc.strerror or exc))
        ) from exc
    if not head.strip():
        raise HashListError(source, None, reason("empty_file"))
    for fmt in formats():
        if fmt.sniff(path, head):
            return fmt
    known = ", ".join(f.name for f in formats())
    raise HashListError(source, None, reason("no_known_format", known=known))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def iter_entries(path: Path, fmt: str | HashListFormat | None = None) -> Iterator[HashEntry]:
    """Stream entries of a hash list (format auto-detected unless given).

    Streaming is not all-or-nothing by itself: collect (`read_hash_list`) or build an index from
    it, and commit only once the iterator is exhausted without error.
    """
    chosen = _resolve(path, fmt)
    return chosen.read(path)


def _resolve(path: Path, fmt: str | HashListFormat | None) -> HashListFormat:
    if fmt is None:
        return detect_format(path)
    if isinstance(fmt, str):
        return get_format(fmt)
    return fmt


@dataclass
class HashList:
    """A hash list read completely: its entries (duplicates merged) and where they came from."""

    path: Path
    format: str
    sha256: str
    entries: list[HashEntry]
    duplicates: int = 0
    duplicate_lines: list[int] = field(default_factory=list)


def read_hash_list(path: Path, fmt: str | HashListFormat | None = None) -> HashList:
    """Read a whole hash list, all or nothing: an error anywhere raises and returns nothing.

    Exact repeats of an entry (same hashes and the same metadata) are merged and counted; the
    same hash listed twice with different metadata (say two categories) is an error naming both
    lines, since one of them must be wrong.
    """
    chosen = _resolve(path, fmt)
    sha256 = file_sha256(path)
    merger = DuplicateMerger(str(path))
    entries = [entry for entry in chosen.read(path) if merger.keep(entry)]
    return HashList(
        path=path,
        format=chosen.name,
        sha256=sha256,
        entries=entries,
        duplicates=len(merger.duplicate_lines),
        duplicate_lines=merger.duplicate_lines,
    )


class DuplicateMerger:
    """Drops repeated entries and rejects contradictory ones (same hash, different metadata)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.duplicate_lines: list[int] = []
        self._seen: dict[tuple[str, str], tuple[str, int, tuple[object, ...]]] = {}

    def keep(self, entry: HashEntry) -> bool:
        if "vpdq" in entry.tags:
            # Video frames: the same frame (a title card, a black frame) in two videos is not a
            # contradiction, and repeats within a video are counted once by the video matcher.
            return True
        facts = _facts(entry)
        keys = [
            (kind, value)
            for kind, value in (
                ("md5", entry.md5),
                ("sha1", entry.sha1),
                ("sha256", entry.sha256),
                ("pdq", entry.pdq),
                ("photodna", entry.photodna),
            )
            if value is not None
        ]
        duplicate = False
        for key in keys:
            previous = self._seen.get(key)
            if previous is None:
                continue
            first_source, first_line, first_facts = previous
            if first_facts != facts:
                why = (
                    reason("contradicts_line", kind=key[0], value=key[1], first_line=first_line)
                    if first_source == self.source
                    else reason(
                        "contradicts_line_of_file",
                        kind=key[0],
                        value=key[1],
                        first_line=first_line,
                        first_source=first_source,
                    )
                )
                raise HashListError(self.source, entry.line, why)
            duplicate = True
        if duplicate:
            self.duplicate_lines.append(entry.line)
            return False
        for key in keys:
            self._seen[key] = (self.source, entry.line, facts)
        return True


def _facts(entry: HashEntry) -> tuple[object, ...]:
    # Everything but the line number and the free-text note (file names differ between copies).
    return (
        entry.md5,
        entry.sha1,
        entry.sha256,
        entry.pdq,
        entry.photodna,
        entry.category,
        entry.series,
        entry.victim_identified,
        entry.offender_identified,
        entry.tags,
    )


__all__ = [
    "HashList",
    "HashListFormat",
    "detect_format",
    "file_sha256",
    "formats",
    "get_format",
    "iter_entries",
    "read_hash_list",
    "register",
]
