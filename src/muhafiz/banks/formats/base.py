"""The common interface of a hash-list format: sniff, read (streamed), and optionally write."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, TextIO

from muhafiz.banks.model import HashEntry, HashKind, HashListError
from muhafiz.banks.reasons import reason

# How much of a file detection looks at.
SNIFF_BYTES = 64 * 1024
# The longest line a text hash list may have (a hash and a note are far shorter).
MAX_LINE_BYTES = 1024 * 1024


@dataclass
class DigestBatch:
    """Hashes read in bulk: `entries` source rows, raw digest bytes per hash kind for the bare
    ones, and the few entries with details as records."""

    entries: int
    digests: dict[HashKind, bytes] = field(default_factory=dict)
    # Entries of the batch that carry details (quality, note …): added one by one.
    records: list[HashEntry] = field(default_factory=list)


class HashListFormat(ABC):
    """One hash-list format. Subclasses are stateless; the registry holds one instance each.

    `read` yields entries as it goes, so a gigabyte file never sits in memory; callers that
    must be all-or-nothing (every import, every index build) collect first and commit only when
    the reader finished without raising `HashListError`.
    """

    name: ClassVar[str]
    description: ClassVar[str]
    # Formats that can only be told apart by content share a sniffing order: lower goes first.
    sniff_order: ClassVar[int] = 100
    can_write: ClassVar[bool] = False

    @abstractmethod
    def sniff(self, path: Path, head: bytes) -> bool:
        """Whether the file starting with `head` is in this format (cheap, no full read)."""

    @abstractmethod
    def read(self, path: Path) -> Iterator[HashEntry]:
        """Yield the file's entries in order; raise `HashListError` naming the line at fault."""

    def write(self, entries: Iterable[HashEntry], out: TextIO) -> int:
        """Write `entries` to `out`; return how many were written."""
        raise NotImplementedError(f"{self.name} is a read-only format")

    def read_bare_digests(self, path: Path) -> Iterator[DigestBatch] | None:
        """Bulk reading for formats of bare hashes only (NSRL: tens of millions of rows), or
        None when the format has no such path. Same validation and errors as `read`."""
        return None


class TextLineFormat(HashListFormat):
    """A line-oriented text format: comment and blank lines skipped, one record a line."""

    comment_prefixes: ClassVar[tuple[str, ...]] = ("#",)

    def read(self, path: Path) -> Iterator[HashEntry]:
        source = str(path)
        state = self.start(source)
        for number, text in iter_text_lines(path):
            stripped = text.strip()
            if not stripped or stripped.startswith(self.comment_prefixes):
                continue
            entry = self.parse_line(text, source, number, state)
            if entry is not None:
                yield entry
        self.finish(source, state)

    def start(self, source: str) -> dict[str, object]:
        """Per-file parsing state (headers seen so far)."""
        return {}

    def finish(self, source: str, state: dict[str, object]) -> None:
        """Called after the last line: formats with a required header check it here."""

    @abstractmethod
    def parse_line(
        self, text: str, source: str, line: int, state: dict[str, object]
    ) -> HashEntry | None:
        """Parse one non-blank, non-comment line; None for header lines."""


def iter_text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, text without line ending) of a UTF-8 file, BOM tolerated."""
    source = str(path)
    with path.open("rb") as handle:
        for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), 1):
            if len(raw) > MAX_LINE_BYTES:
                raise HashListError(
                    source, number, reason("line_too_long", kib=MAX_LINE_BYTES // 1024)
                )
            if b"\x00" in raw:
                raise HashListError(source, number, reason("binary_data"))
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise HashListError(source, number, reason("not_utf8", detail=exc.reason)) from exc
            if number == 1:
                text = text.removeprefix("\ufeff")
            yield number, text.rstrip("\r\n")


def first_text_lines(head: bytes, limit: int = 5) -> list[str]:
    """The first non-blank, non-comment lines of `head`, decoded leniently (for sniffing).

    Sniffers look at the first record only, so that a bad record further down is reported by
    the reader with its line number rather than as "unknown format"."""
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
    lines: list[str] = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        lines.append(stripped)
        if len(lines) >= limit:
            break
    # The last line of a cut-off head may be incomplete; drop it unless it is the only one.
    if len(head) >= SNIFF_BYTES and len(lines) > 1:
        lines.pop()
    return lines


def single_hash_entry(
    kind: HashKind, digest: str, *, line: int, note: str | None = None
) -> HashEntry:
    """An entry holding one digest of `kind` (already normalised)."""
    if kind is HashKind.MD5:
        return HashEntry(md5=digest, line=line, note=note)
    if kind is HashKind.SHA1:
        return HashEntry(sha1=digest, line=line, note=note)
    if kind is HashKind.SHA256:
        return HashEntry(sha256=digest, line=line, note=note)
    if kind is HashKind.PDQ:
        return HashEntry(pdq=digest, line=line, note=note)
    return HashEntry(photodna=digest, line=line, note=note)
