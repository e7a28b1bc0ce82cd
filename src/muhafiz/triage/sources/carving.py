"""Carving JPEG and PNG pictures out of unallocated space, by header, structure and footer.

A candidate starts at a signature (JPEG SOI + a marker, the PNG signature), its structure is
followed (JPEG segments to the start of scan, then the entropy-coded data to EOI; PNG chunks to
IEND), it is bounded in size, and it is kept only if Pillow decodes it completely. Each kept
picture is pushed into the scan as a member named by its offset in the media, flagged `carved`,
and hashed and matched like any other file. Nothing is written anywhere.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from typing import IO

from PIL import Image

from muhafiz.triage.sources.base import MemberInfo, MemberVisitor

WINDOW_BYTES = 8 * 1024 * 1024
MAX_CARVED_BYTES = 32 * 1024 * 1024
MIN_CARVED_BYTES = 128
MAX_PIXELS = 100_000_000

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOI = b"\xff\xd8\xff"


def carve(media: IO[bytes], start: int, length: int, visitor: MemberVisitor) -> int:
    """Carve pictures whose first byte lies in [start, start + length) of `media`; returns how
    many were found. A picture may run past the end of the range (into the next piece)."""
    found = 0
    position = start
    skip_until = start
    end = start + length
    while position < end and not visitor.stopped:
        window = _read_at(media, position, min(WINDOW_BYTES, end - position) + 16)
        if not window:
            break
        limit = min(len(window), end - position)
        for index in _signatures(window, min(len(window), limit + 8)):
            offset = position + index
            if index >= limit or offset < skip_until:
                continue
            data = _candidate(media, offset, window, index)
            if data is None:
                continue
            is_png = data.startswith(_PNG_SIGNATURE)
            info = MemberInfo(
                name=f"{offset}.{'png' if is_png else 'jpg'}",
                size=len(data),
                carved_offset=offset,
            )
            found += 1
            sink = visitor.member(info)
            if sink is not None:
                sink.write(data)
                sink.close()
            # What was carved is skipped: a JPEG's embedded thumbnail is part of it.
            skip_until = offset + len(data)
            if visitor.stopped:
                break
        position = max(position + limit, skip_until)
    return found


def _signatures(window: bytes, stop: int) -> list[int]:
    """Where a JPEG (SOI, then a marker C0-FE) or PNG signature starts, in order. bytes.find
    runs at memory speed; a regular expression with alternatives tries every byte."""
    found = []
    at = window.find(_JPEG_SOI, 0, stop)
    while at >= 0:
        if at + 3 < len(window) and 0xC0 <= window[at + 3] <= 0xFE and at + 4 <= stop:
            found.append(at)
        at = window.find(_JPEG_SOI, at + 1, stop)
    at = window.find(_PNG_SIGNATURE, 0, stop)
    while at >= 0:
        found.append(at)
        at = window.find(_PNG_SIGNATURE, at + 1, stop)
    return sorted(found)


def _read_at(media: IO[bytes], offset: int, size: int) -> bytes:
    media.seek(offset)
    return media.read(size) or b""


def _candidate(media: IO[bytes], offset: int, window: bytes, index: int) -> bytes | None:
    # Most pictures fit in the window already read; larger ones are read again, bounded.
    head = window[index:]
    end = _png_end(head) if head.startswith(_PNG_SIGNATURE) else _jpeg_end(head)
    if end is None and len(head) < MAX_CARVED_BYTES:
        head = _read_at(media, offset, MAX_CARVED_BYTES)
        end = _png_end(head) if head.startswith(_PNG_SIGNATURE) else _jpeg_end(head)
    if end is None or end < MIN_CARVED_BYTES:
        return None
    data = head[:end]
    return data if _decodes(data) else None


def _jpeg_end(data: bytes) -> int | None:
    """The end of a JPEG starting at data[0], by its segment structure; None if malformed."""
    n = len(data)
    i = 2
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:
            return i + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            i += 2
            continue
        (seg_len,) = struct.unpack_from(">H", data, i + 2)
        if seg_len < 2:
            return None
        i += 2 + seg_len
        if marker == 0xDA:  # start of scan: entropy-coded data until a marker that is not RST
            while True:
                j = data.find(b"\xff", i)
                if j < 0 or j + 1 >= n:
                    return None
                following = data[j + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    i = j + 1 if following == 0xFF else j + 2
                    continue
                i = j
                break
    return None


def _png_end(data: bytes) -> int | None:
    """The end of a PNG starting at data[0], chunk by chunk to IEND (CRCs checked)."""
    i = len(_PNG_SIGNATURE)
    n = len(data)
    first = True
    while i + 12 <= n:
        length: int
        kind: bytes
        length, kind = struct.unpack_from(">I4s", data, i)
        if length > MAX_CARVED_BYTES or not kind.isalpha():
            return None
        if first and kind != b"IHDR":
            return None
        first = False
        end: int = i + 12 + length
        if end > n:
            return None
        (crc,) = struct.unpack_from(">I", data, i + 8 + length)
        if zlib.crc32(data[i + 4 : i + 8 + length]) != crc:
            return None
        if kind == b"IEND":
            return end
        i = end
    return None


def _decodes(data: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_PIXELS:
                    return False
                image.draft("RGB", (64, 64))  # a JPEG decodes at 1/8 scale: still every block
                image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        return False
    return True
