"""Disk images through dfvfs and The Sleuth Kit: partitions, file systems, deleted files, carving.

The image formats (EWF, VMDK, VHD/VHDX, QCOW2, raw and split raw) are opened by dfvfs, read-only;
the partition table and the file systems on it are read by pytsk3 (The Sleuth Kit) over dfvfs's
view of the media. One shared class does the work; each image format is a thin source kind in its
own module (`ewf.py`, `vmimage.py`, `rawimage.py`) that says how to recognise it.

A disk image becomes three kinds of unit:
- the media itself (path: the image's name): read once from end to end and hashed, so that the
  acquisition hashes an EWF image stores are verified against the data as the scan read it;
- every file a file system lists, allocated or deleted, and each NTFS alternate data stream
  (`laptop.E01!p2/Users/a.jpg`, `…/a.txt:secret`);
- the unallocated space of each file system and the space no partition claims
  (`laptop.E01!p2/$Unalloc/<start>-<end>`), from which JPEG and PNG pictures are carved.

Paths say image → partition → path so that a report points at the original place. The walk
holds only plain data; every process (main and workers) opens its own handles, lazily.
"""

from __future__ import annotations

import functools
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import pytsk3
from dfvfs.file_io import os_file_io
from dfvfs.lib import definitions as dfvfs_definitions
from dfvfs.lib import tsk_image
from dfvfs.path import factory as path_spec_factory
from dfvfs.path import os_path_spec
from dfvfs.resolver import context as dfvfs_context
from dfvfs.resolver import resolver as dfvfs_resolver

from muhafiz.triage.records import FileRecord, Issue, IssueCode, display_name, iso_utc
from muhafiz.triage.sources import apfs
from muhafiz.triage.sources.base import (
    MemberVisitor,
    OpenedUnit,
    PositionedReader,
    Source,
    SweptFile,
    Unit,
    Verification,
)
from muhafiz.triage.sources.carving import carve
from muhafiz.triage.sources.directory import fill_from_stat, open_readonly

# Unallocated space is carved in pieces of this size, so that workers share it and a resumed scan
# repeats at most one piece.
CARVE_PIECE_BYTES = 256 * 1024 * 1024
# Gaps smaller than this between partitions are alignment padding, not worth a unit.
MIN_CARVE_BYTES = 4096

MEDIA_LOCATOR = "media"
# Files the media pass reads as it goes (`SweptFile`): listed with this locator kind, handed to a
# worker alone only when the media pass is already done (a resumed scan).
SWEPT = "swept"
# At most this many files per image ride on the media pass: their records are returned together
# with the media's, so the number bounds that pass's memory (about 2 kB a file). The rest are
# read one by one, as before.
MAX_SWEPT_FILES = 50_000
# File systems whose allocated files' bytes are exactly their runs' blocks, as The Sleuth Kit
# reads them. Not NTFS: bytes past an attribute's initialised size read as zeros there, and
# pytsk3 does not show that size; not exFAT (untested with files).
_SWEPT_FS = frozenset({"ext2", "ext3", "ext4", "fat12", "fat16", "fat32"})
_ATTR_NOT_PLAIN = (
    int(pytsk3.TSK_FS_ATTR_COMP) | int(pytsk3.TSK_FS_ATTR_ENC) | int(pytsk3.TSK_FS_ATTR_SPARSE)
)

_FS_NAMES = {
    pytsk3.TSK_FS_TYPE_NTFS: "ntfs",
    pytsk3.TSK_FS_TYPE_FAT12: "fat12",
    pytsk3.TSK_FS_TYPE_FAT16: "fat16",
    pytsk3.TSK_FS_TYPE_FAT32: "fat32",
    pytsk3.TSK_FS_TYPE_EXFAT: "exfat",
    pytsk3.TSK_FS_TYPE_EXT2: "ext2",
    pytsk3.TSK_FS_TYPE_EXT3: "ext3",
    pytsk3.TSK_FS_TYPE_EXT4: "ext4",
    pytsk3.TSK_FS_TYPE_HFS: "hfs+",
    pytsk3.TSK_FS_TYPE_ISO9660: "iso9660",
}
_VS_NAMES = {
    pytsk3.TSK_VS_TYPE_DOS: "mbr",
    pytsk3.TSK_VS_TYPE_GPT: "gpt",
    pytsk3.TSK_VS_TYPE_MAC: "apple",
    pytsk3.TSK_VS_TYPE_BSD: "bsd",
    pytsk3.TSK_VS_TYPE_SUN: "sun",
}
_FAT_LIKE = frozenset({"fat12", "fat16", "fat32", "exfat"})
# File systems whose deleted directories The Sleuth Kit still lists the entries of (FAT keeps the
# directory's clusters; NTFS its MFT entries, which name their parent).
_DELETED_DIRS_LISTED = _FAT_LIKE | {"ntfs"}
_SKIPPED_NAMES = frozenset({".", ".."})
# The Sleuth Kit's virtual folder of orphans: deleted files the file system still has an entry
# for (an inode, an MFT entry) but no folder names any more. Listed, every file in it deleted.
ORPHANS = "$OrphanFiles"
_NTFS_DATA = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)
# An HFS+ file's resource fork: listed as a stream of its own, by Apple's path for it.
_HFS_RSRC = int(pytsk3.TSK_FS_ATTR_TYPE_HFS_RSRC)
RESOURCE_FORK = "/..namedfork/rsrc"
_NTFS_IDXROOT = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_IDXROOT)
_NONRESIDENT = int(pytsk3.TSK_FS_ATTR_NONRES)
_RUN_SKIP = int(pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE) | int(pytsk3.TSK_FS_ATTR_RUN_FLAG_FILLER)

UTC_NOTE = (
    "file-system times read from the image ({fs}, stored in UTC): created = birth time, "
    "mtime = content modified, atime = last access (updated lazily by most systems), ctime = "
    "metadata changed{extra}"
)
FAT_NOTE = (
    "file-system times read from the image (FAT stores the device's local time with no zone; "
    "shown as recorded): created, mtime; atime is a date only; FAT has no ctime"
)
DELETED_NOTE = "; deleted: the times are those the file system kept after the deletion"


class _NoAtimeOSFile(os_file_io.OSFile):  # type: ignore[misc]  # dfvfs has no type hints
    """dfvfs's file on the examiner's disk, reopened with O_NOATIME where permitted: every image
    format (EWF, VMDK, VHD, QCOW, raw) reads its files through it, and reading the evidence
    must not change even its access time."""

    def _Open(self) -> None:  # noqa: N802 - dfvfs's name
        super()._Open()
        opened: Any = getattr(self, "_file_object", None)
        name = getattr(opened, "name", None)
        if isinstance(opened, io.BufferedReader) and isinstance(name, str):
            reopened = io.FileIO(open_readonly(name), "rb", closefd=True)
            self.__dict__["_file_object"] = reopened
            opened.close()


@functools.cache
def _register_noatime_helper() -> None:
    """Put the O_NOATIME file into dfvfs, once per process, before the first image is opened
    (not at import: dfvfs's helper registry costs a tenth of a second of every scan's start)."""
    from dfvfs.resolver_helpers import manager as dfvfs_helpers
    from dfvfs.resolver_helpers import os_resolver_helper

    class _NoAtimeOSResolverHelper(os_resolver_helper.OSResolverHelper):  # type: ignore[misc]
        def NewFileObject(self, resolver_context: Any, path_spec: Any) -> Any:  # noqa: N802
            return _NoAtimeOSFile(resolver_context, path_spec)

    helper = _NoAtimeOSResolverHelper()
    registered = dfvfs_helpers.ResolverHelperManager.GetHelper(helper.type_indicator)
    if type(registered).__name__ != _NoAtimeOSResolverHelper.__name__:
        dfvfs_helpers.ResolverHelperManager.DeregisterHelper(registered)
        dfvfs_helpers.ResolverHelperManager.RegisterHelper(helper)


class _EvidencePathSpec(os_path_spec.OSPathSpec):  # type: ignore[misc]
    """An OS path that dfvfs does not treat as "system level": EWF and raw images then open
    their segments through dfvfs file objects (the O_NOATIME ones above) instead of letting
    libewf and libsmraw open the files by name."""

    _IS_SYSTEM_LEVEL = False


def noatime_file(path: Path) -> io.FileIO:
    """A read-only file object that does not update the file's access time where permitted."""
    return io.FileIO(open_readonly(path), "rb", closefd=True)


@dataclass(frozen=True, slots=True)
class Volume:
    """A partition (`p1`, `p2`, ...) or the whole media when there is no partition table."""

    name: str  # p1, p2, ... ; "" for a file system without a partition table
    start: int  # bytes from the start of the media
    length: int
    description: str


class MediaReader(io.RawIOBase):
    """A read-only stream over a dfvfs file object (the image's media, or a range of it)."""

    def __init__(
        self, file_object: Any, start: int = 0, length: int | None = None, *, owned: bool = False
    ) -> None:
        self._file = file_object
        self._owned = owned  # closed with this stream
        self._start = start
        self._end = start + length if length is not None else int(file_object.get_size())
        self._pos = start

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        if self._owned and not self.closed:
            closing = getattr(self._file, "close", None)
            if closing is not None:
                closing()
        super().close()

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._end - self._pos)
        if n <= 0:
            return 0
        try:
            self._file.seek(self._pos)
            data = self._file.read(n)
        except Exception as exc:  # the libyal bindings raise RuntimeError and others on bad data
            raise OSError(f"read failed at byte {self._pos:,}: {str(exc).strip()}") from exc
        if not data:
            return 0
        memoryview(buffer)[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: self._start, io.SEEK_CUR: self._pos, io.SEEK_END: self._end}[whence]
        self._pos = max(self._start, base + offset)
        return self._pos - self._start

    def tell(self) -> int:
        return self._pos - self._start


class TskFileReader(PositionedReader):
    """A read-only stream over one data attribute of a file, through pytsk3's read_random.
    Seekable: an archive reopened from the image (a ZIP's directory is at its end) seeks."""

    def __init__(self, tsk_file: Any, size: int, attr: tuple[int, int] | None) -> None:
        self._file = tsk_file
        self._size = size
        self._attr = attr
        self._pos = 0

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._size - self._pos)
        if n <= 0:
            return 0
        if self._attr is None:
            data = self._file.read_random(self._pos, n)
        else:
            data = self._file.read_random(self._pos, n, self._attr[0], self._attr[1])
        if not data:
            return 0
        memoryview(buffer)[: len(data)] = data
        self._pos += len(data)
        return len(data)


class DiskImageSource(Source):
    """A disk image. Subclasses name the dfvfs image type and how to recognise the format."""

    kind: ClassVar[str] = "disk-image"
    format_name: ClassVar[str] = "disk image"
    type_indicator: ClassVar[str] = dfvfs_definitions.TYPE_INDICATOR_RAW

    def __init__(self, source_id: int, path: Path) -> None:
        super().__init__(source_id, path)
        self._handles: dict[str, Any] = {}
        self._pid = -1
        self._details: dict[str, Any] = {}
        self._sweep_budget = [MAX_SWEPT_FILES]
        # False: the media unit only hashes the media, and every file is a unit of its own (a
        # scan fanned out in shards hashes ranges of the file list in many processes at once).
        self.sweep = True
        # An image found inside a folder (`sources.nested`): its path there, which prefixes
        # every path in it; its own file is a record of the folder, its media `<path>!media`.
        self.nested_label: str | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {
            "source_id": self.source_id,
            "path": self.path,
            "_details": self._details,
            "sweep": self.sweep,
            "nested_label": self.nested_label,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.source_id = state["source_id"]
        self.path = state["path"]
        self._details = state["_details"]
        self.sweep = state.get("sweep", True)
        self.nested_label = state.get("nested_label")
        self._handles = {}
        self._pid = -1
        self._sweep_budget = [MAX_SWEPT_FILES]

    # --- what subclasses may override -------------------------------------------------------

    @classmethod
    def accepts_head(cls, head: bytes, path: Path) -> bool:
        """Whether a file found inside a folder, whose first bytes are `head` (its first 4 KiB and
        the 8 bytes at 32 KiB, zeros between), is an image of this format: by content only, one
        read for every format (`sources.nested`)."""
        return cls.accepts(path)

    def image_metadata(self) -> dict[str, Any]:
        """Acquisition metadata stored in the image (EWF headers); none for other formats."""
        return {}

    def stored_hashes(self) -> dict[str, str]:
        """Hashes of the media the acquisition tool stored in the image (EWF: md5, sha1)."""
        return {}

    def media_algorithms(self) -> tuple[str, ...]:
        """What the media pass computes: the stored hashes' algorithms (to verify them), else
        SHA-256 (the evidence's fingerprint for the record). One pass, only what is needed."""
        stored = self._details.get("stored_hashes") or {}
        return tuple(sorted(stored)) or ("sha256",)

    # --- Source ------------------------------------------------------------------------------

    def describe(self) -> str:
        return f"{self.format_name} {self.path.resolve()}"

    @property
    def label(self) -> str:
        return self.nested_label or display_name(self.path.name)[0]

    @property
    def media_path(self) -> str:
        """The media unit's path: the image's name; inside a folder, where the image file's own
        record already has that path, `<path>!media`."""
        return f"{self.label}!media" if self.nested_label else self.label

    def details(self) -> dict[str, Any] | None:
        return self._details

    def use_details(self, details: dict[str, Any]) -> None:
        # The stored hashes decide what the media pass computes and what `verify` compares.
        self._details = dict(details)

    def walk(self) -> Iterator[Unit | FileRecord | Issue]:
        try:
            media = self._media()
            media_size = int(media.get_size())
            segments = [p.name for p in self.segment_files()]
            metadata = self.image_metadata()
            stored = self.stored_hashes()
        except Exception as exc:  # dfvfs and the libyal bindings raise many types on bad input
            self._details = {"format": self.format_name, "volumes": [], "stored_hashes": {}}
            message = (
                f"the {self.format_name} cannot be opened ({type(exc).__name__}: "
                f"{str(exc).strip()}); nothing in it was examined"
            )
            if self.nested_label:  # the image file is the folder's record: the error goes on it
                yield Issue(self.source_id, self.label, IssueCode.UNREADABLE, message)
                return
            record = FileRecord(self.source_id, self.label, None, 0)
            fill_from_stat(record, self.path.stat())
            record.add_issue(IssueCode.UNREADABLE, message)
            yield record
            return
        self._sweep_budget = [MAX_SWEPT_FILES]
        self._details = {
            "format": self.format_name,
            "media_size": media_size,
            "segments": segments,
            "volumes": [],
        }
        if metadata:
            self._details["acquisition"] = metadata
        self._details["stored_hashes"] = stored
        yield Unit(self.source_id, self.media_path, MEDIA_LOCATOR, media_size)
        volumes, gaps, scheme = self._volumes(media_size)
        self._details["partition_table"] = scheme
        for volume in volumes:
            yield from self._walk_volume(volume)
        for start, length in gaps:
            self._details["volumes"].append(
                {"name": "unpartitioned", "start": start, "length": length}
            )
            yield from self._carve_units(f"{self.label}!unpartitioned", start, length)

    def open(self, unit: Unit) -> OpenedUnit:
        if unit.locator == MEDIA_LOCATOR:
            record = FileRecord(self.source_id, unit.path, None, 0)
            # The image files' own times: when the image was written or copied, not evidence.
            fill_from_stat(record, self.path.stat())
            record.size = unit.size
            record.timestamp_note = (
                "times of the image file on the examiner's disk; the media's hashes are "
                "compared with the acquisition hashes stored in the image"
            )
            reader = io.BufferedReader(MediaReader(self.pass_media(), owned=True), 1024 * 1024)
            return OpenedUnit(
                reader,
                record,
                hash_only=self.media_algorithms(),
                swept=self.swept_files if self.sweep else None,
            )
        kind, _, rest = unit.locator.partition(":")
        if kind == "carve":
            start_text, _, length_text = rest.partition(":")
            start, length = int(start_text), int(length_text)
            record = FileRecord(self.source_id, unit.path, None, 0, kind="unallocated")
            record.size = length
            record.mime = "application/x-unallocated-space"
            record.timestamp_note = "unallocated space: no file, no times; pictures carved from it"
            media = self._media()

            def members(_stream: BinaryIO, visitor: MemberVisitor) -> None:
                carve(io.BufferedReader(MediaReader(media)), start, length, visitor)

            return OpenedUnit(io.BytesIO(b""), record, members=members)
        if kind == apfs.APFS_LOCATOR:
            return self._open_apfs(unit, rest)
        return self._open_file(unit, rest)

    def reopen(self, unit: Unit) -> BinaryIO | None:
        kind, _, rest = unit.locator.partition(":")
        if kind == apfs.APFS_LOCATOR:
            return self._open_apfs(unit, rest).stream
        if kind not in {"file", SWEPT}:
            return None
        return self._open_file(unit, rest).stream

    def plan(self, units: Iterable[Unit]) -> Iterator[Unit]:
        # The walk lists the media first. If it is still to do, the files its pass reads are
        # left to it; if it is done (a resumed scan), or the media pass reads no file (a scan in
        # shards), they are read one by one.
        media_pending: bool | None = None if self.sweep else False
        for unit in units:
            if media_pending is None:
                media_pending = unit.locator == MEDIA_LOCATOR
            if not (media_pending and unit.locator.startswith(f"{SWEPT}:")):
                yield unit

    def swept_files(self) -> list[SweptFile]:
        """The files the media pass reads, in media order: the same walk, listed again."""
        media_size = int(self._media().get_size())
        volumes, _, _ = self._volumes(media_size)
        extents: dict[str, tuple[tuple[int, int], ...]] = {}
        units: list[Unit] = []
        budget = [MAX_SWEPT_FILES]
        for volume in volumes:
            try:
                fs = self._fs(volume.start)
            except Exception:  # noqa: S112 - listed as an error by the walk itself
                continue
            walker = _FsWalker(
                self,
                fs=fs,
                fs_name=_fs_name(fs),
                volume=volume,
                prefix=f"{self.label}!{volume.name}" if volume.name else f"{self.label}!",
                runs=AllocatedRuns(),
                sweep_budget=budget,
                extents=extents,
            )
            units.extend(
                item
                for item in walker.walk()
                if isinstance(item, Unit) and item.locator.startswith(f"{SWEPT}:")
            )
        swept = [SweptFile(u, extents[u.path]) for u in units if u.path in extents]
        swept.sort(key=lambda f: f.extents[0][0])
        return swept

    def segment_files(self) -> list[Path]:
        return [self.path]

    def verify(self, computed: Callable[[str], dict[str, str | None] | None]) -> Verification:
        return verify_media(self, self._details.get("stored_hashes") or {}, computed)

    # --- layers ------------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        # Handles never cross a fork: libewf and friends keep a file offset that processes would
        # share.
        if self._pid != os.getpid():
            self._handles = {}
            self._pid = os.getpid()
        return self._handles

    def _image_path_spec(self) -> Any:
        os_spec = _EvidencePathSpec(location=str(self.path.resolve()))
        return path_spec_factory.Factory.NewPathSpec(self.type_indicator, parent=os_spec)

    def _media(self) -> Any:
        state = self._state()
        if "media" not in state:
            state["media"] = self._media_object()
        return state["media"]

    def _media_object(self) -> Any:
        """A new file object over the media, through dfvfs, in a resolver context of its own:
        dfvfs hands out one cached object per context, and readers must not share a position."""
        _register_noatime_helper()
        return dfvfs_resolver.Resolver.OpenFileObject(
            self._image_path_spec(), resolver_context=dfvfs_context.Context()
        )

    def pass_media(self) -> Any:
        """The media pass's own file object: its reader thread reads while the dispatching
        thread opens files through The Sleuth Kit on `_media()`, and the two must never share a
        position (a seek between another thread's seek and read returns the wrong bytes)."""
        return self._media_object()

    def _img_info(self) -> Any:
        state = self._state()
        if "img" not in state:
            state["img"] = tsk_image.TSKFileSystemImage(self._media())
        return state["img"]

    def _fs(self, offset: int) -> Any:
        state = self._state()
        key = f"fs:{offset}"
        if key not in state:
            state[key] = pytsk3.FS_Info(self._img_info(), offset=offset)
        return state[key]

    def _volumes(self, media_size: int) -> tuple[list[Volume], list[tuple[int, int]], str]:
        """Partitions (MBR, GPT, ...) and the unpartitioned gaps; the whole media if no table."""
        try:
            volume_info = pytsk3.Volume_Info(self._img_info())
        except Exception:  # any failure here means: no partition table The Sleuth Kit reads
            apple = apple_partition_map(self._media(), media_size)
            if apple is not None:
                return apple[0], apple[1], "apple"
            return [Volume("", 0, media_size, "no partition table")], [], "none"
        sector = int(volume_info.info.block_size)
        scheme = _VS_NAMES.get(volume_info.info.vstype, "other")
        volumes: list[Volume] = []
        gaps: list[tuple[int, int]] = []
        number = 0
        for part in volume_info:
            start, length = int(part.start) * sector, int(part.len) * sector
            flags = int(part.flags)
            if flags & pytsk3.TSK_VS_PART_FLAG_ALLOC:
                number += 1
                desc = part.desc.decode("utf-8", "replace") if part.desc else ""
                volumes.append(Volume(f"p{number}", start, length, desc))
            elif flags & pytsk3.TSK_VS_PART_FLAG_UNALLOC and length >= MIN_CARVE_BYTES:
                gaps.append((start, min(length, max(media_size - start, 0))))
        return volumes, [g for g in gaps if g[1] > 0], scheme

    def _walk_volume(self, volume: Volume) -> Iterator[Unit | FileRecord | Issue]:
        prefix = f"{self.label}!{volume.name}" if volume.name else f"{self.label}!"
        about: dict[str, Any] = {
            "name": volume.name or "(whole media)",
            "start": volume.start,
            "length": volume.length,
            "description": volume.description,
        }
        self._details["volumes"].append(about)
        shown = prefix if volume.name else f"{self.label}!/"
        try:
            fs = self._fs(volume.start)
        except Exception as exc:  # pytsk3 and dfvfs raise several types
            if self._holds_apfs(volume):
                yield from self._walk_apfs(volume, prefix, about)
                return
            about["file_system"] = None
            about["status"] = "error"
            yield Issue(
                self.source_id,
                shown,
                IssueCode.FILE_SYSTEM_UNREADABLE,
                f"{volume.description or 'volume'} at byte {volume.start:,}: no file system "
                f"The Sleuth Kit can read ({str(exc).strip()}); its space is carved instead",
            )
            yield from self._carve_units(
                f"{prefix}/$Unalloc" if volume.name else f"{self.label}!$Unalloc",
                volume.start,
                volume.length,
            )
            return
        fs_name = _fs_name(fs)
        about["file_system"] = fs_name
        about["status"] = "scanned"
        block_size = int(fs.info.block_size)
        runs = AllocatedRuns()
        listing = _FsWalker(
            self,
            fs=fs,
            fs_name=fs_name,
            volume=volume,
            prefix=prefix,
            runs=runs,
            sweep_budget=self._sweep_budget,
        )
        yield from listing.walk()
        about["files"] = listing.files
        about["deleted"] = listing.deleted
        for start, length in _free_ranges(runs.merged(), int(fs.info.block_count), block_size):
            yield from self._carve_units(
                f"{prefix}/$Unalloc" if volume.name else f"{self.label}!/$Unalloc",
                volume.start + start,
                min(length, volume.length - start),
            )

    def _holds_apfs(self, volume: Volume) -> bool:
        try:
            media = self._media()
            media.seek(volume.start)
            return apfs.is_apfs_container(bytes(media.read(64) or b""))
        except Exception:  # unreadable: not recognised, reported as any unreadable volume
            return False

    def _apfs(self, start: int, length: int) -> Any:
        state = self._state()
        key = f"apfs:{start}"
        if key not in state:
            state[key] = apfs.open_container(MediaReader(self._media(), start, length))
        return state[key]

    def _walk_apfs(
        self, volume: Volume, prefix: str, about: dict[str, Any]
    ) -> Iterator[Unit | FileRecord | Issue]:
        """An APFS container, which The Sleuth Kit does not read here (see `apfs.py`)."""
        about["file_system"] = "apfs"
        try:
            container = self._apfs(volume.start, volume.length)
        except Exception as exc:  # libfsapfs raises OSError and others on damaged containers
            about["status"] = "error"
            yield Issue(
                self.source_id,
                prefix if volume.name else f"{self.label}!/",
                IssueCode.FILE_SYSTEM_UNREADABLE,
                f"{volume.description or 'volume'} at byte {volume.start:,}: an APFS container "
                f"libfsapfs cannot read ({str(exc).strip()}); its space is carved instead",
            )
            yield from self._carve_units(
                f"{prefix}/$Unalloc" if volume.name else f"{self.label}!$Unalloc",
                volume.start,
                volume.length,
            )
            return
        about["status"] = "scanned"
        about["apfs_volumes"] = inner = []
        about["deleted"] = 0
        for item in apfs.walk_container(
            container,
            source_id=self.source_id,
            prefix=prefix if volume.name else self.label,
            locator_base=f"{volume.start}:{volume.length}",
        ):
            if isinstance(item, dict):
                inner.append(item)
            else:
                yield item
        about["files"] = sum(int(v.get("files", 0)) for v in inner)
        # The container's free blocks, where deleted files' bytes stay, as its space manager says.
        base = f"{prefix}/$Unalloc" if volume.name else f"{self.label}!/$Unalloc"
        try:
            space = MediaReader(self._media(), volume.start, volume.length)
            for start, length in apfs.free_ranges(space, volume.length):
                if length >= MIN_CARVE_BYTES:
                    yield from self._carve_units(base, volume.start + start, length)
        except (apfs.SpaceMapError, OSError) as exc:
            yield Issue(
                self.source_id,
                prefix if volume.name else f"{self.label}!/",
                IssueCode.UNREADABLE,
                f"APFS container at byte {volume.start:,}: its space map cannot be followed "
                f"({str(exc).strip()}); its free space is not carved",
            )

    def _open_apfs(self, unit: Unit, rest: str) -> OpenedUnit:
        start, length, index, identifier = (int(x) for x in rest.split(":"))
        entry = self._apfs(start, length).get_volume(index).get_file_entry_by_identifier(identifier)
        record = FileRecord(self.source_id, unit.path, None, 0, path_raw=unit.path_raw)
        record.size = unit.size
        record.inode = identifier
        apfs.fill_apfs_times(record, entry)
        if unit.path_raw is not None:
            record.add_issue(
                IssueCode.NON_UTF8_NAME,
                f"name is not valid UTF-8 (raw bytes {unit.path_raw.hex()}); shown with \\xNN",
            )
        stream = io.BufferedReader(apfs.ApfsFileReader(entry, unit.size), 1024 * 1024)
        return OpenedUnit(stream, record)

    def _carve_units(self, base: str, start: int, length: int) -> Iterator[Unit]:
        end = start + length
        piece_start = start
        while piece_start < end:
            piece_end = min(end, piece_start + CARVE_PIECE_BYTES)
            yield Unit(
                self.source_id,
                f"{base}/{piece_start}-{piece_end}",
                f"carve:{piece_start}:{piece_end - piece_start}",
                piece_end - piece_start,
            )
            piece_start = piece_end

    def _open_file(self, unit: Unit, rest: str) -> OpenedUnit:
        fs_offset, inode, attr_type, attr_id, deleted = (int(x) for x in rest.split(":"))
        fs = self._fs(fs_offset)
        tsk_file = fs.open_meta(inode=inode)
        meta = tsk_file.info.meta
        attr = (attr_type, attr_id) if attr_type else None
        size = unit.size
        record = FileRecord(self.source_id, unit.path, None, 0, path_raw=unit.path_raw)
        record.size = size
        record.inode = inode
        record.deleted = bool(deleted)
        fs_name = _FS_NAMES.get(fs.info.ftype, "")
        fill_tsk_times(record, meta, fs_name)
        if unit.path_raw is not None:
            record.add_issue(
                IssueCode.NON_UTF8_NAME,
                f"name is not valid UTF-8 (raw bytes {unit.path_raw.hex()}); shown with \\xNN",
            )
        stream = io.BufferedReader(TskFileReader(tsk_file, size, attr), 1024 * 1024)
        return OpenedUnit(stream, record)


class AllocatedRuns:
    """Blocks that allocated files occupy, as (first block, blocks) runs merged as they come:
    memory grows with the separate stretches of allocated space (the fragments of free space,
    which carving needs anyway), not with the number of files."""

    MERGE_AT = 65_536

    def __init__(self) -> None:
        self._runs: list[tuple[int, int]] = []
        self._merge_at = self.MERGE_AT

    def append(self, run: tuple[int, int]) -> None:
        self._runs.append(run)
        if len(self._runs) >= self._merge_at:
            self._merge()
            self._merge_at = 2 * len(self._runs) + self.MERGE_AT

    def _merge(self) -> None:
        merged: list[tuple[int, int]] = []
        for addr, length in sorted(self._runs):
            if merged and addr <= merged[-1][0] + merged[-1][1]:
                start, old = merged[-1]
                merged[-1] = (start, max(old, addr + length - start))
            else:
                merged.append((addr, length))
        self._runs = merged

    def merged(self) -> list[tuple[int, int]]:
        self._merge()
        return self._runs


class _FsWalker:
    """Lists one file system: every named file, allocated or deleted, and its data streams."""

    def __init__(
        self,
        source: DiskImageSource,
        *,
        fs: Any,
        fs_name: str,
        volume: Volume,
        prefix: str,
        runs: AllocatedRuns,
        sweep_budget: list[int],
        extents: dict[str, tuple[tuple[int, int], ...]] | None = None,
    ) -> None:
        self.source = source
        self.sweep_budget = sweep_budget  # shared by an image's file systems: [files left]
        self.extents = extents  # filled in when listing again for the media pass
        self.fs = fs
        self.fs_name = fs_name
        self.volume = volume
        self.prefix = prefix
        self.runs = runs
        self.files = 0
        self.deleted = 0

    def walk(self) -> Iterator[Unit | FileRecord | Issue]:
        sid = self.source.source_id
        root = int(self.fs.info.root_inum)
        seen_dirs = {root}
        stack: list[tuple[int, str, bool]] = [(root, self.prefix, False)]
        while stack:
            inode, rel_dir, dir_deleted = stack.pop()
            try:
                directory = self.fs.open_dir(inode=inode)
                entries = list(directory)
            except OSError as exc:
                yield Issue(
                    sid,
                    rel_dir or self.prefix,
                    IssueCode.UNREADABLE,
                    f"directory not listed: {str(exc).strip()}",
                )
                continue
            subdirs: list[tuple[int, str, bool]] = []
            for entry in sorted(entries, key=_entry_name):
                yield from self._entry(entry, rel_dir, dir_deleted, seen_dirs, subdirs)
            stack.extend(reversed(subdirs))

    def _entry(
        self,
        entry: Any,
        rel_dir: str,
        dir_deleted: bool,
        seen_dirs: set[int],
        subdirs: list[tuple[int, str, bool]],
    ) -> Iterator[Unit | FileRecord | Issue]:
        info = entry.info
        name_info = getattr(info, "name", None)
        meta = getattr(info, "meta", None)
        if name_info is None:
            return
        if meta is None:
            # A deleted name whose entry The Sleuth Kit did not load: NTFS counts an MFT entry's
            # sequence up when it frees it, so the deleted name's number no longer agrees. The
            # entry still holds the file while it is free: open it by number, as icat does.
            entry = self._deleted_entry(name_info)
            meta = getattr(getattr(entry, "info", None), "meta", None)
            if meta is None:
                return
        raw_name = name_info.name
        name = raw_name.decode("utf-8", "surrogateescape")
        if name in _SKIPPED_NAMES or (
            self.fs_name in _FAT_LIKE and name.endswith("(Volume Label Entry)")
        ):
            return  # a FAT volume label is a directory entry, not a file
        meta_type = meta.type
        inode = int(meta.addr)
        if meta_type == pytsk3.TSK_FS_META_TYPE_VIRT_DIR and name == ORPHANS:
            if inode not in seen_dirs:
                seen_dirs.add(inode)
                subdirs.append((inode, f"{rel_dir}/{name}", True))
            return
        if meta_type in (pytsk3.TSK_FS_META_TYPE_VIRT, pytsk3.TSK_FS_META_TYPE_VIRT_DIR):
            return  # The Sleuth Kit's own virtual files ($MBR, $FAT1, ...), not the device's
        deleted = (
            dir_deleted
            or bool(int(name_info.flags) & pytsk3.TSK_FS_NAME_FLAG_UNALLOC)
            or bool(int(meta.flags) & pytsk3.TSK_FS_META_FLAG_UNALLOC)
        )
        rel_path = f"{rel_dir}/{name}"
        if meta_type == pytsk3.TSK_FS_META_TYPE_DIR:
            if inode not in seen_dirs and (not deleted or self.fs_name in _DELETED_DIRS_LISTED):
                seen_dirs.add(inode)
                subdirs.append((inode, rel_path, deleted))
            return
        shown, raw = display_name(rel_path)
        if meta_type == pytsk3.TSK_FS_META_TYPE_REG:
            yield from self._regular(
                entry, meta, inode=inode, shown=shown, raw=raw, deleted=deleted
            )
            return
        record = FileRecord(self.source.source_id, shown, None, 0, path_raw=raw)
        record.inode = inode
        record.deleted = deleted
        record.size = int(meta.size)
        fill_tsk_times(record, meta, self.fs_name)
        if meta_type == pytsk3.TSK_FS_META_TYPE_LNK:
            record.kind = "symlink"
            record.mime = "inode/symlink"
            link = getattr(meta, "link", None)
            if link:
                record.link_target = display_name(
                    link.decode("utf-8", "surrogateescape") if isinstance(link, bytes) else link
                )[0]
        else:
            record.kind = "special"
            record.mime = "inode/x-special"
            record.add_issue(IssueCode.NOT_REGULAR, "special file in the image; content not read")
        self.files += 1
        yield record

    def _deleted_entry(self, name_info: Any) -> Any:
        address = int(getattr(name_info, "meta_addr", 0) or 0)
        if not address or not int(name_info.flags) & pytsk3.TSK_FS_NAME_FLAG_UNALLOC:
            return None
        try:
            opened = self.fs.open_meta(inode=address)
        except OSError:
            return None
        meta = opened.info.meta
        # Reused by a live file since: its bytes are that file's, listed under its own name.
        if meta is None or int(meta.flags) & pytsk3.TSK_FS_META_FLAG_ALLOC:
            return None
        return opened

    def _regular(
        self, entry: Any, meta: Any, *, inode: int, shown: str, raw: bytes | None, deleted: bool
    ) -> Iterator[Unit | FileRecord | Issue]:
        sid = self.source.source_id
        flag = int(deleted)
        streams: list[tuple[str, int, int, int]] = []  # (suffix, size, attr type, attr id)
        forks: list[tuple[str, int, int, int]] = []  # HFS+ resource forks, after the data
        data_runs: list[tuple[int, int, int]] | None = [] if self._sweeps(deleted) else None
        try:
            for attr in entry:
                ainfo = attr.info
                attr_type = int(ainfo.type)
                stream_name = ainfo.name.decode("utf-8", "replace") if ainfo.name else ""
                if self.fs_name == "ntfs" and not (
                    attr_type == _NTFS_DATA
                    or (attr_type == _NTFS_IDXROOT and stream_name != "$I30")
                ):
                    continue  # as The Sleuth Kit lists them: $DATA streams and named indexes
                if self.fs_name == "hfs+" and attr_type == _HFS_RSRC:
                    if int(ainfo.size) > 0:
                        forks.append((RESOURCE_FORK, int(ainfo.size), attr_type, int(ainfo.id)))
                    continue
                real_runs = 0
                if data_runs is not None and int(ainfo.flags) & _ATTR_NOT_PLAIN:
                    data_runs = None
                for run in attr:
                    if data_runs is not None:
                        data_runs.append(
                            (int(run.offset), int(run.addr), int(run.len) * (int(run.flags) == 0))
                        )
                    if not int(run.flags) & _RUN_SKIP and int(run.len) > 0:
                        real_runs += 1
                        if not deleted:
                            self.runs.append((int(run.addr), int(run.len)))
                if self.fs_name == "ntfs":
                    size = int(ainfo.size)
                    if int(ainfo.flags) & _NONRESIDENT and not real_runs:
                        size = 0  # wholly sparse ($BadClus:$Bad): nothing stored to read
                    streams.append(
                        (f":{stream_name}" if stream_name else "", size, attr_type, int(ainfo.id))
                    )
        except OSError:
            data_runs = None
            # a deleted file whose runs are gone: its default stream is still listed
        if not streams:
            streams = [("", int(meta.size), 0, 0), *(s for s in streams if s[0])]
        streams.extend(forks)
        offset = self.volume.start
        for suffix, size, attr_type, attr_id in streams:
            path = f"{shown}{suffix}"
            self.files += 1
            self.deleted += flag
            kind = "file"
            if not suffix and data_runs is not None:
                extents = self._extents(data_runs, size)
                if extents is not None:
                    kind = SWEPT
                    self.sweep_budget[0] -= 1
                    if self.extents is not None:
                        self.extents[path] = extents
            locator = f"{kind}:{offset}:{inode}:{attr_type}:{attr_id}:{flag}"
            yield Unit(sid, path, locator, size, raw)

    def _sweeps(self, deleted: bool) -> bool:
        return not deleted and self.fs_name in _SWEPT_FS and self.sweep_budget[0] > 0

    def _extents(
        self, runs: list[tuple[int, int, int]], size: int
    ) -> tuple[tuple[int, int], ...] | None:
        """Where a file's bytes lie in the media, if in order: (offset, length) pieces adding up
        to `size`, each after the one before; None for anything else (sparse runs, pieces out
        of order, runs that do not cover the size), which is then read on its own."""
        if size <= 0:
            return None
        block = int(self.fs.info.block_size)
        extents: list[tuple[int, int]] = []
        covered = 0  # blocks of the file so far
        last_end = -1
        for file_block, addr, blocks in sorted(runs):
            if file_block != covered or blocks <= 0:
                return None  # a hole, a sparse or filler run, or a run out of file order
            start = self.volume.start + addr * block
            if start < last_end:
                return None
            length = min(blocks * block, size - covered * block)
            if length <= 0:
                break
            if extents and extents[-1][0] + extents[-1][1] == start:
                extents[-1] = (extents[-1][0], extents[-1][1] + length)
            else:
                extents.append((start, length))
            last_end = start + blocks * block
            covered += blocks
        if covered * block < size or not extents:
            return None
        return tuple(extents)


APM_BLOCK_SIZES = frozenset({512, 1024, 2048, 4096})
# A hybrid disc's ISO 9660 descriptors start at 32 KiB, in an APM entry of this type; the ISO 9660
# file system itself counts its blocks from the disc's first byte.
_ISO9660_DATA = "ISO9660_data"
_ISO9660_DESCRIPTORS = 32 * 1024


def apple_partition_map(
    media: Any, media_size: int
) -> tuple[list[Volume], list[tuple[int, int]]] | None:
    """An Apple Partition Map read here when The Sleuth Kit does not: its code takes the map's
    entries to be 512-byte sectors, while CDs and DVDs (xorriso's HFS+ hybrids) write them in
    2048-byte blocks ("Invalid magic value (Mac partition table entry (Sector: 2) 0)").

    Block 0 is the driver descriptor (`ER`, the block size); each entry from block 1 on is `PM`
    with the number of entries, its first block, its length in blocks, a name and a type. The
    map's own entry is not a volume; `Apple_Free` entries are unpartitioned space (carved).
    None: no such map."""

    def read(offset: int, size: int) -> bytes:
        try:
            media.seek(offset)
            return bytes(media.read(size) or b"")
        except Exception:  # unreadable media: no map here (the walk reports what it cannot read)
            return b""

    head = read(0, 4)
    if len(head) < 4 or head[:2] != b"ER":
        return None
    block = int.from_bytes(head[2:4], "big")
    if block not in APM_BLOCK_SIZES:
        return None
    volumes: list[Volume] = []
    gaps: list[tuple[int, int]] = []
    entries = 1
    index = 1
    while index <= entries and index * block < media_size:
        entry = read(index * block, 512)
        if len(entry) < 80 or entry[:2] != b"PM":
            break
        if index == 1:
            entries = min(int.from_bytes(entry[4:8], "big"), 256)
        index += 1
        first = int.from_bytes(entry[8:12], "big")
        count = int.from_bytes(entry[12:16], "big")
        name = entry[16:48].split(b"\0")[0].decode("mac_roman")
        kind = entry[48:80].split(b"\0")[0].decode("mac_roman")
        start, length = first * block, count * block
        if kind == "Apple_partition_map" or count == 0 or start >= media_size:
            continue
        length = min(length, media_size - start)
        if kind == "Apple_Free":
            gaps.append((start, length))
            continue
        if kind == _ISO9660_DATA and start == _ISO9660_DESCRIPTORS:
            start, length = 0, media_size
        volumes.append(Volume(f"p{len(volumes) + 1}", start, length, f"{name} ({kind})"))
    return (volumes, gaps) if volumes else None


def _fs_name(fs: Any) -> str:
    return _FS_NAMES.get(fs.info.ftype, str(fs.info.ftype).removeprefix("TSK_FS_TYPE_"))


def _entry_name(entry: Any) -> bytes:
    name_info = getattr(entry.info, "name", None)
    return bytes(name_info.name) if name_info is not None and name_info.name else b""


def _free_ranges(
    runs: list[tuple[int, int]], block_count: int, block_size: int
) -> Iterator[tuple[int, int]]:
    """Byte ranges (from the file system's start) that no allocated file's data occupies;
    `runs` in block order."""
    cursor = 0
    for addr, length in runs:
        if addr > cursor:
            gap = (cursor * block_size, (addr - cursor) * block_size)
            if gap[1] >= MIN_CARVE_BYTES:
                yield gap
        cursor = max(cursor, addr + length)
    if block_count > cursor and (block_count - cursor) * block_size >= MIN_CARVE_BYTES:
        yield cursor * block_size, (block_count - cursor) * block_size


def _time(seconds: int, nanos: int, *, utc: bool) -> str | None:
    if not seconds:
        return None
    text = iso_utc(seconds * 1_000_000_000 + nanos)
    return text if utc else text.removesuffix("Z")


def fill_tsk_times(record: FileRecord, meta: Any, fs_name: str) -> None:
    """File-system times from the image: the original device's, so they are reliable."""
    utc = fs_name not in _FAT_LIKE
    record.mtime = _time(int(meta.mtime), int(getattr(meta, "mtime_nano", 0) or 0), utc=utc)
    record.atime = _time(int(meta.atime), int(getattr(meta, "atime_nano", 0) or 0), utc=utc)
    record.ctime = _time(int(meta.ctime), int(getattr(meta, "ctime_nano", 0) or 0), utc=utc)
    record.created = _time(int(meta.crtime), int(getattr(meta, "crtime_nano", 0) or 0), utc=utc)
    record.timestamps_reliable = True
    if utc:
        record.time_zone = "UTC"
        extra = (
            " (NTFS: the MFT entry's $STANDARD_INFORMATION, which tools can back-date)"
            if fs_name == "ntfs"
            else ""
        )
        record.timestamp_note = UTC_NOTE.format(fs=fs_name, extra=extra)
    else:
        record.time_zone = "device local time (FAT records no zone)"
        record.timestamp_note = FAT_NOTE
    if record.deleted:
        record.timestamp_note += DELETED_NOTE


def verify_media(
    source: DiskImageSource,
    stored: dict[str, str],
    computed: Callable[[str], dict[str, str | None] | None],
) -> Verification:
    """Stored acquisition hashes against the media's hashes as this scan computed them."""
    media = computed(source.media_path)
    if not stored:
        return Verification("none-stored", [], source.media_path)
    rows: list[tuple[str, str | None, str | None, str]] = []
    for algorithm in sorted(stored):
        expected = stored[algorithm].lower()
        got = media.get(algorithm) if media is not None else None
        if got is None:
            rows.append((algorithm, expected, None, "not-verified"))
        else:
            rows.append((algorithm, expected, got, "match" if got == expected else "mismatch"))
    results = {row[3] for row in rows}
    if "mismatch" in results:
        verdict = "mismatch"
    elif results == {"match"}:
        verdict = "match"
    else:
        verdict = "not-verified"
    return Verification(verdict, rows, source.media_path)


def read_head(path: Path, size: int = 4096) -> bytes:
    try:
        with noatime_file(path) as f:
            return f.read(size) or b""
    except OSError:
        return b""
