"""One top-level file in, its records out: hashing, type, image analysis and archive expansion.

Everything a worker does happens here. Bytes flow once through a `RecordSink`, which hashes them
and keeps them in memory only when they are an image or an archive that must be reopened.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np

from muhafiz.triage.filetypes import HEAD_BYTES, TAR, FileType, extension_mismatch, sniff
from muhafiz.triage.hashing import CHUNK_BYTES, MultiHasher
from muhafiz.triage.imaging import MemoryReader, analyze_image
from muhafiz.triage.records import FileRecord, IssueCode, display_name
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.sources import ARCHIVE_FORMATS
from muhafiz.triage.sources.base import (
    ArchiveFormat,
    ArchivePasswordError,
    ContentSink,
    MemberInfo,
    OpenedUnit,
    SiblingMembers,
    Source,
    SweptFile,
    Unit,
)
from muhafiz.triage.sources.devicepaths import device_path_of
from muhafiz.triage.sources.diskimage import DiskImageSource
from muhafiz.triage.sources.ios import IosBackupSource
from muhafiz.triage.sources.nested import NESTED_LOCATOR
from muhafiz.triage.sources.pump import pump
from muhafiz.triage.sources.tar import NotATarError
from muhafiz.triage.sources.ufdr import UfdrSource
from muhafiz.triage.sources.zip import DirectoryRun, RunChangedError, ZipFormat
from muhafiz.triage.spool import (
    IMAGE_HEAD_BYTES,
    Spool,
    copy_segments,
    looks_like_image,
    open_copy,
)
from muhafiz.triage.sweep import sweep
from muhafiz.triage.video import analyze_video

_CLIMBS_OUT = re.compile(r"(^|[/\\])\.\.([/\\]|$)")
_ABSOLUTE = re.compile(r"^([/\\]|[A-Za-z]:)")


# Sources that are a disk image or a phone extraction: nothing in them is opened as an image.
IMAGE_SOURCES = (DiskImageSource, UfdrSource, IosBackupSource)

# A margin on the bytes of the archive read so far when a shard judges what one process's ratio
# guard would have seen at the same byte of a member (the readers read the archive in the same
# steps whatever they skipped, so the positions agree; the margin only makes the judgement safer).
READ_MARGIN = 64 * 1024


@dataclass
class MemberRange:
    """The members of a top-level archive one shard records (`triage.shards`): those at
    positions `lo` to `hi` - 1 in the order the archive's reader visits them (`hi` None: to the
    end, and then the archive's own record too, as its hash needs every byte). Members before
    the range are named (so duplicate names get the same `[copy n]`), not read; the reader stops
    after the range. What the shard learns says whether a single-process scan, which carries
    the expansion limits from member to member, could have recorded anything differently."""

    lo: int
    hi: int | None
    index: int = 0  # position of the next member the reader visits
    top_bytes: int = 0  # declared bytes of the archive's members read before the current one
    declared_max: int = 0  # the largest size a member (at any depth) declared in this shard
    expanded: int = 0  # bytes decompressed by this shard (its members and what they hold)
    before: int = 0  # top_bytes before the member being read
    past: bool = False  # the reader has gone past the range
    inexact: str = ""  # why one process could differ ('' when it cannot)
    # A ZIP's run of its central directory holding the range, with the declared bytes of the
    # members before it (the listing vouched that no name before it bears on the range's):
    # the shard then reads neither the entries nor the names before the range.
    run: DirectoryRun | None = None
    run_before_bytes: int = 0
    # Told of each member of the range as its reader reaches it (files, declared bytes of the
    # member before it): the progress of a scan in shards counts members, not ranges.
    reached: Callable[[int, int], None] | None = None
    delay: float = 0.0  # seconds to wait at each member of the range (a test hook)
    _last: int | None = None  # declared bytes of the member being read

    def reach(self, size: int) -> None:
        """A member of the range (not a folder) is being read: the one before it is done."""
        if self.delay:
            time.sleep(self.delay)
        if self._last is not None and self.reached is not None:
            self.reached(1, self._last)
        self._last = size

    @property
    def own(self) -> bool:
        """This range records the archive's own record (it is the last one)."""
        return self.hi is None

    def differs(self, reason: str) -> None:
        self.inexact = self.inexact or reason


@dataclass
class UnitContext:
    settings: ScanSettings
    buffer: bytearray
    records: list[FileRecord] = field(default_factory=list)
    expanded: int = 0  # bytes decompressed out of archives in this unit
    stopped: bool = False  # the expanded-size limit was reached
    seen: set[str] = field(default_factory=set)
    members: MemberRange | None = None  # only these of the unit's own members (a shard)
    # The unit is a file of a disk image or phone extraction (the source itself, one found in
    # a folder, or one in an archive and copied out): images in its archives are hashed, not
    # opened (`triage.spool`: nesting stays one level deep).
    nested_image: bool = False


def process_unit(
    source: Source,
    unit: Unit,
    settings: ScanSettings,
    buffer: bytearray | None = None,
    members: MemberRange | None = None,
    *,
    nested_image: bool = False,
) -> list[FileRecord]:
    """All records of one top-level file: the file itself and, for archives, every member (or
    only a range of them: `members`). `nested_image`: the unit is a file of an image opened
    from inside an archive (a unit of an image found in a folder says so by its locator)."""
    ctx = UnitContext(
        settings,
        buffer if buffer is not None else bytearray(CHUNK_BYTES),
        members=members,
        nested_image=nested_image or _inside_image(source, unit),
    )
    if members is None:
        return _process(ctx, source, unit)
    records = _process(ctx, source, unit) if members.own else _members_only(ctx, source, unit)
    members.expanded = ctx.expanded
    if ctx.stopped:
        members.differs("the expanded-size limit was reached")
    if (
        members.own
        and records
        and any(
            issue.code in {IssueCode.UNREADABLE, IssueCode.VANISHED} for issue in records[0].issues
        )
    ):
        members.differs("the archive could not be read whole")
    return records


def _inside_image(source: Source, unit: Unit) -> bool:
    """Whether the unit is a file of a disk image or phone extraction: named as the source, or
    found in a folder (its locator says so). Images in its archives are hashed, not opened: an
    image is opened where a folder or an archive holds it, never inside another (`spool`)."""
    return isinstance(source, IMAGE_SOURCES) or unit.locator.startswith(NESTED_LOCATOR + ":")


def _members_only(ctx: UnitContext, source: Source, unit: Unit) -> list[FileRecord]:
    """A range of a top-level archive's members without the archive's own record (a shard other
    than the archive's last): the head names the format; the archive's bytes are not hashed."""
    try:
        opened = source.open(unit)
    except OSError:
        return []  # the archive's last range records why it could not be opened
    with opened.stream as stream:
        head = stream.read(HEAD_BYTES)
    filetype = sniff(head)
    if filetype.archive is None:
        return []
    ctx.seen.add(unit.path)
    record = opened.record
    record.mime = filetype.mime
    sink = RecordSink(ctx, record, record.size, lambda: source.reopen(unit), budgeted=False)
    sink._expand(filetype, None)
    return ctx.records


def _process(ctx: UnitContext, source: Source, unit: Unit) -> list[FileRecord]:
    try:
        opened = source.open(unit)
    except FileNotFoundError:
        record = FileRecord(
            unit.source_id, unit.path, None, 0, size=unit.size, path_raw=unit.path_raw
        )
        record.add_issue(IssueCode.VANISHED, "listed at the start of the scan, gone when opened")
        return [record]
    except OSError as exc:
        record = FileRecord(
            unit.source_id, unit.path, None, 0, size=unit.size, path_raw=unit.path_raw
        )
        record.add_issue(IssueCode.UNREADABLE, f"could not be opened: {exc.strerror or exc}")
        return [record]
    ctx.seen.add(unit.path)
    if opened.members is not None:
        return _expand_container(ctx, opened)
    if opened.hash_only:
        return _hash_only(ctx, opened, source)
    sink = RecordSink(
        ctx, opened.record, opened.record.size, lambda: source.reopen(unit), budgeted=False
    )
    with opened.stream as stream:
        try:
            pump(stream, sink, ctx.buffer)
        except OSError as exc:
            sink.fail(IssueCode.UNREADABLE, f"read failed: {exc.strerror or exc}")
        sink.close()
    return ctx.records


def _expand_container(ctx: UnitContext, opened: OpenedUnit) -> list[FileRecord]:
    """A unit whose own bytes are not examined (unallocated space): only what it holds is."""
    assert opened.members is not None
    record = opened.record
    ctx.records.append(record)
    with opened.stream as stream:
        visitor = MemberCollector(ctx, record, ExpansionGuard(stream, ctx.settings))
        try:
            opened.members(stream, visitor)
        except OSError as exc:
            record.add_issue(IssueCode.UNREADABLE, f"read failed: {exc.strerror or exc}")
    return ctx.records


def _hash_only(ctx: UnitContext, opened: OpenedUnit, source: Source) -> list[FileRecord]:
    """A unit that is hashed end to end (a disk image's media), with the files whose bytes lie
    in it in order read in the same pass (`sweep`); those the pass did not finish are read alone."""
    record = opened.record
    hashers = {name: hashlib.new(name, usedforsecurity=False) for name in opened.hash_only}
    expected = record.size
    swept = opened.swept() if opened.swept is not None else []

    def open_sink(file: SweptFile) -> RecordSink:
        file_ctx = UnitContext(ctx.settings, ctx.buffer, nested_image=ctx.nested_image)
        file_ctx.seen.add(file.unit.path)
        file_opened = source.open(file.unit)
        file_opened.stream.close()  # only the record: the bytes come from the media pass
        return RecordSink(
            file_ctx,
            file_opened.record,
            file_opened.record.size,
            lambda: source.reopen(file.unit),
            budgeted=False,
        )

    def done(_file: SweptFile, sink: ContentSink) -> None:
        assert isinstance(sink, RecordSink)
        sink.close()
        ctx.records.extend(sink.ctx.records)

    with opened.stream as stream:
        result = sweep(stream, list(hashers.values()), swept, open_sink, done)
    for file in result.unfinished:
        ctx.records.extend(
            process_unit(source, file.unit, ctx.settings, ctx.buffer, nested_image=ctx.nested_image)
        )
    if result.error is not None:
        exc = result.error
        record.add_issue(IssueCode.UNREADABLE, f"read failed: {exc.strerror or exc}")
        ctx.records.append(record)
        return ctx.records
    if "md5" in hashers:
        record.md5 = hashers["md5"].hexdigest()
    if "sha1" in hashers:
        record.sha1 = hashers["sha1"].hexdigest()
    if "sha256" in hashers:
        record.sha256 = hashers["sha256"].hexdigest()
    record.size = result.size
    if expected is not None and expected != result.size:
        record.add_issue(IssueCode.SIZE_MISMATCH, f"{result.size} bytes read, {expected} expected")
    record.mime = "application/x-disk-image"
    ctx.records.append(record)
    return ctx.records


class ExpansionGuard:
    """Watches one archive's expansion ratio as a whole (tar.gz and 7z declare no per-member
    compressed size): bytes decompressed so far against bytes of the archive consumed so far."""

    CHECK_EVERY = 4 * 1024 * 1024

    def __init__(self, stream: BinaryIO, settings: ScanSettings) -> None:
        self.stream = stream
        self.settings = settings
        self.expanded = 0
        self.next_check = max(settings.ratio_min_bytes, self.CHECK_EVERY)
        self.tripped = False

    def add(self, n: int) -> str | None:
        self.expanded += n
        if self.expanded < self.next_check:
            return None
        self.next_check = self.expanded + self.CHECK_EVERY
        try:
            consumed = max(self.stream.tell(), 1)
        except (OSError, ValueError):
            return None
        ratio = self.expanded // consumed
        if ratio <= self.settings.max_compression_ratio:
            return None
        self.tripped = True
        return (
            f"archive expands {ratio:,}:1, over the limit of "
            f"{self.settings.max_compression_ratio:,}:1 (possible zip bomb); expansion stopped"
        )


class RecordSink:
    """Hashes one file's bytes as they arrive and, on close, identifies and analyses it."""

    def __init__(
        self,
        ctx: UnitContext,
        record: FileRecord,
        size_hint: int | None,
        reopen: Callable[[], BinaryIO | None] | None,
        *,
        budgeted: bool,
        guard: ExpansionGuard | None = None,
    ) -> None:
        self.ctx = ctx
        self.guard = guard
        self.record = record
        self.size_hint = size_hint
        self.reopen = reopen
        self.budgeted = budgeted
        self.hasher = MultiHasher()
        self.pending = bytearray()
        self.filetype: FileType | None = None
        # The bytes held for decoding: uninitialised memory (numpy.empty), filled as they arrive;
        # a bytearray of the size would be zero-filled first (2 ms for a 12-megapixel JPEG).
        self.kept: memoryview | None = None
        self.kept_len = 0
        # An image held in memory is hashed at close, in a thread, while it is being decoded:
        # hashlib and the JPEG decoder both release the GIL.
        self.deferred = False
        self.too_large = False
        self.aborted = False
        self.failed = False
        self.member_bytes = 0  # bytes written so far (counted only in a shard of an archive)
        # A disk image (or UFDR) inside an archive, copied as it is read to be opened (`spool`).
        self.spool: Spool | None = None
        # A member that may be an image is judged from a longer head (an ISO's signature lies
        # at 32 KiB): its first bytes wait that long before its type is decided.
        self.head_bytes = IMAGE_HEAD_BYTES if self._may_be_image else HEAD_BYTES
        # The member's name in its archive and the archive's other members, when reachable by
        # name (an image's further segments are copied beside it).
        self.member: tuple[str, SiblingMembers | None] | None = None

    @property
    def _may_be_image(self) -> bool:
        """A member of an archive that is not itself inside an image (nesting is one level)."""
        return self.record.depth > 0 and not self.ctx.nested_image

    @property
    def wants_more(self) -> bool:
        return not self.aborted

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self.aborted:
            return
        if self.budgeted:
            self.ctx.expanded += len(data)
            if self.ctx.expanded > self.ctx.settings.max_expanded_bytes:
                self._stop_expansion()
                return
        if self.guard is not None:
            if self.ctx.members is not None and self.record.depth == 1:
                self._judge_ratio(self.ctx.members, len(data))
            message = self.guard.add(len(data))
            if message is not None:
                if self.ctx.members is not None:
                    self.ctx.members.differs("an archive's expansion ratio stopped it")
                self.aborted = True
                self.kept = None
                self.record.add_issue(IssueCode.ZIP_BOMB, message)
                return
        if self.filetype is not None:
            self._take(data)
        elif not self.pending and len(data) >= self.head_bytes:
            self._decide(bytes(data[: self.head_bytes]))
            self._take(data)
        else:
            self.pending += data
            if len(self.pending) >= self.head_bytes:
                self._decide(bytes(self.pending[: self.head_bytes]))
                self._take(self.pending)
                self.pending = bytearray()

    def _judge_ratio(self, ranged: MemberRange, n: int) -> None:
        """In a shard: whether one process's whole-archive ratio guard, which would also count
        every member read before this one, could stop the archive here."""
        assert self.guard is not None
        self.member_bytes += n
        expanded = ranged.before + self.member_bytes
        settings = self.ctx.settings
        if expanded < max(settings.ratio_min_bytes, ExpansionGuard.CHECK_EVERY):
            return
        try:
            read = self.guard.stream.tell() - READ_MARGIN
        except (OSError, ValueError):
            read = 0
        if expanded > settings.max_compression_ratio * max(read, 1):
            ranged.differs("the archive may expand past the ratio limit in one process")

    def _take(self, data: bytes | bytearray | memoryview) -> None:
        """Keep and/or hash bytes whose type is known (hashing waits while an image is kept)."""
        if self.spool is not None:
            self.spool.write(data)
        if self.kept is not None:
            self._keep(data)
        if not self.deferred:
            self.hasher.update(data)

    def fail(self, code: str, message: str) -> None:
        self.failed = True
        code = IssueCode(code)
        if any(issue.code == code for issue in self.record.issues):
            return
        self.record.add_issue(code, message)

    def close(self) -> None:
        try:
            self._close()
        finally:
            if self.spool is not None:
                self.spool.remove()  # the copy lives only as long as the member is examined

    def _close(self) -> None:
        record, settings = self.record, self.ctx.settings
        if self.filetype is None:
            self._decide(bytes(self.pending))
            self._take(self.pending)
        self.pending = bytearray()
        filetype = self.filetype
        assert filetype is not None
        self.ctx.records.append(record)
        record.mime = filetype.mime
        record.ext_mismatch = extension_mismatch(record.path, filetype)
        if self.aborted or self.failed:
            return  # partial content: hashes of it would be misleading
        kept = self._kept_view()
        self.kept = None
        if filetype.image and kept is not None:
            hashing = None
            if self.deferred:
                hashing = threading.Thread(target=self.hasher.update, args=(kept,))
                hashing.start()
            try:
                analyze_image(kept, record, settings)
            finally:
                if hashing is not None:
                    hashing.join()
        self._record_digests()
        if self.spool is not None and self._open_copy():
            return
        if filetype.image and kept is None:
            record.add_issue(
                IssueCode.DECOMPRESSION_BOMB,
                f"image larger than the in-memory limit of {settings.max_in_memory_bytes:,} "
                "bytes; not decoded",
            )
        elif filetype.archive is not None:
            self._expand(filetype, kept)
        elif filetype.video:
            self._video(kept)

    def _open_copy(self) -> bool:
        """Open the copy of a disk image or UFDR found in an archive; False when it is not one
        after all (or was not copied: why is said on the record), to be examined as a file."""
        assert self.spool is not None
        path = self.spool.finish()
        if path is None:
            if self.spool.error is not None:
                self.record.add_issue(IssueCode.IMAGE_NOT_OPENED, self.spool.error)
            return False
        name, siblings = self.member or (self.record.path, None)
        segments = copy_segments(self.spool, path, name, siblings, self.ctx.settings)
        if isinstance(segments, str):
            self.record.add_issue(IssueCode.IMAGE_NOT_OPENED, segments)
            return False
        segment_paths = [self.record.path] + [
            f"{self.record.parent}!/{display_name(n)[0].lstrip('/')}" for n in segments
        ]
        records = open_copy(path, self.record, self.ctx.settings, process_unit, segment_paths)
        if records is None:
            return False
        self.ctx.records.extend(records)
        return True

    def _video(self, kept: memoryview | None) -> None:
        stream: BinaryIO | None
        if kept is not None:
            stream = io.BufferedReader(MemoryReader(kept))
        elif self.reopen is not None:
            stream = self.reopen()
        else:
            stream = None
        if stream is None:
            self.record.add_issue(
                IssueCode.VIDEO_TOO_LARGE,
                f"video inside an archive, larger than the in-memory limit of "
                f"{self.ctx.settings.max_in_memory_bytes:,} bytes; hashed, frames not read",
            )
            return
        with stream:
            analyze_video(stream, self.record, self.ctx.settings)

    def _record_digests(self) -> None:
        record = self.record
        digests = self.hasher.digests()
        record.md5, record.sha1, record.sha256 = digests.md5, digests.sha1, digests.sha256
        if self.size_hint is not None and digests.size != self.size_hint:
            record.add_issue(
                IssueCode.SIZE_MISMATCH,
                f"{digests.size} bytes read, {self.size_hint} expected (changed while read?)",
            )
        record.size = digests.size
        for name, stored, computed in (
            ("MD5", record.stored_md5, digests.md5),
            ("SHA-256", record.stored_sha256, digests.sha256),
        ):
            if stored and stored.strip().lower() != computed:
                record.add_issue(
                    IssueCode.STORED_HASH_MISMATCH,
                    f"the source records {name} {stored.strip().lower()}, the bytes hash to "
                    f"{computed}: the extraction's copy differs from what was recorded",
                )
                break
        if digests.size == 0:
            record.add_issue(IssueCode.ZERO_BYTE, "zero-byte file; not matched by hash")

    def _expand(self, filetype: FileType, kept: memoryview | None) -> None:
        record, settings = self.record, self.ctx.settings
        assert filetype.archive is not None
        if record.depth >= settings.max_archive_depth:
            record.add_issue(
                IssueCode.DEPTH_LIMIT,
                f"archive nested {record.depth} deep; limit is {settings.max_archive_depth}, "
                "members not listed",
            )
            return
        if self.ctx.stopped:
            return
        stream: BinaryIO | None
        if kept is not None:
            stream = io.BufferedReader(MemoryReader(kept))
        elif self.reopen is not None:
            stream = self.reopen()
        else:
            stream = None
        if stream is None:
            record.add_issue(
                IssueCode.TOO_LARGE_IN_ARCHIVE,
                f"nested archive larger than the in-memory limit of "
                f"{settings.max_in_memory_bytes:,} bytes; members not listed",
            )
            return
        archive_format = ARCHIVE_FORMATS[filetype.archive]
        visitor = MemberCollector(self.ctx, record, ExpansionGuard(stream, settings))
        with stream:
            try:
                self._read_archive(archive_format, stream, visitor)
                record.archive_format = archive_format.name
            except ArchivePasswordError as exc:
                record.archive_format = archive_format.name
                record.add_issue(IssueCode.PASSWORD_PROTECTED, f"password-protected: {exc}")
            except NotATarError as exc:
                # A lone .gz/.bz2/.xz file is not an archive; a damaged tar is.
                if (
                    filetype is TAR
                    or ".tar" in record.path.lower()
                    or record.path.lower().endswith((".tgz", ".tbz", ".tbz2", ".txz"))
                ):
                    record.add_issue(IssueCode.CORRUPT_ARCHIVE, f"not a readable tar: {exc}")
            except Exception as exc:  # archive readers raise many types on hostile input
                record.archive_format = archive_format.name
                record.add_issue(
                    IssueCode.CORRUPT_ARCHIVE,
                    f"archive could not be read to the end: {type(exc).__name__}: {exc}",
                )
                ranged = self.ctx.members
                if ranged is not None and record.depth == 0 and archive_format.needs_seek:
                    # One process lists no member after this one; the ranges after it, which
                    # seek to their own members, never read this one (a stream's all do).
                    ranged.differs("the archive's reader stopped at a member")

    def _read_archive(
        self, archive_format: ArchiveFormat, stream: BinaryIO, visitor: MemberCollector
    ) -> None:
        """The archive's members through its reader; in a shard of a ZIP whose listing found
        the range's run of the central directory, that run only."""
        ranged = self.ctx.members
        if (
            ranged is not None
            and ranged.run is not None
            and self.record.depth == 0
            and isinstance(archive_format, ZipFormat)
        ):
            # The run's first entry is member `lo`, after members of these declared bytes.
            ranged.index, ranged.top_bytes = ranged.lo, ranged.run_before_bytes
            try:
                archive_format.read_run(stream, visitor, ranged.run)
                return
            except RunChangedError:  # nothing visited yet: the whole directory, as one process
                ranged.index, ranged.top_bytes = 0, 0
                stream.seek(0)
        archive_format.read(stream, visitor)

    def _decide(self, head: bytes) -> None:
        """Identify the content from its head and decide whether to keep its bytes in memory."""
        filetype = sniff(head[:HEAD_BYTES])
        self.filetype = filetype
        limit = self.ctx.settings.max_in_memory_bytes
        if self._may_be_image and looks_like_image(head, self.record.path):
            self.spool = Spool(self.record.path, self.size_hint, self.ctx.settings.max_spool_bytes)
            if self.spool.error is None:
                self.reopen = self.spool.reopen  # a ZIP that is no UFDR is read from the copy
        wanted = filetype.image or (
            (filetype.archive is not None or filetype.video) and self.reopen is None
        )
        if not wanted:
            return
        if self.size_hint is not None and self.size_hint > limit:
            self.too_large = True
        else:
            # One allocation of the announced size: growing a buffer copies it again and again.
            self.kept = _buffer(self.size_hint or 0)
            self.deferred = filetype.image

    def _keep(self, data: bytes | bytearray | memoryview) -> None:
        assert self.kept is not None
        end = self.kept_len + len(data)
        if end > self.ctx.settings.max_in_memory_bytes:
            if self.deferred:  # hash what was held back; the caller hashes `data` and the rest
                self.hasher.update(self.kept[: self.kept_len])
                self.deferred = False
            self.kept = None
            self.too_large = True
            return
        if end > len(self.kept):  # more bytes than announced (or no size known)
            grown = _buffer(max(end, 2 * len(self.kept)))
            grown[: self.kept_len] = self.kept[: self.kept_len]
            self.kept = grown
        self.kept[self.kept_len : end] = data
        self.kept_len = end

    def _kept_view(self) -> memoryview | None:
        if self.kept is None:
            return None
        return self.kept[: self.kept_len]

    def _stop_expansion(self) -> None:
        limit = self.ctx.settings.max_expanded_bytes
        if self.ctx.members is not None:
            self.ctx.members.differs("the expanded-size limit was reached")
        self.aborted = True
        self.kept = None
        self.ctx.stopped = True
        self.record.add_issue(
            IssueCode.EXPANDED_SIZE_LIMIT,
            f"archive expansion stopped: more than {limit:,} bytes decompressed from this "
            "top-level file (possible zip bomb); later members not listed",
        )


class MemberCollector:
    """Turns an archive's members into records and hands out a sink for each one's bytes."""

    def __init__(self, ctx: UnitContext, parent: FileRecord, guard: ExpansionGuard) -> None:
        self.ctx = ctx
        self.parent = parent
        self.guard = guard

    @property
    def stopped(self) -> bool:
        past = self.ctx.members is not None and self.ctx.members.past and self.parent.depth == 0
        return self.ctx.stopped or self.guard.tripped or past

    def member(self, info: MemberInfo) -> ContentSink | None:
        ranged = self.ctx.members
        if ranged is not None:
            ranged.declared_max = max(ranged.declared_max, info.size or 0)
            if self.parent.depth == 0 and not self._in_range(ranged, info):
                return None
        if info.kind == "dir":
            return None
        ctx, settings, parent = self.ctx, self.ctx.settings, self.parent
        shown, raw = display_name(info.name)
        path = self._unique(f"{parent.path}!/{shown.lstrip('/')}")
        record = FileRecord(
            parent.source_id, path, parent.path, parent.depth + 1, kind=info.kind, size=info.size
        )
        record.path_raw = raw
        if parent.depth == 0:  # a dump's own members lived on the device
            record.device_path = device_path_of(info.name, parent.mime)
        if info.mtime is not None:
            if info.mtime.tzinfo is not None:
                record.mtime = info.mtime.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            else:
                record.mtime = info.mtime.isoformat(timespec="seconds")
        record.time_zone = info.time_zone
        record.timestamp_note = "modification time as recorded by the archiving program"
        if info.carved_offset is not None:
            record.carved = True
            record.carved_offset = info.carved_offset
            record.timestamp_note = "carved from unallocated space: no name, no file-system times"
        if raw is not None:
            record.add_issue(
                IssueCode.NON_UTF8_NAME, f"member name is not valid UTF-8 ({raw.hex()})"
            )
        if _ABSOLUTE.match(info.name) or _CLIMBS_OUT.search(info.name):
            record.add_issue(
                IssueCode.UNSAFE_MEMBER_NAME,
                f"member name {shown!r} is absolute or climbs out with '..'; "
                "recorded, never extracted",
            )
        if info.kind in ("symlink", "special"):
            record.mime = "inode/symlink" if info.kind == "symlink" else "inode/x-special"
            record.link_target = info.link_target
            ctx.records.append(record)
            return None
        if info.encrypted:
            record.add_issue(IssueCode.PASSWORD_PROTECTED, "member is encrypted; content not read")
            ctx.records.append(record)
            return None
        if (
            info.size is not None
            and info.compressed_size is not None
            and info.size >= settings.ratio_min_bytes
            and info.size > settings.max_compression_ratio * max(info.compressed_size, 1)
        ):
            ratio = info.size // max(info.compressed_size, 1)
            record.add_issue(
                IssueCode.ZIP_BOMB,
                f"compression ratio {ratio:,}:1 exceeds the limit of "
                f"{settings.max_compression_ratio:,}:1 (possible zip bomb); content not read",
            )
            ctx.records.append(record)
            return None
        if info.size is not None and ctx.expanded + info.size > settings.max_expanded_bytes:
            RecordSink(ctx, record, info.size, None, budgeted=True)._stop_expansion()
            ctx.records.append(record)
            return None
        sink = RecordSink(ctx, record, info.size, None, budgeted=True, guard=self.guard)
        sink.member = (info.name, info.siblings)
        return sink

    def _in_range(self, ranged: MemberRange, info: MemberInfo) -> bool:
        """Whether this member of the top-level archive is in the shard's range; notes what
        could make one process record differently (the whole-archive ratio guard, which one
        process would run over every member before this one)."""
        index = ranged.index
        ranged.index += 1
        before = ranged.top_bytes
        if info.kind == "file" and not info.encrypted:
            ranged.top_bytes += info.size or 0  # at most what one process expands of it
        if "!/" in info.name:
            ranged.differs("a member's name holds '!/' (it could collide with a nested path)")
        if index < ranged.lo:
            if info.kind != "dir":
                shown, _raw = display_name(info.name)
                self._unique(f"{self.parent.path}!/{shown.lstrip('/')}")
            return False
        if ranged.hi is not None and index >= ranged.hi:
            ranged.past = True
            return False
        ranged.before = before
        if info.kind != "dir":
            ranged.reach(info.size or 0 if info.kind == "file" else 0)
        return True

    def _unique(self, path: str) -> str:
        # ZIP allows the same name twice; each copy gets its own record.
        candidate, n = path, 1
        while candidate in self.ctx.seen:
            n += 1
            candidate = f"{path} [copy {n}]"
        self.ctx.seen.add(candidate)
        return candidate


def _buffer(size: int) -> memoryview:
    """`size` writable bytes, not zero-filled first (they are all written before being read)."""
    view: memoryview = np.empty(size, dtype=np.uint8).data
    return view
