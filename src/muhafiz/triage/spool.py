"""Disk images and Cellebrite extractions inside archives, opened from a private temporary copy.

An archive member is a stream, while the image readers (dfvfs, libewf, libqcow ...) and the UFDR
reader need a file they can seek in. As IPED and Autopsy do with a container found inside an
archive, a member whose head says it is a disk image, or a ZIP named `.ufdr`, is copied while it
is hashed to a private temporary file and opened from there by the image (or UFDR) source, with
paths under the member's (`evidence.zip!/laptop.E01!p1/...`); the copy is removed as soon as
the member is done.

- **What is copied (`looks_like_image`):** a member's type as an image is judged from its first
  IMAGE_HEAD_BYTES (34 KiB: up to the end of an ISO 9660 primary volume descriptor at 32 KiB,
  the signature that lies furthest in), by the image sources' own signatures: EWF, QCOW, VMDK,
  VHDX, dynamic VHD, a raw disk with a partition table (MBR, GPT, APM), or a file system without
  one (FAT, NTFS, exFAT, ext2/3/4 at 1080, HFS+/HFSX at 1024, APFS at 32, ISO 9660 at 32 KiB).
  Only the members of an archive that may hold an image wait for that longer head (a copy of at
  most 34 KiB each); a top-level file is judged from 512 bytes as before. A two-byte magic alone
  (ext's 0xEF53) would take one noise file in 65,536 for an image, so the fields beside it that
  every real superblock has in range are checked too (`sources/rawimage.py`). A fixed VHD is a
  raw disk and a 512-byte footer ("conectix") at its very end, which a stream gives last: its
  head already says "raw disk" when it holds a partition table or file system, and a member
  *named* `.vhd` is copied whatever its head and judged from the copy (its footer), as a file
  named `.vhd` in a folder is judged by its footer. Reading the tail of every member first would
  mean a second pass over a tar stream or a compressed ZIP member; copying every large member
  "just in case" would write gigabytes of video to disk for nothing: the name is the cheap
  check, and a `.vhd` that is no image after all is read from its copy as any file.
- **Where:** a folder of its own (`mkdtemp`, mode 0700; the copy 0600, created exclusively,
  never following a link) in `MUHAFIZ_SPOOL_DIR`, else `TMPDIR`, else `/var/tmp` (disk, not a
  RAM-backed /tmp). A worker killed while holding a copy leaves its folder, named after the
  worker's process id; the next copy made in that place removes the folders of processes that
  are gone.
- **Bounds:** a member larger than `ScanSettings.max_spool_bytes`, or one that would leave less
  than FREE_MARGIN free where the copy goes, is hashed and not opened, with an
  `image-in-archive-not-opened` issue that says why (as is a copy the disk fills up under). For
  a segmented set the bound is on the whole set.
- **Segments (`copy_segments`):** an EWF-E01 set (`laptop.E01`, `.E02` … `.E99`, `.EAA` …, as
  libewf names them) or a split raw image (`disk.001`, `.002` …) whose further segments are
  members of the same ZIP: when the first has been copied, the others are copied beside it by
  name from the archive (`MemberInfo.siblings`; in a shard whose ZIP has only a run of its
  central directory parsed, from the whole directory, read once on the same stream), each
  named as the reader looks for it (`member.E02`), and the set is opened; every segment is also
  hashed as a file of the archive, as in a folder. An EWF segment ends with a `next` section
  when the set goes on and `done` in the last one: a set whose next segment is not in the
  archive (one that never completes) is an `image-in-archive-not-opened` issue naming the
  missing segment, not an image read short. A segment whose declared size exceeds the
  compression-ratio limit is not copied (a zip bomb could be named `.E02`). A tar is read as a
  stream: its members are not reachable by name, and holding the E01's copy (and its records)
  until its E02 passes would tie a member's records to later members, which a shard (that
  records only its own range of members) cannot reproduce; so an E01 in a tar whose set goes on
  is an issue that says to extract the archive or give the set in a ZIP or a folder, and a
  `.001` in a tar is opened alone (as far as that piece goes), as before.
- **Device details:** a UFDR found in an archive keeps its device (make, model, IMEI,
  extraction type: the UfdrSource's details, as a UFDR named as the source records in its
  source record) in its `nested_images` row (`details`; verification '' as it has no
  acquisition hash), which the reports show beside the extraction; an image's row keeps what
  its walk learned (volumes, acquisition metadata, segments: the members' paths).
- **Resume and shards:** the image's files are records of the archive's own unit (as an
  archive's members are), not units of the listing, so no locator has to reopen them: a scan
  killed while the archive was read reads the archive again (and copies the image again) on
  `--resume`, and the shard whose range holds the member copies it (and, from a ZIP, its
  further segments, whichever shard's range they lie in: the same records as one process).
- **Nesting:** one level. Images are opened where a folder or an archive holds them, never
  inside a disk image or phone extraction, whether named as the source, found in a folder or
  opened this way (`analyze._inside_image`): an image found there, even in an archive, is
  hashed, so a hostile image that holds itself cannot nest without end.
- Not opened: an EWF2 (`.Ex01`) set whose further segments are members (only its first is
  copied); a set of segments in a tar (above).
"""

from __future__ import annotations

import errno
import functools
import io
import itertools
import os
import re
import shutil
import string
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from muhafiz.triage.records import FileRecord, Issue, IssueCode
from muhafiz.triage.sources.base import SiblingMembers, Unit

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

    def copy_segment(
        self, suffix: str, opener: Callable[[], BinaryIO], size: int, shown: str
    ) -> Path:
        """Copy a further segment of the set (`shown`: its name in the archive) beside the copy
        (`member` + suffix), counted with it against the limit; on failure `error` says why and
        the copies are removed."""
        assert self.folder is not None
        target = Path(self.folder) / ("member" + suffix)
        if self.written + size > self.limit:
            self.give_up(self._over(self.written + size))
            return target
        free = _free_bytes(self.folder)
        if free is not None and free < size + FREE_MARGIN:
            self.give_up(
                f"not enough free space in {spool_root()} to copy its segment {shown} "
                f"({free:,} bytes free, {size + FREE_MARGIN:,} needed); hashed, not opened"
            )
            return target
        try:
            self._fd = os.open(target, _FLAGS, 0o600)
            with opener() as source:
                while chunk := source.read(1 << 20):
                    self.write(chunk)
                    if self.error is not None:
                        return target
        except Exception as exc:  # an archive reader's own errors on a damaged member
            self.give_up(
                f"its segment {shown} could not be copied from the "
                f"archive ({type(exc).__name__}: {exc}); hashed, not opened"
            )
        finally:
            self._close()
        return target

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


# How much of a member's head its type as an image is judged from: up to the end of an ISO 9660
# primary volume descriptor (type 1, "CD001", in the 2048-byte block at 32 KiB), the signature
# that lies furthest in (ext's at 1080, HFS+'s at 1024, APFS's at 32, the rest in the first 512).
IMAGE_HEAD_BYTES = 32 * 1024 + 2048


def looks_like_image(head: bytes, name: str) -> bool:
    """Whether a member whose first bytes are `head` (IMAGE_HEAD_BYTES of them, fewer if it is
    shorter) is copied to be opened: a disk image by the image sources' own signatures (judged
    from the head alone, never from a file), a ZIP named `.ufdr` (whether it holds a Cellebrite
    report is read from the copy), or a file named `.vhd` (a fixed VHD is known by the footer
    in its last 512 bytes, which a stream gives last: it is judged from the copy, as a file
    named `.vhd` in a folder is judged by its footer)."""
    lowered = name.lower()
    if head.startswith(b"PK\x03\x04") and lowered.endswith(".ufdr"):
        return True
    if lowered.endswith(".vhd") and len(head) >= 512:
        return True
    padded = head.ljust(IMAGE_HEAD_BYTES, b"\0")
    return any(t.accepts_head(padded, _NOWHERE) for t in _image_types())


# No suffix: no image format's sniffer looks at a file beside the head it is given.
_NOWHERE = Path("member")


@functools.cache
def _image_types() -> tuple[type[DiskImageSource], ...]:
    from muhafiz.triage.sources import SOURCE_TYPES
    from muhafiz.triage.sources.diskimage import DiskImageSource

    return tuple(t for t in SOURCE_TYPES if issubclass(t, DiskImageSource))


# --- an image's further segments, other members of the same archive -----------------------

_EWF_FIRST = re.compile(r"^(?P<stem>.+)\.(?P<e>[Ee])01$")
_SPLIT_FIRST = re.compile(r"^(?P<stem>.+)\.001$")
_EWF1 = b"EVF\x09\x0d\x0a\xff\x00"
# An EWF-E01 segment ends with the descriptor (76 bytes) of its last section: "next" when the
# set continues in another segment, "done" in the last one.
_SECTION_BYTES = 76
MAX_SEGMENTS = 1000


def _following(name: str) -> Iterator[str] | None:
    """The names of the segments after `name`, the first of an EWF set (`laptop.E01`: E02…E99,
    EAA…EZZ, FAA…ZZZ, as libewf names them, in the first's case) or of a split raw image
    (`disk.001`: 002…999), in order; None for any other name."""
    found = _EWF_FIRST.match(name)
    if found is not None:
        stem, letter = found["stem"], found["e"]

        def ewf() -> Iterator[str]:
            yield from (f"{stem}.{letter}{n:02d}" for n in range(2, 100))
            letters = string.ascii_uppercase
            for suffix in itertools.product(letters[letters.index("E") :], letters, letters):
                text = "".join(suffix)
                yield f"{stem}.{text if letter.isupper() else text.lower()}"

        return ewf()
    found = _SPLIT_FIRST.match(name)
    if found is not None:
        return (f"{found['stem']}.{n:03d}" for n in range(2, 1000))
    return None


def _ewf_continues(path: Path) -> bool:
    """Whether the EWF-E01 segment at `path` says the set goes on in another segment."""
    try:
        with path.open("rb") as f:
            if f.read(len(_EWF1)) != _EWF1:
                return False
            f.seek(-_SECTION_BYTES, os.SEEK_END)
            return f.read(4) == b"next"
    except OSError:
        return False


def copy_segments(
    spool: Spool, path: Path, name: str, siblings: SiblingMembers | None, settings: ScanSettings
) -> list[str] | str:
    """Copy beside `path` (the copy of the member `name`, the first segment of an EWF or split
    raw set) the set's further segments that are members of the same archive, in order, each
    named as the readers look for it (`member.E02`); their names, or why the set cannot be
    opened (the copy is then removed). The whole set is bounded by max_spool_bytes."""
    following = _following(name)
    ewf = _EWF_FIRST.match(name) is not None
    if following is None or (ewf and not _ewf_continues(path)):
        return []  # not a first segment, or a set of one segment
    copied: list[str] = []
    wanted = "a further segment"
    for next_name in itertools.islice(following, MAX_SEGMENTS):
        if siblings is None:
            if not ewf:
                return copied  # a split image in a tar: read as far as its first piece goes
            message = (
                f"its EWF set continues in {_base(next_name)}, a further member of an archive "
                "whose reader gives no member by name (a tar or 7z, read as a stream); hashed, "
                "not opened (its segments are hashed as files: extract the archive, or give "
                "the set in a ZIP or a folder, to open it)"
            )
            spool.give_up(message)
            return message
        found = siblings.find(next_name)
        if found is None:
            wanted = next_name
            break
        size, compressed = found
        if size >= settings.ratio_min_bytes and size > settings.max_compression_ratio * max(
            compressed, 1
        ):
            message = (
                f"its segment {_base(next_name)} expands {size // max(compressed, 1):,}:1, over "
                f"the limit of {settings.max_compression_ratio:,}:1 (possible zip bomb); the "
                "set is not copied; hashed, not opened"
            )
            spool.give_up(message)
            return message
        suffix = "." + next_name.rsplit(".", 1)[1]
        opener = functools.partial(siblings.open, next_name)
        last = spool.copy_segment(suffix, opener, size, _base(next_name))
        if spool.error is not None:
            return spool.error
        copied.append(next_name)
        if ewf and not _ewf_continues(last):
            return copied
    if ewf:
        after = _base(copied[-1] if copied else name)
        message = (
            f"its EWF set continues after {after} (that segment ends with a 'next' section), "
            f"but the archive holds no {_base(wanted)}: the set is incomplete; hashed, not "
            "opened (the segments present are hashed as files)"
        )
        spool.give_up(message)
        return message
    return copied


def _base(name: str) -> str:
    return name.rsplit("/", 1)[-1]


# `analyze.process_unit`, given by the caller (this module sits below `analyze`).
ProcessUnit = Callable[..., list[FileRecord]]


def open_copy(
    path: Path,
    member: FileRecord,
    settings: ScanSettings,
    process_unit: ProcessUnit,
    segments: list[str] | None = None,
) -> list[FileRecord] | None:
    """The records of the image (or UFDR) copied to `path` from the archive member `member`,
    opened as if found in a folder, paths under the member's; None if the copy is not one
    after all (it is then an archive or a file like any other). Problems go on the member.
    `segments`: the paths of the members that make up the image's set (first the member)."""
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
    details = source.details() or {}
    if isinstance(details.get("segments"), list):  # the copies' names: the members' instead
        details = {**details, "segments": segments or [member.path]}
    if isinstance(source, DiskImageSource) and details.get("media_size"):
        _verify(source, member, by_path, details)
    elif not isinstance(source, DiskImageSource) and details:
        # A phone extraction: its device (make, model, IMEI, extraction type) beside it, as a
        # UFDR named as the source has in its source record; no acquisition hash to verify.
        member.nested_image = (name, "", [], details)
    return records


def _verify(
    source: DiskImageSource,
    member: FileRecord,
    by_path: dict[str, FileRecord],
    details: dict[str, Any],
) -> None:
    def computed(path: str) -> dict[str, str | None] | None:
        found = by_path.get(path)
        if found is None:
            return None
        return {"md5": found.md5, "sha1": found.sha1, "sha256": found.sha256}

    verification = source.verify(computed)
    member.nested_image = (source.format_name, verification.verdict, verification.rows, details)
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
