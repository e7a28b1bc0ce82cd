"""One hex hash a line: MD5, SHA-1 or SHA-256 told apart by length.

A 64-character value is SHA-256 unless the file's first line is a header naming the kind
(`md5`, `sha1`, `sha256` or `pdq`); PDQ hashes usually come as a PDQ list instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from muhafiz.banks.formats.base import TextLineFormat, first_text_lines, single_hash_entry
from muhafiz.banks.hexhash import is_hex, normalize_hex
from muhafiz.banks.model import HashEntry, HashKind, HashListError

_BY_LENGTH = {32: HashKind.MD5, 40: HashKind.SHA1, 64: HashKind.SHA256}
_HEADERS = {
    kind.value: kind for kind in (HashKind.MD5, HashKind.SHA1, HashKind.SHA256, HashKind.PDQ)
}


class PlainHashList(TextLineFormat):
    name: ClassVar[str] = "plain"
    description: ClassVar[str] = "one hex MD5, SHA-1 or SHA-256 a line (optional header line)"
    sniff_order: ClassVar[int] = 900

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = first_text_lines(head, limit=2)
        if lines and lines[0].lower() in _HEADERS:
            lines = lines[1:]
        lines = lines[:1]
        return bool(lines) and all(is_hex(line) and len(line) in _BY_LENGTH for line in lines)

    def parse_line(
        self, text: str, source: str, line: int, state: dict[str, object]
    ) -> HashEntry | None:
        value = text.strip()
        header = _HEADERS.get(value.lower())
        if header is not None:
            if state.get("seen_data"):
                raise HashListError(source, line, f"header {value!r} after the first hash")
            state["kind"] = header
            return None
        state["seen_data"] = True
        kind = state.get("kind")
        if not isinstance(kind, HashKind):
            if not is_hex(value):
                raise HashListError(source, line, f"{value[:80]!r} is not a hexadecimal hash")
            guessed = _BY_LENGTH.get(len(value))
            if guessed is None:
                raise HashListError(
                    source,
                    line,
                    f"hash of {len(value)} hex characters; expected 32 (MD5), 40 (SHA-1) "
                    "or 64 (SHA-256)",
                )
            kind = guessed
        digest = normalize_hex(value, kind, source, line)
        return single_hash_entry(kind, digest, line=line)
