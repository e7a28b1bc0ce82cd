"""One hex hash a line: MD5, SHA-1 or SHA-256 told apart by length.

A 64-character value is SHA-256 unless the file's first line is a header naming the kind
(`md5`, `sha1`, `sha256` or `pdq`); PDQ hashes usually come as a PDQ list instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from muhafiz.banks.formats.base import (
    DigestBatch,
    TextLineFormat,
    first_text_lines,
    iter_text_lines,
    single_hash_entry,
)
from muhafiz.banks.hexhash import HEX_LENGTHS, is_hex, normalize_hex
from muhafiz.banks.model import HashEntry, HashKind, HashListError
from muhafiz.banks.reasons import reason

_BY_LENGTH = {32: HashKind.MD5, 40: HashKind.SHA1, 64: HashKind.SHA256}
_BULK_LINES = 50_000
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
                raise HashListError(source, line, reason("header_after_hash", value=value))
            state["kind"] = header
            return None
        state["seen_data"] = True
        kind = state.get("kind")
        if not isinstance(kind, HashKind):
            if not is_hex(value):
                raise HashListError(source, line, reason("plain_not_hex", value=value[:80]))
            guessed = _BY_LENGTH.get(len(value))
            if guessed is None:
                raise HashListError(source, line, reason("plain_hash_length", length=len(value)))
            kind = guessed
        digest = normalize_hex(value, kind, source, line)
        return single_hash_entry(kind, digest, line=line)

    def read_bare_digests(self, path: Path) -> Iterator[DigestBatch] | None:
        return self._read_bulk(path)

    def _read_bulk(self, path: Path) -> Iterator[DigestBatch]:
        """Batches of lines converted at once (tens of millions of lines are common); a batch
        bulk conversion refuses goes through `parse_line`, which names the bad line."""
        source = str(path)
        state: dict[str, object] = {}
        lines: list[tuple[int, str]] = []
        for number, text in iter_text_lines(path):
            stripped = text.strip()
            if not stripped or stripped.startswith(self.comment_prefixes):
                continue
            if not state.get("seen_data") and stripped.lower() in _HEADERS:
                self.parse_line(stripped, source, number, state)
                continue
            state["seen_data"] = True
            lines.append((number, stripped))
            if len(lines) >= _BULK_LINES:
                yield self._bulk_batch(lines, source, state)
                lines = []
        if lines:
            yield self._bulk_batch(lines, source, state)

    def _bulk_batch(
        self, lines: list[tuple[int, str]], source: str, state: dict[str, object]
    ) -> DigestBatch:
        header = state.get("kind")
        groups: dict[HashKind, list[str]] = {}
        for _, text in lines:
            kind = header if isinstance(header, HashKind) else _BY_LENGTH.get(len(text))
            if kind is None or len(text) != HEX_LENGTHS[kind]:
                return self._slow_batch(lines, source, state)
            groups.setdefault(kind, []).append(text)
        batch = DigestBatch(len(lines))
        for kind, values in groups.items():
            joined = "".join(values)
            try:
                raw = bytes.fromhex(joined)
            except ValueError:
                return self._slow_batch(lines, source, state)
            if len(raw) * 2 != len(joined):  # fromhex skips spaces: not hex digits
                return self._slow_batch(lines, source, state)
            batch.digests[kind] = raw
        return batch

    def _slow_batch(
        self, lines: list[tuple[int, str]], source: str, state: dict[str, object]
    ) -> DigestBatch:
        parts: dict[HashKind, list[bytes]] = {}
        for number, text in lines:
            entry = self.parse_line(text, source, number, state)
            if entry is None:  # pragma: no cover - only headers return None, handled above
                continue
            for kind, value in (
                (HashKind.MD5, entry.md5),
                (HashKind.SHA1, entry.sha1),
                (HashKind.SHA256, entry.sha256),
                (HashKind.PDQ, entry.pdq),
            ):
                if value is not None:
                    parts.setdefault(kind, []).append(bytes.fromhex(value))
        return DigestBatch(len(lines), {kind: b"".join(v) for kind, v in parts.items()})
