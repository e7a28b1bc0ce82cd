"""EWF (E01) media read chunk by chunk with Python's zlib: the fast path for EnCase images.

The PyPI libewf wheel inflates compressed chunks with libewf's own deflate code, about ten times
slower than zlib, and a disk image is mostly chunks. For the EWF-E01 layout that EnCase and
`ewfacquire` write (EnCase 2-7: "volume"/"disk", "sectors" and "table" sections), this module
reads the chunk tables itself and inflates the chunks with zlib. Everything it does not know for
certain goes to libewf instead, chunk by chunk, so the bytes are libewf's bytes:

- a layout it does not know (EWF2 `.Ex01`, SMART `.s01`, segments of 2 GiB or more whose chunk
  offsets overflow 31 bits, a table that does not add up) makes `open_fast_media` return None,
  and the whole image is read through libewf;
- a chunk whose stored checksum does not match (an uncompressed chunk's Adler-32, a compressed
  chunk that does not inflate to a whole chunk) is read through libewf, which decides what a
  damaged chunk reads as. The acquisition hashes then disagree exactly as they do with libewf.

Memory stays flat: tables are read when first needed and only a few are kept, with a small cache
of inflated chunks for the file systems' small reads.

Chunks are inflated, and stored chunks' Adler-32 computed, by ISA-L (`isal`, a dependency) where
it is installed: the same deflate and Adler-32, with the same checks (a stream that does not
end, a wrong check value), in about two thirds of zlib's time (32 KiB chunks: 1.5 -> 1.0 CPU s
per GB inflated) and under half for Adler-32 (0.37 -> 0.15 s/GB). Without it, Python's zlib
does the same work.
"""

from __future__ import annotations

import bisect
import importlib
import os
import struct
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any


def _inflater() -> ModuleType:
    """ISA-L's zlib-compatible module where installed: the same results as zlib's, faster."""
    try:
        return importlib.import_module("isal.isal_zlib")
    except ImportError:  # pragma: no cover - depends on the installation
        return zlib


_inflate = _inflater()
_INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, getattr(_inflate, "error", zlib.error))

_SIGNATURE = b"EVF\x09\x0d\x0a\xff\x00"
_DESCRIPTOR = struct.Struct("<16sQQ40sI")  # type, next offset, section size, padding, checksum
_TABLE_HEADER = struct.Struct("<IIQII")  # entries, padding, base offset, padding, checksum
_ENCASE_VOLUME_BYTES = 1052  # the EnCase volume section's data ("volume" or "disk")
_MAX_SEGMENT_BYTES = 1 << 31  # beyond this, EnCase 6.7+ lets chunk offsets overflow 31 bits
_COMPRESSED = 0x8000_0000
_OFFSET_MASK = 0x7FFF_FFFF
_MAX_SECTIONS = 1 << 20
_TABLES_KEPT = 8
_CHUNKS_KEPT = 64


class UnsupportedLayoutError(Exception):
    """The image is not one this reader knows for certain; libewf reads it instead."""


@dataclass(frozen=True, slots=True)
class _Table:
    first_chunk: int
    entries: int
    segment: int
    entries_at: int  # offset of the first entry in the segment file
    base: int  # what entry offsets are relative to
    data_end: int  # where the last chunk's data ends (the end of its "sectors" section)


def _read_exact(fd: int, size: int, offset: int) -> bytes:
    data = os.pread(fd, size, offset)
    if len(data) != size:
        raise UnsupportedLayoutError(f"short read at byte {offset:,}")
    return data


class FastEwfMedia:
    """The media of an EWF-E01 image as a read-only file object (seek, read, get_size, tell):
    what dfvfs's file objects offer, so The Sleuth Kit and the media pass read it alike."""

    def __init__(
        self,
        segments: list[Path],
        opener: Callable[[Path], int],
        fallback: Callable[[], Any],
    ) -> None:
        self._paths = segments
        self._fds: list[int] = []
        self._fallback_factory = fallback
        self._fallback: Any = None
        self._tables: list[_Table] = []
        self._firsts: list[int] = []
        self._loaded: OrderedDict[int, array[int]] = OrderedDict()
        self._chunks: OrderedDict[int, bytes] = OrderedDict()
        self._pos = 0
        self.fallback_chunks = 0  # chunks that libewf had to read (damaged or unknown)
        try:
            for path in segments:
                self._fds.append(opener(path))
            self._parse()
        except BaseException:
            self.close()
            raise

    # --- parsing ------------------------------------------------------------------------------

    def _parse(self) -> None:
        chunk_count = sectors = bytes_per_sector = sectors_per_chunk = None
        total, kind = 0, b""
        for index, fd in enumerate(self._fds):
            size = os.fstat(fd).st_size
            if size >= _MAX_SEGMENT_BYTES:
                raise UnsupportedLayoutError("a segment of 2 GiB or more")
            head = _read_exact(fd, 13, 0)
            if head[:8] != _SIGNATURE or int.from_bytes(head[9:11], "little") != index + 1:
                raise UnsupportedLayoutError("not an EWF-E01 segment in sequence")
            offset, sectors_end, seen = 13, None, 0
            while True:
                seen += 1
                if seen > _MAX_SECTIONS or offset + _DESCRIPTOR.size > size:
                    raise UnsupportedLayoutError("section chain runs off the segment")
                kind_raw, following, section_size, _, _ = _DESCRIPTOR.unpack(
                    _read_exact(fd, _DESCRIPTOR.size, offset)
                )
                kind = kind_raw.rstrip(b"\0")
                if kind in (b"volume", b"disk"):
                    if section_size - _DESCRIPTOR.size != _ENCASE_VOLUME_BYTES:
                        raise UnsupportedLayoutError("not an EnCase volume section")
                    volume = _read_exact(fd, 24, offset + _DESCRIPTOR.size)
                    chunk_count, sectors_per_chunk, bytes_per_sector, sectors = struct.unpack_from(
                        "<IIIQ", volume, 4
                    )
                elif kind == b"sectors":
                    sectors_end = offset + section_size
                elif kind == b"table":
                    if sectors_end is None:
                        raise UnsupportedLayoutError("a table without its sectors section")
                    entries, _, base, _, _ = _TABLE_HEADER.unpack(
                        _read_exact(fd, _TABLE_HEADER.size, offset + _DESCRIPTOR.size)
                    )
                    entries_at = offset + _DESCRIPTOR.size + _TABLE_HEADER.size
                    if entries == 0 or entries_at + 4 * entries > size:
                        raise UnsupportedLayoutError("a table that does not fit its segment")
                    self._tables.append(
                        _Table(total, entries, index, entries_at, base, sectors_end)
                    )
                    self._firsts.append(total)
                    total += entries
                if kind in (b"next", b"done"):
                    break
                if following <= offset or following > size:
                    raise UnsupportedLayoutError("section chain goes backwards")
                offset = following
            if kind == b"done" and index != len(self._fds) - 1:
                raise UnsupportedLayoutError("segments after the last one")
        if kind != b"done":
            raise UnsupportedLayoutError("the last segment is missing")
        if not chunk_count or not sectors_per_chunk or not bytes_per_sector or sectors is None:
            raise UnsupportedLayoutError("no EnCase volume section")
        if total != chunk_count:
            raise UnsupportedLayoutError(
                f"tables list {total} chunks, the volume says {chunk_count}"
            )
        self._chunk_size: int = int(sectors_per_chunk) * int(bytes_per_sector)
        self._size: int = int(sectors) * int(bytes_per_sector)
        if not (chunk_count - 1) * self._chunk_size < self._size <= chunk_count * self._chunk_size:
            raise UnsupportedLayoutError("media size and chunk count disagree")

    # --- file object ------------------------------------------------------------------------

    def get_size(self) -> int:
        return self._size

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError("seek before the start of the media")
        self._pos = base + offset
        return self._pos

    def read(self, size: int = -1) -> bytes:
        end = self._size if size is None or size < 0 else min(self._size, self._pos + size)
        if end <= self._pos:
            return b""
        cs = self._chunk_size
        first, last = self._pos // cs, (end - 1) // cs
        pieces: list[bytes | memoryview] = []
        n = first
        while n <= last:
            cached = self._chunks.get(n)
            if cached is not None:
                pieces.append(cached)
                n += 1
                continue
            run = self._read_run(n, last)
            pieces.extend(run)
            n += len(run)
        # Reads that share a chunk at their edges (The Sleuth Kit reads blocks) inflate it once.
        self._remember(first, pieces[0])
        self._remember(last, pieces[-1])
        head = self._pos - first * cs
        tail = end - last * cs
        self._pos = end
        if first == last:
            return bytes(pieces[0][head:tail])
        pieces[0] = pieces[0][head:]
        pieces[-1] = pieces[-1][:tail]
        return b"".join(pieces)

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []
        if self._fallback is not None:
            self._fallback.close()
            self._fallback = None

    # --- chunks -----------------------------------------------------------------------------

    def _table(self, number: int) -> array[int]:
        entries = self._loaded.get(number)
        if entries is not None:
            self._loaded.move_to_end(number)
            return entries
        table = self._tables[number]
        entries = array("I")
        entries.frombytes(
            _read_exact(self._fds[table.segment], 4 * table.entries, table.entries_at)
        )
        if entries.itemsize != 4:  # pragma: no cover - every platform Python runs on
            raise UnsupportedLayoutError("no 32-bit array type")
        if struct.pack("=I", 1) != struct.pack("<I", 1):  # pragma: no cover - big-endian hosts
            entries.byteswap()
        self._loaded[number] = entries
        if len(self._loaded) > _TABLES_KEPT:
            self._loaded.popitem(last=False)
        return entries

    def _remember(self, n: int, data: bytes | memoryview) -> None:
        if n in self._chunks:
            self._chunks.move_to_end(n)
            return
        self._chunks[n] = bytes(data)
        if len(self._chunks) > _CHUNKS_KEPT:
            self._chunks.popitem(last=False)

    def _read_run(self, n: int, last: int) -> list[bytes | memoryview]:
        """Chunks n, n + 1, ... up to `last` or the end of n's table, read with one pread."""
        number = bisect.bisect_right(self._firsts, n) - 1
        table = self._tables[number]
        entries = self._table(number)
        first_i = n - table.first_chunk
        last_i = min(last - table.first_chunk, table.entries - 1)
        ends = [
            table.base + (entries[i + 1] & _OFFSET_MASK)
            if i + 1 < table.entries
            else table.data_end
            for i in range(first_i, last_i + 1)
        ]
        starts = [table.base + (entries[i] & _OFFSET_MASK) for i in range(first_i, last_i + 1)]
        span_start, span_end = starts[0], ends[-1]
        if not all(s < e <= s + self._chunk_size + 4096 for s, e in zip(starts, ends, strict=True)):
            # Offsets that do not run forward: chunk by chunk, each checked on its own.
            span_start = span_end = 0
        blob = memoryview(
            os.pread(self._fds[table.segment], span_end - span_start, span_start)
            if span_end > span_start
            else b""
        )
        run: list[bytes | memoryview] = []
        for k, (start, stop) in enumerate(zip(starts, ends, strict=True)):
            chunk = n + k
            expected = min(self._chunk_size, self._size - chunk * self._chunk_size)
            if stop - span_start > len(blob):
                run.append(self._from_libewf(chunk, expected))
                continue
            compressed = bool(entries[first_i + k] & _COMPRESSED)
            stored = blob[start - span_start : stop - span_start]
            run.append(self._unpack(chunk, compressed, stored, expected))
        return run

    def _unpack(
        self, n: int, compressed: bool, stored: memoryview, expected: int
    ) -> bytes | memoryview:
        # Every chunk holds a whole chunk except the last, which holds what the acquisition
        # read (the media size counts whole sectors only: anything past it is dropped).
        whole = expected if expected == self._chunk_size else None
        if compressed:
            try:
                inflater = _inflate.decompressobj()
                data: bytes = inflater.decompress(stored, self._chunk_size + 1)
            except _INFLATE_ERRORS:
                return self._from_libewf(n, expected)
            if not inflater.eof or len(data) < expected or (whole and len(data) != whole):
                return self._from_libewf(n, expected)
            return data if len(data) == expected else data[:expected]
        # Stored as is, followed by its Adler-32 (little-endian).
        data_len = len(stored) - 4
        if data_len < expected or (whole and data_len != whole):
            return self._from_libewf(n, expected)
        if _inflate.adler32(stored[:data_len]) != int.from_bytes(stored[data_len:], "little"):
            return self._from_libewf(n, expected)
        return stored[:expected]

    def _from_libewf(self, n: int, expected: int) -> bytes:
        """A damaged (or unknown) chunk: what libewf reads for it, whatever that is."""
        self.fallback_chunks += 1
        if self._fallback is None:
            self._fallback = self._fallback_factory()
        self._fallback.seek(n * self._chunk_size)
        data = bytes(self._fallback.read(expected))
        if len(data) != expected:
            raise OSError(f"libewf read {len(data)} of {expected} bytes of chunk {n:,}")
        return data


def open_fast_media(
    segments: list[Path], opener: Callable[[Path], int], fallback: Callable[[], Any]
) -> FastEwfMedia | None:
    """The fast reader, or None when the layout is not one it knows (libewf reads it then)."""
    try:
        return FastEwfMedia(segments, opener, fallback)
    except UnsupportedLayoutError:
        return None
