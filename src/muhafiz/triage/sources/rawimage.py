"""Raw disk images (.dd, .img, .raw) and split raw (.001, .002, ...), recognised by content: a
partition table (MBR, GPT) or a file system's boot sector or superblock."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar, Literal

from dfvfs.lib import definitions as dfvfs_definitions

from muhafiz.triage.sources.diskimage import APM_BLOCK_SIZES, DiskImageSource, read_head

_SPLIT = re.compile(r"^(?P<stem>.+)\.(?P<n>\d{3})$")
_RAW_SUFFIXES = frozenset({".dd", ".raw", ".img", ".001", ".000", ".bin"})
# The names dfvfs's raw layer opens as one file (raw_helper.RawGlobPathSpec); any other name
# (an `.iso`, a `.bin`, none) would find no segment there, and the file is read directly.
_DFVFS_SINGLE_RAW = frozenset({".dd", ".dmg", ".img", ".raw"})


def _has_partition_table(head: bytes) -> bool:
    if len(head) >= 520 and head[512:520] == b"EFI PART":
        return True
    if head[:2] == b"ER":  # an Apple Partition Map: its first entry in the block after this one
        block = int.from_bytes(head[2:4], "big")
        if block in APM_BLOCK_SIZES and head[block : block + 2] == b"PM":
            return True
    if len(head) < 512 or head[510:512] != b"\x55\xaa":
        return False
    entries = [head[446 + 16 * i : 462 + 16 * i] for i in range(4)]
    used = [e for e in entries if e[4] != 0]
    # Every used entry has a boot flag of 0x00 or 0x80 and a non-zero length.
    return bool(used) and all(
        e[0] in (0x00, 0x80) and int.from_bytes(e[12:16], "little") > 0 for e in used
    )


def _has_file_system(head: bytes) -> bool:
    return (
        head[3:11] in (b"NTFS    ", b"EXFAT   ")
        or (
            head[510:512] == b"\x55\xaa"
            and (head[54:59] in (b"FAT12", b"FAT16") or head[82:87] == b"FAT32")
        )
        or _ext_superblock(head)
        or _hfsplus_header(head)
        or _apfs_superblock(head)
        or head[_ISO9660_PVD : _ISO9660_PVD + 6] == b"\x01CD001"  # a CD/DVD image (.iso)
    )


# A two-byte magic alone matches one file in 65,536 of noise: the fields beside it that every
# real superblock has in range are checked too (a folder's files and an archive's members are
# all sniffed, and a file taken for an image is opened, or copied out of its archive, for nothing).


def _u32(data: bytes, at: int, order: Literal["little", "big"] = "little") -> int:
    return int.from_bytes(data[at : at + 4], order)


def _ext_superblock(head: bytes) -> bool:
    """ext2/3/4: the superblock at 1024, magic 0xEF53 at its byte 56; inodes and blocks per
    group set, a block size of 1 to 64 KiB (log 0 to 6), revision 0 or 1."""
    sb = head[1024:1104]
    return (
        len(sb) == 80
        and sb[56:58] == b"\x53\xef"
        and _u32(sb, 0) > 0
        and _u32(sb, 24) <= 6
        and _u32(sb, 32) > 0
        and _u32(sb, 40) > 0
        and _u32(sb, 76) <= 1
    )


def _hfsplus_header(head: bytes) -> bool:
    """HFS+ ("H+", version 4) or HFSX ("HX", version 5): the volume header at 1024, its block
    size (byte 40, big-endian) a power of two of at least 512."""
    vh = head[1024:1072]
    if len(vh) < 48 or (vh[:2], vh[2:4]) not in ((b"H+", b"\x00\x04"), (b"HX", b"\x00\x05")):
        return False
    block = _u32(vh, 40, "big")
    return block >= 512 and block & (block - 1) == 0


def _apfs_superblock(head: bytes) -> bool:
    """An APFS container: its superblock in block 0, "NXSB" at 32 and the object type of a
    container superblock (1) at 24. Nothing after the magic is required: a container damaged
    there is still one (an error on it, its space carved), not a file."""
    return head[32:36] == b"NXSB" and _u32(head, 24) & 0xFFFF == 1


# ISO 9660's primary volume descriptor: type 1, "CD001", in the 2048-byte block at 32 KiB.
_ISO9660_PVD = 32 * 1024


def looks_like_raw_disk(path: Path) -> bool:
    if not path.is_file():
        return False
    head = read_head(path, _ISO9660_PVD + 8)
    if _has_partition_table(head) or _has_file_system(head):
        return True
    # A later segment of a split image, or an image with a wiped first sector: by name and size.
    try:
        size = path.stat().st_size
    except OSError:
        return False
    return path.suffix.lower() in {".001", ".dd", ".raw"} and size > 0 and size % 512 == 0


class RawImageSource(DiskImageSource):
    kind: ClassVar[str] = "raw-image"
    format_name: ClassVar[str] = "raw disk image"
    type_indicator: ClassVar[str] = dfvfs_definitions.TYPE_INDICATOR_RAW

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return looks_like_raw_disk(path)

    @classmethod
    def accepts_head(cls, head: bytes, path: Path) -> bool:
        # Inside a folder, only by content: a camera's `.RAW` picture is not a disk.
        return _has_partition_table(head) or _has_file_system(head)

    def _image_path_spec(self) -> Any:
        spec = super()._image_path_spec()
        if self.path.suffix.lower() in _DFVFS_SINGLE_RAW or _SPLIT.match(self.path.name):
            return spec
        return spec.parent  # the file itself: a raw image is its own media

    def segment_files(self) -> list[Path]:
        match = _SPLIT.match(self.path.name)
        if match is None:
            return [self.path]
        width = len(match["n"])
        first = int(match["n"])
        segments = []
        n = first
        while (candidate := self.path.with_name(f"{match['stem']}.{n:0{width}d}")).is_file():
            segments.append(candidate)
            n += 1
        return segments
