"""Sources (what the examiner scans) and archive formats, each a plug-in in a registry."""

from __future__ import annotations

from pathlib import Path

from muhafiz.triage.sources.adb import AdbBackupFormat, AdbBackupSource
from muhafiz.triage.sources.base import ArchiveFormat, Passwords, Source, SourceError
from muhafiz.triage.sources.directory import SingleFileSource
from muhafiz.triage.sources.diskimage import DiskImageSource
from muhafiz.triage.sources.ewf import EwfSource
from muhafiz.triage.sources.ios import IosBackupSource
from muhafiz.triage.sources.nested import EvidenceFolderSource
from muhafiz.triage.sources.rawimage import RawImageSource
from muhafiz.triage.sources.sevenzip import SevenZipFormat
from muhafiz.triage.sources.tar import TarFormat
from muhafiz.triage.sources.ufdr import UfdrSource
from muhafiz.triage.sources.vmimage import QcowSource, VhdSource, VmdkSource
from muhafiz.triage.sources.zip import ZipFormat

# First match wins: more specific source types go first (disk images, phone extractions, ...).
# Disk images are recognised by their content; raw images last among them (weakest signature).
SOURCE_TYPES: list[type[Source]] = [
    UfdrSource,
    IosBackupSource,
    AdbBackupSource,
    EwfSource,
    VmdkSource,
    VhdSource,
    QcowSource,
    RawImageSource,
    EvidenceFolderSource,  # a folder; the disk images in it are opened as sources (nested.py)
    SingleFileSource,
]
EvidenceFolderSource.image_types = [
    t for t in SOURCE_TYPES if issubclass(t, DiskImageSource) or t in {UfdrSource, IosBackupSource}
]  # fmt: skip

ARCHIVE_FORMATS: dict[str, ArchiveFormat] = {
    fmt.name: fmt for fmt in (ZipFormat(), TarFormat(), SevenZipFormat(), AdbBackupFormat())
}


__all__ = ["ARCHIVE_FORMATS", "SOURCE_TYPES", "Passwords", "SourceError", "open_source"]


def open_source(source_id: int, path: Path, passwords: Passwords | None = None) -> Source:
    """The source at `path`, unlocked with `passwords` where it is encrypted (SourceError if
    it cannot be opened or a password is wrong)."""
    # The examiner may name a symlink (a mount point's alias); inside it, nothing is followed.
    path = path.resolve() if path.is_symlink() else path
    for source_type in SOURCE_TYPES:
        if source_type.accepts(path):
            source = source_type(source_id, path)
            if passwords is not None:
                source.use_passwords(passwords)
            return source
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    raise SourceError(f"{path}: not a folder or a regular file")
