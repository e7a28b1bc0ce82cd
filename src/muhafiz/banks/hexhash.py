"""Hex digests: validation, normalisation and kind-by-length, shared by every format reader."""

from __future__ import annotations

import re

from muhafiz.banks.model import HashKind, HashListError
from muhafiz.banks.reasons import reason

HEX_LENGTHS: dict[HashKind, int] = {
    HashKind.MD5: 32,
    HashKind.SHA1: 40,
    HashKind.SHA256: 64,
    HashKind.PDQ: 64,
}

# Byte widths of the digests the exact index stores.
DIGEST_BYTES: dict[HashKind, int] = {
    HashKind.MD5: 16,
    HashKind.SHA1: 20,
    HashKind.SHA256: 32,
}

_HEX = re.compile(r"[0-9a-fA-F]*")


def is_hex(value: str) -> bool:
    return _HEX.fullmatch(value) is not None


def normalize_hex(value: str, kind: HashKind, source: str, line: int | None) -> str:
    """Return `value` as lowercase hex of the length `kind` needs, or raise naming the place."""
    text = value.strip()
    expected = HEX_LENGTHS[kind]
    if not is_hex(text):
        raise HashListError(source, line, reason("not_hex", kind=kind.value, value=_shorten(text)))
    if len(text) != expected:
        raise HashListError(
            source,
            line,
            reason(
                "wrong_hex_length",
                kind=kind.value,
                value=_shorten(text),
                length=len(text),
                expected=expected,
            ),
        )
    return text.lower()


def kinds_for_length(length: int) -> tuple[HashKind, ...]:
    """Which hash kinds a bare hex value of this length may be (64 is SHA-256 or PDQ)."""
    if length == 32:
        return (HashKind.MD5,)
    if length == 40:
        return (HashKind.SHA1,)
    if length == 64:
        return (HashKind.SHA256, HashKind.PDQ)
    return ()


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
