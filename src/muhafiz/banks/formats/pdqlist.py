"""PDQ lists: `<64 hex>[,quality][,note]` a line, as the reference `pdq-photo-hasher` and
ThreatExchange tools print them (a tab or spaces may stand for the first comma)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import ClassVar, TextIO

from muhafiz.banks.formats.base import TextLineFormat, first_text_lines
from muhafiz.banks.hexhash import normalize_hex
from muhafiz.banks.model import HashEntry, HashKind, HashListError

_LINE = re.compile(r"^(?P<hex>[^,\s]+)(?:\s*[,\t ]\s*(?P<quality>[^,]*?))?(?:\s*,(?P<note>.*))?$")
_SNIFF = re.compile(r"^[0-9A-Fa-f]{64}(\s*[,\t ]\s*\d{1,3})?(\s*,.*)?$")
_SUFFIXES = (".pdq", ".pdq.txt", ".pdq.csv")


def parse_quality(value: str, source: str, line: int) -> int:
    text = value.strip()
    if not text.isdigit() or not 0 <= int(text) <= 100:
        raise HashListError(source, line, f"PDQ quality {text!r} is not a whole number 0-100")
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
            raise HashListError(source, line, "expected '<64 hex>[,quality][,note]'")
        digest = normalize_hex(match["hex"], HashKind.PDQ, source, line)
        quality_text = match["quality"]
        quality = None
        if quality_text is not None and quality_text.strip():
            quality = parse_quality(quality_text, source, line)
        note = match["note"]
        return HashEntry(pdq=digest, pdq_quality=quality, note=note or None, line=line)

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
