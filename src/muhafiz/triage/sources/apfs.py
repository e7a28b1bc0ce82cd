"""APFS containers in disk images, through libfsapfs (pyfsapfs, the library dfvfs reads APFS
with): The Sleuth Kit as pytsk3 builds it has no pool support, so a partition holding an APFS
container is opened here when The Sleuth Kit finds no file system in it.

A container holds volumes; each is listed as its own layer of the path, after the partition:
`mac.img!p2!apfs1/Users/…` (`disk.img!apfs1/…` when the container is the whole media). APFS
keeps no deleted entries to list; the blocks the space manager of the latest checkpoint marks
free are carved (`free_ranges`). An encrypted volume is recorded as needing its password, its
files not listed.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from typing import Any, Protocol

import numpy as np
import pyfsapfs

from muhafiz.triage.records import FileRecord, Issue, IssueCode, display_name, iso_utc
from muhafiz.triage.sources.base import Unit

APFS_LOCATOR = "apfs"
# The container superblock's magic, 32 bytes into the partition (after the object header).
NXSB_OFFSET = 32
NXSB = b"NXSB"
APFS_NOTE = (
    "file-system times read from the image (apfs, stored in UTC, nanoseconds): created = birth "
    "time, mtime = content modified, atime = last access (updated lazily), ctime = metadata changed"
)
_S_IFMT = 0o170000
_S_IFREG = 0o100000
_S_IFDIR = 0o040000
_S_IFLNK = 0o120000


def is_apfs_container(head: bytes) -> bool:
    """`head`: the partition's first 36 bytes or more."""
    return head[NXSB_OFFSET : NXSB_OFFSET + 4] == NXSB


def open_container(stream: Any) -> Any:
    """A pyfsapfs container over a seekable stream of the partition's bytes."""
    container = pyfsapfs.container()
    container.open_file_object(stream)
    return container


def walk_container(
    container: Any, *, source_id: int, prefix: str, locator_base: str
) -> Iterator[Unit | FileRecord | Issue | dict[str, Any]]:
    """Every file of every volume: regular files as Units (`apfs:<base>:<volume>:<identifier>`),
    symbolic links and special files as records; then, per volume, a dict for the details."""
    for index in range(int(container.number_of_volumes)):
        label = f"{prefix}!apfs{index + 1}"
        about: dict[str, Any] = {"volume": f"apfs{index + 1}", "name": ""}
        try:
            volume = container.get_volume(index)
            about["name"] = volume.name or ""
            locked = bool(volume.is_locked())
            root = volume.get_root_directory()
        except Exception as exc:  # libfsapfs raises OSError and others on damaged volumes
            about["status"] = "error"
            yield Issue(
                source_id,
                label,
                IssueCode.FILE_SYSTEM_UNREADABLE,
                f"APFS volume {index + 1} cannot be read ({str(exc).strip()})",
            )
            yield about
            continue
        if locked:
            about["status"] = "encrypted"
            yield Issue(
                source_id,
                label,
                IssueCode.PASSWORD_PROTECTED,
                f"encrypted APFS volume {volume.name or ''!r}: needs its password; its files "
                "were not listed",
            )
            yield about
            continue
        files = 0
        stack: list[tuple[Any, str]] = [(root, label)]
        seen = {int(root.identifier)}  # a damaged volume's folders must not loop the walk
        while stack:
            directory, rel = stack.pop()
            try:
                entries = sorted(directory.sub_file_entries, key=lambda e: e.name or "")
            except Exception as exc:  # libfsapfs raises OSError and others
                yield Issue(
                    source_id, rel, IssueCode.UNREADABLE, f"directory not listed: {exc}".strip()
                )
                continue
            subdirs: list[tuple[Any, str]] = []
            for entry in entries:
                shown, raw = display_name(f"{rel}/{entry.name}")
                mode = int(entry.file_mode or 0) & _S_IFMT
                if mode == _S_IFDIR:
                    if int(entry.identifier) not in seen:
                        seen.add(int(entry.identifier))
                        subdirs.append((entry, shown))
                    continue
                files += 1
                if mode == _S_IFREG:
                    locator = f"{APFS_LOCATOR}:{locator_base}:{index}:{int(entry.identifier)}"
                    yield Unit(source_id, shown, locator, int(entry.size or 0), raw)
                    continue
                record = FileRecord(source_id, shown, None, 0, path_raw=raw)
                record.inode = int(entry.identifier)
                record.size = int(entry.size or 0)
                fill_apfs_times(record, entry)
                if mode == _S_IFLNK:
                    record.kind = "symlink"
                    record.mime = "inode/symlink"
                    target = entry.symbolic_link_target
                    if target:
                        record.link_target = display_name(str(target))[0]
                else:
                    record.kind = "special"
                    record.mime = "inode/x-special"
                    record.add_issue(
                        IssueCode.NOT_REGULAR, "special file in the image; content not read"
                    )
                yield record
            stack.extend(reversed(subdirs))
        about["status"] = "scanned"
        about["files"] = files
        yield about


def fill_apfs_times(record: FileRecord, entry: Any) -> None:
    def ns(value: Any) -> str | None:
        return iso_utc(int(value)) if value else None

    record.created = ns(entry.get_creation_time_as_integer())
    record.mtime = ns(entry.get_modification_time_as_integer())
    record.atime = ns(entry.get_access_time_as_integer())
    record.ctime = ns(entry.get_inode_change_time_as_integer())
    record.time_zone = "UTC"
    record.timestamps_reliable = True
    record.timestamp_note = APFS_NOTE


class ApfsFileReader(io.RawIOBase):
    """A read-only stream over an APFS file's data (decompressed where APFS compresses it)."""

    def __init__(self, entry: Any, size: int) -> None:
        self._entry = entry
        self._size = size
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._size - self._pos)
        if n <= 0:
            return 0
        data = self._entry.read_buffer_at_offset(n, self._pos)
        if not data:
            return 0
        memoryview(buffer)[: len(data)] = data
        self._pos += len(data)
        return len(data)


class _Media(Protocol):
    def seek(self, offset: int, whence: int = ..., /) -> int: ...
    def read(self, size: int = ..., /) -> bytes | None: ...


class _BlockReader(Protocol):
    def __call__(self, block: int, size: int, what: str, kind: int | None = None) -> bytes: ...


class SpaceMapError(ValueError):
    """The container's space manager cannot be followed: its free space is not carved."""


_OBJECT_TYPE_MASK = 0xFFFF
_TYPE_NX_SUPERBLOCK = 0x01
_TYPE_SPACEMAN = 0x05
_TYPE_SPACEMAN_CAB = 0x06
_TYPE_SPACEMAN_CIB = 0x07
_TYPE_CHECKPOINT_MAP = 0x0C
_CHECKPOINT_DESC_NOT_CONTIGUOUS = 0x80000000
_MIN_BLOCK = 4096


def fletcher64(block: bytes) -> int:
    """An APFS object's checksum: Fletcher-64 over its 32-bit little-endian words after the
    checksum field."""
    low = high = 0
    for (word,) in struct.iter_unpack("<I", block[8:]):
        low = (low + word) % 0xFFFFFFFF
        high = (high + low) % 0xFFFFFFFF
    check_low = 0xFFFFFFFF - ((low + high) % 0xFFFFFFFF)
    check_high = 0xFFFFFFFF - ((low + check_low) % 0xFFFFFFFF)
    return (check_high << 32) | check_low


def free_ranges(media: _Media, length: int) -> Iterator[tuple[int, int]]:
    """Byte ranges (offset from the container's start, length), in order, that the space
    manager of the container's latest checkpoint marks free: where deleted files' bytes stay
    until reused. `media` reads the container (`length` bytes). Raises SpaceMapError, possibly
    after some ranges, on anything that does not add up; nothing is guessed."""
    pending: tuple[int, int] | None = None  # contiguous free runs merged across chunks
    for first, blocks, block_size in _free_blocks(media, length):
        if pending and pending[0] + pending[1] == first * block_size:
            pending = (pending[0], pending[1] + blocks * block_size)
            continue
        if pending:
            yield pending
        pending = (first * block_size, blocks * block_size)
    if pending:
        yield pending


def _free_blocks(media: _Media, length: int) -> Iterator[tuple[int, int, int]]:
    """(first block, blocks, block size) of each free run, chunk by chunk."""

    def read(block: int, size: int, what: str, kind: int | None = None) -> bytes:
        if block < 0 or (block + 1) * size > length:
            raise SpaceMapError(f"{what} at block {block}: outside the container")
        media.seek(block * size)
        data = media.read(size) or b""
        if len(data) != size:
            raise SpaceMapError(f"{what} at block {block}: short read")
        if kind is not None:
            if int.from_bytes(data[:8], "little") != fletcher64(data):
                raise SpaceMapError(f"{what} at block {block}: checksum mismatch")
            if int.from_bytes(data[24:28], "little") & _OBJECT_TYPE_MASK != kind:
                raise SpaceMapError(f"{what} at block {block}: not of its type")
        return data

    media.seek(0)
    first = media.read(_MIN_BLOCK) or b""
    if len(first) < _MIN_BLOCK or not is_apfs_container(first):
        raise SpaceMapError("no container superblock")
    block_size = int.from_bytes(first[36:40], "little")
    if block_size not in {_MIN_BLOCK << n for n in range(5)}:
        raise SpaceMapError(f"block size {block_size}")
    superblock = _latest_checkpoint(read, block_size, length)
    block_count = min(int.from_bytes(superblock[40:48], "little"), length // block_size)
    spaceman_block = _spaceman_block(read, superblock, block_size)
    spaceman = read(spaceman_block, block_size, "space manager", _TYPE_SPACEMAN)
    blocks_per_chunk, chunks_per_cib = struct.unpack_from("<II", spaceman, 36)
    chunk_count, cib_count, cab_count = struct.unpack_from("<QII", spaceman, 56)
    addr_offset = int.from_bytes(spaceman[80:84], "little")
    if blocks_per_chunk != 8 * block_size or not 0 < chunks_per_cib <= (block_size - 40) // 32:
        raise SpaceMapError("space manager: chunk geometry")
    if chunk_count * blocks_per_chunk < block_count or cib_count * chunks_per_cib < chunk_count:
        raise SpaceMapError("space manager: fewer chunks than blocks")

    def addresses(data: bytes, at: int, count: int) -> list[int]:
        if at + 8 * count > len(data):
            raise SpaceMapError("space manager: address table past its block")
        return [int.from_bytes(data[at + 8 * i : at + 8 * i + 8], "little") for i in range(count)]

    if cab_count == 0:
        cibs = addresses(spaceman, addr_offset, cib_count)
    else:
        cibs = []
        for cab_block in addresses(spaceman, addr_offset, cab_count):
            cab = read(cab_block, block_size, "chunk-info address block", _TYPE_SPACEMAN_CAB)
            cibs += addresses(cab, 40, int.from_bytes(cab[36:40], "little"))
            if len(cibs) > cib_count:
                raise SpaceMapError("space manager: chunk-info blocks miscounted")
    expected = 0  # the chunks cover the blocks in order, without gaps
    for cib_block in cibs:
        cib = read(cib_block, block_size, "chunk-info block", _TYPE_SPACEMAN_CIB)
        for i in range(min(int.from_bytes(cib[36:40], "little"), chunks_per_cib)):
            start, size, free_count, bitmap_block = struct.unpack_from("<QIIQ", cib, 48 + 32 * i)
            if start != expected or size > blocks_per_chunk or free_count > size:
                raise SpaceMapError(f"chunk at block {start}: does not follow the previous one")
            expected = start + size
            size = max(0, min(size, block_count - start))  # nothing past the container
            if free_count == 0 or size == 0:
                continue
            if bitmap_block == 0:  # a chunk without a bitmap has never been used
                yield start, size, block_size
                continue
            for run, blocks in _free_runs(read(bitmap_block, block_size, "space bitmap"), size):
                yield start + run, blocks, block_size
    if expected < block_count:
        raise SpaceMapError("space manager: the chunks do not cover the container")


def _spaceman_block(read: _BlockReader, superblock: bytes, block_size: int) -> int:
    """Where the checkpoint's maps put the space manager (an ephemeral object)."""
    spaceman_oid = int.from_bytes(superblock[152:160], "little")
    desc_base = int.from_bytes(superblock[112:120], "little")
    desc_blocks = int.from_bytes(superblock[104:108], "little") & ~_CHECKPOINT_DESC_NOT_CONTIGUOUS
    desc_index = int.from_bytes(superblock[136:140], "little")
    desc_len = int.from_bytes(superblock[140:144], "little")
    for k in range(min(desc_len, desc_blocks)):
        block = desc_base + (desc_index + k) % desc_blocks
        head = read(block, block_size, "checkpoint block")
        if int.from_bytes(head[24:28], "little") & _OBJECT_TYPE_MASK != _TYPE_CHECKPOINT_MAP:
            continue
        checkpoint = read(block, block_size, "checkpoint map", _TYPE_CHECKPOINT_MAP)
        count = min(int.from_bytes(checkpoint[36:40], "little"), (block_size - 40) // 40)
        for i in range(count):
            oid, paddr = struct.unpack_from("<QQ", checkpoint, 40 + 40 * i + 24)
            if oid == spaceman_oid:
                return int(paddr)
    raise SpaceMapError("the checkpoint maps no space manager")


def _latest_checkpoint(read: _BlockReader, block_size: int, length: int) -> bytes:
    """The container superblock of the latest valid checkpoint: the highest transaction among
    block 0 and the copies in the checkpoint descriptor area."""
    best = read(0, block_size, "container superblock", _TYPE_NX_SUPERBLOCK)
    desc_blocks = int.from_bytes(best[104:108], "little")
    desc_base = int.from_bytes(best[112:120], "little")
    if desc_blocks & _CHECKPOINT_DESC_NOT_CONTIGUOUS:
        raise SpaceMapError("checkpoint descriptor area kept in a B-tree (not read here)")
    for k in range(min(desc_blocks, length // block_size)):
        data = read(desc_base + k, block_size, "checkpoint block")
        kind = int.from_bytes(data[24:28], "little") & _OBJECT_TYPE_MASK
        if kind != _TYPE_NX_SUPERBLOCK or not is_apfs_container(data):
            continue
        if int.from_bytes(data[:8], "little") != fletcher64(data):
            continue
        if int.from_bytes(data[16:24], "little") > int.from_bytes(best[16:24], "little"):
            best = data
    return best


def _free_runs(bitmap: bytes, size: int) -> Iterator[tuple[int, int]]:
    """(first bit, bits) of each run of clear bits among the first `size` bits of a space
    bitmap (lowest bit of each byte first)."""
    used = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")[:size]
    edges = np.flatnonzero(np.diff(np.concatenate(([1], used, [1])).astype(np.int8)))
    for begin, end in zip(edges[::2], edges[1::2], strict=True):
        yield int(begin), int(end - begin)
