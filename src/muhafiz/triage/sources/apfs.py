"""APFS containers in disk images, through libfsapfs (pyfsapfs, the library dfvfs reads APFS
with): The Sleuth Kit as pytsk3 builds it has no pool support, so a partition holding an APFS
container is opened here when The Sleuth Kit finds no file system in it.

A container holds volumes; each is listed as its own layer of the path, after the partition:
`mac.img!p2!apfs1/Users/…` (`disk.img!apfs1/…` when the container is the whole media). APFS
keeps no deleted entries to list, and its free space is not carved (the container's space map is
not read here). An encrypted volume is recorded as needing its password, its files not listed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

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
