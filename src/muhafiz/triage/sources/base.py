"""The interfaces every source and archive format implements, and the member record they share.

A *source* is what the examiner names on the command line (a folder, a single file; later a disk
image or a phone extraction). It lists top-level *units*; a worker opens each unit as a stream.
An *archive format* reads a stream and pushes each member's bytes into a sink, so members are
never written to disk and nested archives are expanded by the same code.
"""

from __future__ import annotations

import datetime as dt
import errno
import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, Protocol

from muhafiz.triage.records import FileRecord, Issue


class ContentSink(Protocol):
    """Receives one file's bytes in order; `close` is called once, after the last write."""

    @property
    def wants_more(self) -> bool: ...

    def write(self, data: bytes | bytearray | memoryview) -> None: ...

    def fail(self, code: str, message: str) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class MemberInfo:
    """What an archive's directory says about one member."""

    name: str
    kind: str = "file"  # file | dir | symlink | special
    size: int | None = None
    compressed_size: int | None = None
    mtime: dt.datetime | None = None  # aware when the archive records a zone
    time_zone: str | None = None
    encrypted: bool = False
    link_target: str | None = None
    carved_offset: int | None = None  # a picture carved from unallocated space: its offset
    offset: int | None = None  # where the member's header lies in the archive (ZIP), if known
    # The archive's other members, by name, when its format reaches them (ZIP; a tar is read as
    # a stream): an image's further segments (`triage.spool`).
    siblings: SiblingMembers | None = None


class SiblingMembers(Protocol):
    """Other members of the archive a member is read from, reachable by name."""

    def find(self, name: str) -> tuple[int, int] | None:
        """(size, compressed size) of the file member `name`, or None if there is none."""
        ...

    def open(self, name: str) -> BinaryIO:
        """The member's bytes (OSError or an archive reader's own error when it cannot be)."""
        ...


class MemberVisitor(Protocol):
    @property
    def stopped(self) -> bool:
        """True once an archive-wide limit is reached: the reader should stop listing."""
        ...

    def member(self, info: MemberInfo) -> ContentSink | None:
        """Record a member; returns the sink for its bytes, or None if they must not be read."""
        ...


class SourceError(Exception):
    """A source named on the command line cannot be scanned at all (or not with what was given:
    a wrong backup password)."""


class WrongPasswordError(SourceError):
    """None of the passwords given unlocks an encrypted source (an iOS backup's keybag)."""


@dataclass(frozen=True, slots=True, repr=False)
class Passwords:
    """Passwords the examiner gave for encrypted sources (read from files, never from the
    command line). They stay in memory: never logged, never written to the scan file."""

    ios_backup: tuple[bytes, ...] = ()

    def __repr__(self) -> str:  # a traceback or a log line must not show them
        return f"Passwords(ios_backup=<{len(self.ios_backup)} given>)"


class ArchivePasswordError(Exception):
    """The archive (or its directory) is encrypted; members cannot be read without the password."""


class ArchiveFormat(ABC):
    """One archive format. Register instances in `muhafiz.triage.sources.ARCHIVE_FORMATS`."""

    name: ClassVar[str]
    needs_seek: ClassVar[bool]  # True: needs a seekable stream (nested ones are held in memory)

    @abstractmethod
    def read(self, stream: BinaryIO, visitor: MemberVisitor) -> None:
        """List every member through `visitor` and push the bytes of those it wants.

        Raise ArchivePasswordError for encrypted archives; any other exception is recorded as a
        corrupt archive on the archive's own record.
        """


@dataclass(frozen=True, slots=True)
class Unit:
    """One top-level file a worker processes: everything needed to open it, picklable."""

    source_id: int
    path: str  # display path (relative to the source, prefixed with the source's name)
    locator: str  # how the source finds it again (an absolute path for folders)
    size: int
    path_raw: bytes | None = None


@dataclass(frozen=True, slots=True)
class SweptFile:
    """A file whose bytes lie in the media in order: read in the media's one pass, not alone.
    `extents` are (media offset, length) in file order, increasing, adding up to its size."""

    unit: Unit
    extents: tuple[tuple[int, int], ...]


@dataclass(slots=True)
class OpenedUnit:
    stream: BinaryIO
    record: FileRecord  # with size and timestamps filled in
    # The bytes are only hashed with these algorithms (md5, sha1, sha256), never identified or
    # expanded: a disk image's whole media, hashed to verify its acquisition hashes.
    hash_only: tuple[str, ...] = ()
    # The unit is a container whose own bytes are not hashed: `members` pushes what it holds
    # (pictures carved from unallocated space) through the visitor, as an archive reader does.
    members: Callable[[BinaryIO, MemberVisitor], None] | None = None
    # With `hash_only` (a disk image's media): the files the same pass reads, in media order.
    swept: Callable[[], list[SweptFile]] | None = None


@dataclass(frozen=True, slots=True)
class Verification:
    """An image's stored acquisition hashes against the media as read: `verdict` is match,
    mismatch, none-stored or not-verified; rows are (algorithm, stored, computed, result)."""

    verdict: str
    rows: list[tuple[str, str | None, str | None, str]]
    media_path: str


class Source(ABC):
    """A place the examiner points the scan at. Register subclasses in `SOURCE_TYPES`."""

    kind: ClassVar[str]

    def __init__(self, source_id: int, path: Path) -> None:
        self.source_id = source_id
        self.path = path

    @classmethod
    @abstractmethod
    def accepts(cls, path: Path) -> bool:
        """Whether this source type can open `path`."""

    @abstractmethod
    def describe(self) -> str:
        """One line for the report: what was scanned."""

    @abstractmethod
    def walk(self) -> Iterator[Unit | FileRecord | Issue]:
        """Units to process, plus records and issues found while listing (symlinks, errors)."""

    @abstractmethod
    def open(self, unit: Unit) -> OpenedUnit:
        """Open a unit read-only; raises OSError if it cannot be opened."""

    def use_passwords(self, passwords: Passwords) -> None:  # noqa: B027 - optional hook
        """Unlock the source with the examiner's passwords, before anything is written; raises
        SourceError if a password it needs is wrong. Most sources need none."""

    @property
    def locked(self) -> bool:
        """Encrypted, and not unlocked by a password: its content is listed, not read."""
        return False

    def plan(self, units: Iterable[Unit]) -> Iterable[Unit]:
        """The units to hand to workers, from those the walk lists (in its order, as it lists
        them) that the scan has not done yet: a disk image drops the files its media pass reads
        (unless that pass is done)."""
        return units

    def reopen(self, unit: Unit) -> BinaryIO | None:
        """A fresh seekable stream of the unit (to expand a large archive), if the source can."""
        return None

    def verify(
        self, computed: Callable[[str], dict[str, str | None] | None]
    ) -> Verification | None:
        """Compare hashes the evidence carries (an EWF image's acquisition hashes) with those the
        scan computed; `computed(path)` gives a unit's md5/sha1/sha256 (None if not recorded)."""
        return None

    def details(self) -> dict[str, Any] | None:
        """What the source learned about itself while walking (a phone's make, model, IMEI,
        extraction type); written to `sources.details` once the walk has ended."""
        return None

    def use_details(self, details: dict[str, Any]) -> None:  # noqa: B027 - optional hook
        """Take `details` as an earlier walk of this source wrote them, in a process that opens
        units without walking it (a shard of a scan fanned out, `triage.shards`). Only sources
        whose units or verification depend on what the walk learned keep them."""


class PositionedReader(io.RawIOBase):
    """A read-only, seekable stream that keeps its own position (`_pos`) within a known size
    (`_size`); a subclass reads at `_pos` in `readinto`."""

    _pos: int
    _size: int

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError(errno.EINVAL, "seek before the start of the file")
        self._pos = base + offset
        return self._pos
