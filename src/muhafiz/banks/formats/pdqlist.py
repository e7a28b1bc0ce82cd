"""PDQ lists: `<64 hex>[,quality][,note]` a line, as the reference `pdq-photo-hasher` and
ThreatExchange tools print them (a tab or spaces may stand for the first comma)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar, TextIO

from muhafiz.banks.formats.base import (
    DigestBatch,
    TextLineFormat,
    first_text_lines,
    iter_text_lines,
)
from muhafiz.banks.hexhash import normalize_hex
from muhafiz.banks.model import HashEntry, HashKind, HashListError
from muhafiz.banks.reasons import reason

_LINE = re.compile(r"^(?P<hex>[^,\s]+)(?:\s*[,\t ]\s*(?P<quality>[^,]*?))?(?:\s*,(?P<note>.*))?$")
_SNIFF = re.compile(r"^[0-9A-Fa-f]{64}(\s*[,\t ]\s*\d{1,3})?(\s*,.*)?$")
_SUFFIXES = (".pdq", ".pdq.txt", ".pdq.csv")
_BULK_LINES = 50_000


def parse_quality(value: str, source: str, line: int) -> int:
    text = value.strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 3) or not 0 <= int(text) <= 100:
        shown = text if len(text) <= 20 else text[:20] + "…"
        raise HashListError(source, line, reason("pdq_quality", value=shown))
    return int(text)


class PdqList(TextLineFormat):
    name: ClassVar[str] = "pdq"
    description: ClassVar[str] = "PDQ list: <64 hex>[,quality][,note] a line"
    sniff_order: ClassVar[int] = 400
    can_write: ClassVar[bool] = True

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = first_text_lines(head, limit=1)
        if not lines or not all(_SNIFF.match(line) for line in lines):
            return False
        # Bare 64-hex lines are SHA-256 unless the file name says PDQ.
        has_extra = any(len(line) > 64 for line in lines)
        return has_extra or path.name.lower().endswith(_SUFFIXES)

    def parse_line(
        self, text: str, source: str, line: int, state: dict[str, object]
    ) -> HashEntry | None:
        match = _LINE.match(text.strip())
        if match is None:  # pragma: no cover - the pattern accepts any non-blank line
            raise HashListError(source, line, reason("pdq_line"))
        digest = normalize_hex(match["hex"], HashKind.PDQ, source, line)
        quality_text = match["quality"]
        quality = None
        if quality_text is not None and quality_text.strip():
            quality = parse_quality(quality_text, source, line)
        note = match["note"]
        return HashEntry(pdq=digest, pdq_quality=quality, note=note or None, line=line)

    def read_bare_digests(self, path: Path) -> Iterator[DigestBatch] | None:
        return self._read_bulk(path)

    def _read_bulk(self, path: Path) -> Iterator[DigestBatch]:
        """Lines of bare hashes (the bulk of a large list) converted a batch at a time; lines
        with a quality or note, and any line bulk conversion refuses, go through
        `parse_line`, which also names a bad line."""
        source = str(path)
        lines: list[tuple[int, str]] = []
        for number, text in iter_text_lines(path):
            stripped = text.strip()
            if stripped and not stripped.startswith(self.comment_prefixes):
                lines.append((number, stripped))
            if len(lines) >= _BULK_LINES:
                yield self._bulk_batch(lines, source)
                lines = []
        if lines:
            yield self._bulk_batch(lines, source)

    def _bulk_batch(self, lines: list[tuple[int, str]], source: str) -> DigestBatch:
        bare = [text for _, text in lines if len(text) == 64]
        if len(bare) == len(lines):
            joined = "".join(bare)
            try:
                raw = bytes.fromhex(joined)
            except ValueError:
                raw = b""
            if len(raw) * 2 == len(joined):
                return DigestBatch(len(lines), {HashKind.PDQ: raw})
        batch = DigestBatch(len(lines))
        digests: list[bytes] = []
        for number, text in lines:
            entry = self.parse_line(text, source, number, {})
            if entry is None:  # pragma: no cover - parse_line returns an entry or raises
                continue
            if entry.pdq_quality is None and entry.note is None and entry.pdq is not None:
                digests.append(bytes.fromhex(entry.pdq))
            else:
                batch.records.append(entry)
        batch.digests[HashKind.PDQ] = b"".join(digests)
        return batch

    def write(self, entries: Iterable[HashEntry], out: TextIO) -> int:
        written = 0
        for entry in entries:
            if entry.pdq is None:
                continue
            fields = [entry.pdq]
            if entry.pdq_quality is not None or entry.note:
                fields.append("" if entry.pdq_quality is None else str(entry.pdq_quality))
            if entry.note:
                fields.append(entry.note.replace("\n", " ").replace("\r", " "))
            out.write(",".join(fields) + "\n")
            written += 1
        return written
