"""Disk images and Cellebrite extractions inside archives, opened from a private temporary copy.

An archive member is a stream, while the image readers (dfvfs, libewf, libqcow ...) and the UFDR
reader need a file they can seek in. As IPED and Autopsy do with a container found inside an
archive, a member whose first bytes say it is a disk image (EWF, QCOW, VMDK, VHDX, a raw disk
with a partition table or a FAT/NTFS boot sector), or a ZIP named `.ufdr`, is copied while it is
hashed to a private temporary file and opened from there by the image (or UFDR) source, with
paths under the member's (`evidence.zip!/laptop.E01!p1/...`); the copy is removed as soon as
the member is done.

- **Where:** a folder of its own (`mkdtemp`, mode 0700; the copy 0600, created exclusively,
  never following a link) in `MUHAFIZ_SPOOL_DIR`, else `TMPDIR`, else `/var/tmp` (disk, not a
  RAM-backed /tmp). A worker killed while holding a copy leaves its folder, named after the
  worker's process id; the next copy made in that place removes the folders of processes that
  are gone.
- **Bounds:** a member larger than `ScanSettings.max_spool_bytes`, or one that would leave less
  than FREE_MARGIN free where the copy goes, is hashed and not opened, with an
  `image-in-archive-not-opened` issue that says why (as is a copy the disk fills up under).
- **Resume and shards:** the image's files are records of the archive's own unit (as an
  archive's members are), not units of the listing, so no locator has to reopen them: a scan
  killed while the archive was read reads the archive again (and copies the image again) on
  `--resume`, and the shard whose range holds the member copies it.
- **Nesting:** one level. Images are opened where a folder or an archive holds them, never
  inside a disk image or phone extraction, whether named as the source, found in a folder or
  opened this way (`analyze._inside_image`): an image found there, even in an archive, is
  hashed, so a hostile image that holds itself cannot nest without end.
- Not opened: an EWF or split raw image whose other segments are further members (only the
  member itself is copied: a set that needs them is an error on it); a fixed VHD, an ISO, an
  ext, HFS+ or APFS file system without a partition table (their signatures lie past the first
  512 bytes a member's type is judged from); the device details of a UFDR found in an archive
  (its files have their device paths; the make, model and IMEI are not kept).
"""

from __future__ import annotations

import errno
import functools
import io
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from muhafiz.triage.records import FileRecord, Issue, IssueCode
from muhafiz.triage.sources.base import Unit

if TYPE_CHECKING:
    from muhafiz.triage.settings import ScanSettings
    from muhafiz.triage.sources.diskimage import DiskImageSource

FREE_MARGIN = 256 * 1024 * 1024
SPOOL_ENV = "MUHAFIZ_SPOOL_DIR"
_PREFIX = "muhafiz-spool-"
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}$")
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_FLAGS |= getattr(os, "O_NOFOLLOW", 0)


def spool_root() -> str:
    """Where copies go: MUHAFIZ_SPOOL_DIR, else TMPDIR, else /var/tmp (else the system's)."""
    for candidate in (os.environ.get(SPOOL_ENV), os.environ.get("TMPDIR"), "/var/tmp"):  # noqa: S108 - a disk-backed temporary place, as SQLite's
        if candidate and Path(candidate).is_dir() and os.access(candidate, os.W_OK | os.X_OK):
            return candidate
    return tempfile.gettempdir()


def _free_bytes(root: str) -> int | None:
    try:
        st = os.statvfs(root)
    except OSError:
        return None
    return st.f_bavail * st.f_frsize


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale(root: str) -> None:
    """Remove copies left by processes that are gone (a worker killed while holding one)."""
    try:
        entries = list(os.scandir(root))
    except OSError:
        return
    for entry in entries:
        if not entry.name.startswith(_PREFIX):
            continue
        pid = entry.name[len(_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(entry.path, ignore_errors=True)


class Spool:
    """A private temporary copy of one archive member, written as its bytes arrive. `error`
    says why it was not made (or given up); `path` is the finished copy."""

    def __init__(self, name: str, size_hint: int | None, limit: int) -> None:
        self.limit = limit
        self.written = 0
        self.error: str | None = None
        self.folder: str | None = None
        self.path: Path | None = None
        self._fd = -1
        if size_hint is not None and size_hint > limit:
            self.error = self._over(size_hint)
            return
        root = spool_root()
        remove_stale(root)
        free, needed = _free_bytes(root), (size_hint or 0) + FREE_MARGIN
        if free is not None and free < needed:
            self.error = (
                f"not enough free space in {root} to copy it for opening ({free:,} bytes free, "
                f"{needed:,} needed); hashed, not opened"
            )
            return
        self.folder = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=root)
        found = _SUFFIX.search(name.rsplit("/", 1)[-1])
        # The member's own extension: the readers find a set's segments by name (`.E01`).
        self.path = Path(self.folder) / ("member" + (found.group(0) if found else ""))
        try:
            self._fd = os.open(self.path, _FLAGS, 0o600)
        except OSError as exc:
            self.give_up(f"could not be copied for opening ({exc.strerror}); hashed, not opened")

    def _over(self, size: int) -> str:
        return (
            f"{size:,} bytes, more than the {self.limit:,} an image found inside an archive is "
            "copied to be opened (setting max_spool_bytes); hashed, not opened"
        )

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._fd < 0:
            return
        self.written += len(data)
        if self.written > self.limit:
            self.give_up(self._over(self.written))
            return
        view = memoryview(data).cast("B")
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            where = "the disk is full" if exc.errno == errno.ENOSPC else exc.strerror
            self.give_up(f"could not be copied for opening ({where}); hashed, not opened")

    def finish(self) -> Path | None:
        """The finished copy, or None if it was not made."""
        self._close()
        return self.path if self.error is None else None

    def reopen(self) -> BinaryIO | None:
        if self.error is not None or self.path is None:
            return None
        return io.BufferedReader(io.FileIO(self.path, "rb"))

    def give_up(self, message: str) -> None:
        self.error = self.error or message
        self.remove()

    def _close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def remove(self) -> None:
        self._close()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None


def looks_like_image(head: bytes, name: str) -> bool:
    """Whether a member whose first bytes are `head` is copied to be opened: a disk image by
    the image sources' own signatures (judged from the head alone, never from a file), or a
    ZIP named `.ufdr` (whether it holds a Cellebrite report is read from the copy)."""
    if head.startswith(b"PK\x03\x04") and name.lower().endswith(".ufdr"):
        return True
    padded = head.ljust(4096, b"\0")
    return any(t.accepts_head(padded, _NOWHERE) for t in _image_types())


# No suffix: no image format's sniffer looks at a file beside the head it is given.
_NOWHERE = Path("member")


@functools.cache
def _image_types() -> tuple[type[DiskImageSource], ...]:
    from muhafiz.triage.sources import SOURCE_TYPES
    from muhafiz.triage.sources.diskimage import DiskImageSource

    return tuple(t for t in SOURCE_TYPES if issubclass(t, DiskImageSource))


# `analyze.process_unit`, given by the caller (this module sits below `analyze`).
ProcessUnit = Callable[..., list[FileRecord]]


def open_copy(
    path: Path, member: FileRecord, settings: ScanSettings, process_unit: ProcessUnit
) -> list[FileRecord] | None:
    """The records of the image (or UFDR) copied to `path` from the archive member `member`,
    opened as if found in a folder, paths under the member's; None if the copy is not one
    after all (it is then an archive or a file like any other). Problems go on the member."""
    from muhafiz.triage.hashing import CHUNK_BYTES
    from muhafiz.triage.sources.diskimage import DiskImageSource
    from muhafiz.triage.sources.nested import EvidenceFolderSource, sniff

    file_types = [t for t in EvidenceFolderSource.image_types if t.kind != "ios-backup"]
    image_type = sniff(file_types, str(path), path.stat().st_size)
    if image_type is None:
        return None
    source = image_type(member.source_id, path)
    source.nested_label = member.path
    name = source.format_name if isinstance(source, DiskImageSource) else "Cellebrite UFDR"
    records: list[FileRecord] = []
    issues: list[Issue] = []
    try:
        units: list[Unit] = []
        for item in source.walk():
            if isinstance(item, Unit):
                units.append(item)
            elif isinstance(item, FileRecord):
                records.append(item)
            else:
                issues.append(item)
        buffer = bytearray(CHUNK_BYTES)  # not the archive's: its reader may still hold it
        for unit in source.plan(units):
            records.extend(process_unit(source, unit, settings, buffer, nested_image=True))
    except Exception as exc:  # a hostile image costs that image, not the archive
        member.add_issue(
            IssueCode.IMAGE_NOT_OPENED,
            f"the {name} inside the archive could not be read to the end "
            f"({type(exc).__name__}: {str(exc).strip()})",
        )
    by_path = {r.path: r for r in records}
    for issue in issues:
        owner = by_path.get(issue.path)
        if owner is not None:
            owner.add_issue(issue.code, issue.message)
        elif issue.path == member.path:
            member.add_issue(issue.code, issue.message)
        else:  # a partition, a volume: no record of its own
            member.add_issue(issue.code, f"{issue.path}: {issue.message}")
    media = source.media_path if isinstance(source, DiskImageSource) else None
    for record in records:
        record.depth += member.depth + 1
        if record.parent is None:
            record.parent = member.path
        if record.path == media:  # not the copy's times: the member's, as the archive has them
            record.mtime, record.atime, record.ctime = member.mtime, None, None
            record.time_zone, record.timestamps_reliable = member.time_zone, False
            record.timestamp_note = (
                "the image's modification time as the archive records it; the media's hashes "
                "are compared with the acquisition hashes stored in the image"
            )
    if isinstance(source, DiskImageSource) and (source.details() or {}).get("media_size"):
        _verify(source, member, by_path)
    return records


def _verify(source: DiskImageSource, member: FileRecord, by_path: dict[str, FileRecord]) -> None:
    def computed(path: str) -> dict[str, str | None] | None:
        found = by_path.get(path)
        if found is None:
            return None
        return {"md5": found.md5, "sha1": found.sha1, "sha256": found.sha256}

    verification = source.verify(computed)
    member.nested_image = (source.format_name, verification.verdict, verification.rows)
    if verification.verdict == "mismatch":
        summary = "; ".join(
            f"{alg} stored {stored or '-'} computed {got or '-'}: {result}"
            for alg, stored, got, result in verification.rows
        )
        member.add_issue(
            IssueCode.ACQUISITION_HASH_MISMATCH,
            f"THE {source.format_name.upper()} {member.path} DOES NOT MATCH ITS ACQUISITION "
            f"HASH: the media read now differs from what was acquired ({summary}); the image is "
            "damaged or altered",
        )
