"""MD5, SHA-1 and SHA-256 of a stream in one pass over a large, reused buffer."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

# 1 MiB: large enough that per-call overhead vanishes, small enough to stay in cache for the
# three digests that read each chunk in turn.
CHUNK_BYTES = 1024 * 1024


class ReadIntoStream(Protocol):
    def readinto(self, buffer: bytearray | memoryview, /) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Digests:
    md5: str
    sha1: str
    sha256: str
    size: int


class MultiHasher:
    """Feeds every chunk to all three digests; hashlib releases the GIL on large chunks."""

    __slots__ = ("_md5", "_sha1", "_sha256", "size")

    def __init__(self) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._sha1 = hashlib.sha1(usedforsecurity=False)
        self._sha256 = hashlib.sha256()
        self.size = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        self._md5.update(data)
        self._sha1.update(data)
        self._sha256.update(data)
        self.size += len(data)

    def digests(self) -> Digests:
        return Digests(
            self._md5.hexdigest(), self._sha1.hexdigest(), self._sha256.hexdigest(), self.size
        )


def hash_stream(stream: ReadIntoStream, buffer: bytearray | None = None) -> Digests:
    """Hash a whole stream; pass a buffer to reuse it across files."""
    buf = buffer if buffer is not None else bytearray(CHUNK_BYTES)
    view = memoryview(buf)
    hasher = MultiHasher()
    while True:
        n = stream.readinto(view)
        if not n:
            break
        hasher.update(view[:n])
    return hasher.digests()
