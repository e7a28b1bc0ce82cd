"""Virtual-machine disks: VMDK, VHD/VHDX and QCOW2, recognised by their signatures."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from dfvfs.lib import definitions as dfvfs_definitions

from muhafiz.triage.sources.diskimage import DiskImageSource, noatime_file, read_head


def _vhd_footer(path: Path) -> bool:
    try:
        size = path.stat().st_size
        if size < 512:
            return False
        with noatime_file(path) as f:
            f.seek(size - 512)
            return f.read(8) == b"conectix"
    except OSError:
        return False


class VmdkSource(DiskImageSource):
    kind: ClassVar[str] = "vmdk"
    format_name: ClassVar[str] = "VMDK image"
    type_indicator: ClassVar[str] = dfvfs_definitions.TYPE_INDICATOR_VMDK

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return path.is_file() and cls.accepts_head(read_head(path, 64), path)

    @classmethod
    def accepts_head(cls, head: bytes, path: Path) -> bool:
        return head.startswith((b"KDMV", b"# Disk DescriptorFile"))


class VhdSource(DiskImageSource):
    kind: ClassVar[str] = "vhd"
    format_name: ClassVar[str] = "VHD/VHDX image"
    type_indicator: ClassVar[str] = dfvfs_definitions.TYPE_INDICATOR_VHDI

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return path.is_file() and cls.accepts_head(read_head(path, 8), path)

    @classmethod
    def accepts_head(cls, head: bytes, path: Path) -> bool:
        return head[:8] in (b"vhdxfile", b"conectix") or (
            path.suffix.lower() == ".vhd" and _vhd_footer(path)
        )


class QcowSource(DiskImageSource):
    kind: ClassVar[str] = "qcow"
    format_name: ClassVar[str] = "QCOW image"
    type_indicator: ClassVar[str] = dfvfs_definitions.TYPE_INDICATOR_QCOW

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return path.is_file() and cls.accepts_head(read_head(path, 4), path)

    @classmethod
    def accepts_head(cls, head: bytes, path: Path) -> bool:
        return head[:4] == b"QFI\xfb"
