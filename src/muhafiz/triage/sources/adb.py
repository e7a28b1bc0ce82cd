"""Android `adb backup` files (`.ab`): a text header, then a tar stream (zlib-compressed when the
header says so). Read as a source and as an archive format (an `.ab` inside a dump expands
too); members get their device paths (`devicepaths`). An encrypted backup (`AES-256`) is
recorded as needing the backup password; its bytes are still hashed."""

from __future__ import annotations

import io
import os
import zlib
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from muhafiz.triage.sources.base import ArchiveFormat, ArchivePasswordError, MemberVisitor
from muhafiz.triage.sources.directory import SingleFileSource, open_readonly
from muhafiz.triage.sources.tar import NotATarError, TarFormat

MAGIC = b"ANDROID BACKUP\n"
_MAX_HEADER_LINE = 1024


class AdbHeader:
    def __init__(self, version: str, compressed: bool, encryption: str) -> None:
        self.version = version
        self.compressed = compressed
        self.encryption = encryption


def read_header(stream: BinaryIO) -> AdbHeader:
    lines = [stream.readline(_MAX_HEADER_LINE).rstrip(b"\n") for _ in range(4)]
    if lines[0] + b"\n" != MAGIC:
        raise ValueError("not an Android backup (no 'ANDROID BACKUP' header)")
    version, compressed, encryption = (line.decode("ascii", "replace") for line in lines[1:])
    return AdbHeader(version, compressed.strip() == "1", encryption.strip())


class _Inflating(io.RawIOBase):
    """zlib-decompressing reader over a stream, at most 4 MiB decompressed at a time."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._zlib = zlib.decompressobj()
        self._pending = memoryview(b"")
        self._consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while not self._pending:
            if self._zlib.eof:
                return 0
            data = self._zlib.unconsumed_tail
            if not data:
                data = self._raw.read(256 * 1024)
                self._consumed += len(data)
                if not data:
                    raise EOFError("the compressed backup ends early (truncated?)")
            self._pending = memoryview(self._zlib.decompress(data, 4 * 1024 * 1024))
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def tell(self) -> int:
        return self._consumed  # compressed bytes consumed: what the zip-bomb guard compares


class AdbBackupFormat(ArchiveFormat):
    name: ClassVar[str] = "android-backup"
    needs_seek: ClassVar[bool] = False

    def read(self, stream: BinaryIO, visitor: MemberVisitor) -> None:
        header = read_header(stream)
        if header.encryption.lower() != "none":
            raise ArchivePasswordError(
                f"encrypted ({header.encryption}): needs the backup password"
            )
        body: BinaryIO = stream
        if header.compressed:
            body = io.BufferedReader(_Inflating(stream), 1024 * 1024)
        try:
            TarFormat().read(body, visitor)
        except NotATarError as exc:
            raise ValueError(f"the backup's body is not a readable tar: {exc}") from exc


class AdbBackupSource(SingleFileSource):
    """An `.ab` file named on the command line: hashed whole, then expanded as an archive."""

    kind: ClassVar[str] = "android-backup"

    @classmethod
    def accepts(cls, path: Path) -> bool:
        if not path.is_file():
            return False
        try:
            with os.fdopen(open_readonly(path), "rb") as handle:
                return handle.read(len(MAGIC)) == MAGIC
        except OSError:
            return False

    def describe(self) -> str:
        return f"Android backup (adb) {self.path.resolve()}"

    def details(self) -> dict[str, Any] | None:
        try:
            with os.fdopen(open_readonly(self.path), "rb") as handle:
                header = read_header(handle)
        except (OSError, ValueError):
            return {"format": "Android backup"}
        return {
            "format": "Android backup",
            "backup_version": header.version,
            "compressed": header.compressed,
            "encryption": header.encryption,
            "encrypted": header.encryption.lower() != "none",
        }
