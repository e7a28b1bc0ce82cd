"""Folders and single files on a mounted file system, opened read-only without touching atime.

Every file and every folder is opened with O_NOATIME where the kernel permits it (the owner or
CAP_FOWNER), folders are listed through that descriptor, entries are examined with `lstat` and
symlinks are read with `readlink`, never followed. On a read-write mount the kernel may still
update a symlink's own atime when `readlink` reads it (there is no O_NOATIME for that), which is
one reason the examiner is told to mount evidence read-only (`mount_state`).
"""

from __future__ import annotations

import errno
import io
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, ClassVar

from muhafiz.triage.records import FileRecord, Issue, IssueCode, display_name, iso_utc
from muhafiz.triage.sources.base import OpenedUnit, Source, Unit

_NOATIME = getattr(os, "O_NOATIME", 0)
_BASE_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)

# Files copied file by file keep mtime at best; atime and ctime describe the copy, not the event.
LOGICAL_NOTE = (
    "file-system times of a logical view: mtime may survive copying, atime and ctime describe "
    "this copy or mount, not the original device"
)


def open_readonly(path: str | Path, *, directory: bool = False) -> int:
    """Open for reading only, not following a final symlink, without updating atime if allowed."""
    flags = _BASE_FLAGS | (os.O_DIRECTORY if directory else os.O_NONBLOCK)
    if _NOATIME:
        try:
            return os.open(path, flags | _NOATIME)
        except PermissionError:
            pass  # O_NOATIME needs ownership (or CAP_FOWNER); plain read-only still changes nothing
    return os.open(path, flags)


@dataclass(frozen=True, slots=True)
class MountState:
    """Whether a source sits on a read-only mount, and which mount that is."""

    read_only: bool | None  # None: the file system could not be asked
    mount_point: str | None

    def describe(self) -> str:
        where = f" ({self.mount_point})" if self.mount_point else ""
        if self.read_only is None:
            return f"mount state unknown{where}"
        return f"read-only mount{where}" if self.read_only else f"READ-WRITE mount{where}"


def mount_state(path: str | Path) -> MountState:
    """The mount `path` is on, asked with statvfs and lstat only (nothing on it is opened)."""
    try:
        read_only = bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return MountState(None, None)
    mount = Path(os.path.abspath(path))  # noqa: PTH100 - no symlink resolution needed here
    while mount != mount.parent and not mount.is_mount():  # lstat of it and its parent
        mount = mount.parent
    return MountState(read_only, str(mount))


def read_write_warning(paths: Sequence[str | Path]) -> str | None:
    """One warning naming every source on a read-write mount, or None when all are read-only."""
    writable = [(str(p), mount_state(p)) for p in paths]
    writable = [(p, m) for p, m in writable if m.read_only is False]
    if not writable:
        return None
    listed = "; ".join(f"{p} on {m.mount_point}" for p, m in writable)
    return (
        f"the evidence is on a read-write mount ({listed}). Muhafiz opens it read-only and "
        "leaves file and folder times alone, but the operating system and other programs can "
        "still change a read-write mount: mount the evidence read-only (for example "
        "`mount -o ro,noload`) or use a write blocker."
    )


def fill_from_stat(record: FileRecord, st: os.stat_result) -> None:
    record.size = st.st_size
    record.mtime = iso_utc(st.st_mtime_ns)
    record.atime = iso_utc(st.st_atime_ns)
    record.ctime = iso_utc(st.st_ctime_ns)
    record.time_zone = "UTC"
    record.timestamps_reliable = False
    record.timestamp_note = LOGICAL_NOTE


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


class DirectorySource(Source):
    """A folder tree. Symlinks are recorded, never followed, so loops cannot trap the walk."""

    kind: ClassVar[str] = "directory"

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return path.is_dir()

    def describe(self) -> str:
        return f"folder {self.path.resolve()}"

    @property
    def label(self) -> str:
        return self.path.resolve().name or "root"

    def walk(self) -> Iterator[Unit | FileRecord | Issue]:
        # Depth-first with an explicit stack: a hostile tree may nest deeper than Python recurses.
        stack = [(str(self.path), self.label)]
        while stack:
            abs_dir, rel_dir = stack.pop()
            subdirs: list[tuple[str, str]] = []
            yield from self._list_dir(abs_dir, rel_dir, subdirs)  # fills subdirs
            stack.extend(reversed(subdirs))

    def _list_dir(
        self, abs_dir: str, rel_dir: str, subdirs: list[tuple[str, str]]
    ) -> Iterator[Unit | FileRecord | Issue]:
        try:
            fd = open_readonly(abs_dir, directory=True)
            try:
                with os.scandir(fd) as it:
                    names = sorted(e.name for e in it)
            finally:
                os.close(fd)
        except OSError as exc:
            shown, _ = display_name(rel_dir)
            code = IssueCode.VANISHED if exc.errno == errno.ENOENT else IssueCode.UNREADABLE
            yield Issue(self.source_id, shown, code, f"folder not listed: {exc.strerror}")
            return
        for name in names:
            abs_path = os.path.join(abs_dir, name)  # noqa: PTH118 - str paths keep raw names
            rel_path = f"{rel_dir}/{name}"
            shown, raw = display_name(rel_path)
            try:
                st = os.lstat(abs_path)
            except OSError as exc:
                code = IssueCode.VANISHED if exc.errno == errno.ENOENT else IssueCode.UNREADABLE
                yield Issue(self.source_id, shown, code, f"listed but not found: {exc.strerror}")
                continue
            if stat.S_ISDIR(st.st_mode):
                if raw is not None:
                    yield Issue(
                        self.source_id, shown, IssueCode.NON_UTF8_NAME, _non_utf8_message(raw)
                    )
                held = self.inside_folder(abs_path, shown)
                if held is None:
                    subdirs.append((abs_path, rel_path))
                else:
                    yield from held
            elif stat.S_ISREG(st.st_mode):
                yield Unit(self.source_id, shown, abs_path, st.st_size, raw)
                yield from self.inside(abs_path, shown, st.st_size)
            else:
                yield self._non_regular(abs_path, shown, raw, st)

    def inside(self, abs_path: str, shown: str, size: int) -> Iterator[Unit | FileRecord | Issue]:
        """What a file in the folder holds that is scanned as a source of its own (a disk image:
        `nested.EvidenceFolderSource`); listed right after the file's own unit."""
        return iter(())

    def inside_folder(
        self, abs_path: str, shown: str
    ) -> Iterator[Unit | FileRecord | Issue] | None:
        """A sub-folder scanned as a source of its own (an iOS backup: `nested`), listed in
        place of the folder's own walk of it; None to walk it as a folder."""
        return None

    def _non_regular(
        self, abs_path: str, shown: str, raw: bytes | None, st: os.stat_result
    ) -> FileRecord:
        record = FileRecord(self.source_id, shown, None, 0, path_raw=raw)
        fill_from_stat(record, st)
        if raw is not None:
            record.add_issue(IssueCode.NON_UTF8_NAME, _non_utf8_message(raw))
        if stat.S_ISLNK(st.st_mode):
            record.kind = "symlink"
            record.mime = "inode/symlink"
            record.link_target = display_name(os.readlink(abs_path))[0]  # noqa: PTH115 - str
            try:
                os.stat(abs_path)  # noqa: PTH116 - only to detect a loop
            except OSError as exc:
                if exc.errno == errno.ELOOP:
                    record.add_issue(IssueCode.SYMLINK_LOOP, "symlink loop; recorded, not followed")
        else:
            record.kind = "special"
            record.mime = "inode/x-special"
            record.add_issue(
                IssueCode.NOT_REGULAR, f"{_special_kind(st.st_mode)}; content not read"
            )
        return record

    def open(self, unit: Unit) -> OpenedUnit:
        return _open_file(unit)

    def reopen(self, unit: Unit) -> BinaryIO | None:
        return io.BufferedReader(io.FileIO(open_readonly(unit.locator), "rb", closefd=True))


class SingleFileSource(Source):
    """One file named on the command line: an archive, an image, anything."""

    kind: ClassVar[str] = "file"

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return path.is_file()

    def describe(self) -> str:
        return f"file {self.path.resolve()}"

    def walk(self) -> Iterator[Unit | FileRecord | Issue]:
        shown, raw = display_name(self.path.name)
        yield Unit(self.source_id, shown, str(self.path.resolve()), self.path.stat().st_size, raw)

    def open(self, unit: Unit) -> OpenedUnit:
        return _open_file(unit)

    def reopen(self, unit: Unit) -> BinaryIO | None:
        return io.BufferedReader(io.FileIO(open_readonly(unit.locator), "rb", closefd=True))


def _open_file(unit: Unit) -> OpenedUnit:
    fd = open_readonly(unit.locator)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "no longer a regular file")
        stream = io.FileIO(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise
    record = FileRecord(unit.source_id, unit.path, None, 0, path_raw=unit.path_raw)
    fill_from_stat(record, st)
    if unit.path_raw is not None:
        record.add_issue(IssueCode.NON_UTF8_NAME, _non_utf8_message(unit.path_raw))
    return OpenedUnit(stream, record)


def _non_utf8_message(raw: bytes) -> str:
    return f"name is not valid UTF-8 (raw bytes {raw.hex()}); shown with \\xNN escapes"
