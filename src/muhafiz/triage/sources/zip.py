"""ZIP archives (and the many formats built on ZIP: docx, apk, epub, ...).

A ZIP given as the source of a scan in shards is read in runs of its central directory
(`directory_runs`, `ZipFormat.read_run`): the listing parses the whole directory once and
notes where each range's entries lie; a shard parses only its run, after checking that the
bytes are those the listing parsed, so a shard of a ZIP of N members costs its own members,
not N. The entries are parsed as `zipfile` parses them, and the listing checks its own parse
against `zipfile`'s entry by entry; anything it cannot vouch for (a parse that differs, local
headers not in the directory's order: overlapping members) gives no runs, and every shard
parses the whole directory as one process does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import inspect
import operator
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from itertools import pairwise
from typing import BinaryIO, ClassVar

from muhafiz.triage.sources.base import ArchiveFormat, MemberInfo, MemberVisitor
from muhafiz.triage.sources.pump import pump

_EXTENDED_TIMESTAMP = 0x5455  # Info-ZIP "UT" extra field: mtime as UTC seconds
_LOCAL_ZONE = "unknown: the archiving computer's local time (ZIP stores no zone)"


class ZipFormat(ArchiveFormat):
    name: ClassVar[str] = "zip"
    needs_seek: ClassVar[bool] = True

    def read(self, stream: BinaryIO, visitor: MemberVisitor) -> None:
        with zipfile.ZipFile(stream) as archive:
            _visit(archive, visitor)

    def read_run(self, stream: BinaryIO, visitor: MemberVisitor, run: DirectoryRun) -> None:
        """Only the members of one run of the central directory (RunChangedError, before any
        member is visited, when its bytes are not those the listing parsed)."""
        with _RunOfZip(stream, run) as archive:
            _visit(archive, visitor)


class _Siblings:
    """A ZIP's members by name (`MemberInfo.siblings`), from its whole central directory: the
    archive being read, or, when only a run of its directory was parsed (a shard), the whole
    directory read once on the same stream when first asked (zipfile seeks before each read)."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive
        self._whole: zipfile.ZipFile | None = None if isinstance(archive, _RunOfZip) else archive

    def _directory(self) -> zipfile.ZipFile:
        if self._whole is None:
            assert self._archive.fp is not None
            self._whole = zipfile.ZipFile(self._archive.fp)
        return self._whole

    def find(self, name: str) -> tuple[int, int] | None:
        try:
            info = self._directory().getinfo(name)
        except KeyError:
            return None
        if info.is_dir() or info.flag_bits & 0x1:
            return None
        return info.file_size, info.compress_size

    def open(self, name: str) -> BinaryIO:
        return self._directory().open(name)  # type: ignore[return-value]


def _visit(archive: zipfile.ZipFile, visitor: MemberVisitor) -> None:
    siblings = _Siblings(archive)
    for info in archive.infolist():
        if visitor.stopped:
            return
        member = dataclasses.replace(_member_info(info), siblings=siblings)
        if member.kind == "symlink" and not member.encrypted:
            target = archive.read(info)[:4096].decode("utf-8", "backslashreplace")
            member = dataclasses.replace(member, link_target=target)
        sink = visitor.member(member)
        if sink is None:
            continue
        try:
            with archive.open(info) as content:
                pump(content, sink)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            sink.fail("corrupt-archive", f"member could not be decompressed: {exc}")
        except NotImplementedError as exc:  # compression methods zipfile lacks
            sink.fail("corrupt-archive", f"unsupported compression: {exc}")
        finally:
            sink.close()


def _member_info(info: zipfile.ZipInfo) -> MemberInfo:
    mode = info.external_attr >> 16
    if info.is_dir():
        kind = "dir"
    elif info.create_system == 3 and stat.S_ISLNK(mode):
        kind = "symlink"
    else:
        kind = "file"
    mtime, zone = _mtime(info)
    return MemberInfo(
        name=info.filename,
        kind=kind,
        size=info.file_size,
        compressed_size=info.compress_size,
        mtime=mtime,
        time_zone=zone,
        encrypted=bool(info.flag_bits & 0x1),
        offset=info.header_offset,
    )


def _mtime(info: zipfile.ZipInfo) -> tuple[dt.datetime | None, str | None]:
    extra = info.extra
    i = 0
    while i + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4 : i + 4 + length]
        if tag == _EXTENDED_TIMESTAMP and len(body) >= 5 and body[0] & 0x1:
            seconds = struct.unpack_from("<i", body, 1)[0]
            return dt.datetime.fromtimestamp(seconds, dt.UTC), "UTC"
        i += 4 + length
    try:
        return dt.datetime(*info.date_time), _LOCAL_ZONE  # noqa: DTZ001 - ZIP has no zone
    except ValueError:
        return None, None


# --- runs of the central directory (a ZIP scanned in shards) -------------------------------------

_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # zipfile's structCentralDir
_CENTRAL_MAGIC = b"PK\x01\x02"
_UTF8_NAME = 0x800
# zipfile decodes an entry's extra field with the CRC of its raw name since Python 3.12.
_EXTRA_TAKES_CRC = (
    len(inspect.signature(zipfile.ZipInfo._decodeExtra).parameters) > 1  # type: ignore[attr-defined]
)
# Patched zipfile versions bound each member by the next member's local header (overlap check).
_HAS_END_OFFSET = "_end_offset" in getattr(zipfile.ZipInfo, "__slots__", ())


class RunChangedError(Exception):
    """A run's bytes are not those the listing parsed (the archive changed since)."""


@dataclasses.dataclass(frozen=True)
class DirectoryRun:
    """Where one range's entries lie in a ZIP's central directory, as the listing found them."""

    begin: int  # offset in the file of the run's first entry
    end: int  # offset just past its last entry
    crc: int  # CRC-32 of the bytes begin..end
    concat: int  # bytes before the ZIP proper (a self-extractor's stub), as zipfile adds them
    start_dir: int  # where the central directory starts
    next_offset: int  # the local header after the run's last member's (or start_dir)

    def to_text(self) -> str:
        fields = (self.begin, self.end, self.crc, self.concat, self.start_dir, self.next_offset)
        return ",".join(str(value) for value in fields)

    @classmethod
    def from_text(cls, text: str) -> DirectoryRun:
        begin, end, crc, concat, start_dir, next_offset = (int(v) for v in text.split(","))
        return cls(begin, end, crc, concat, start_dir, next_offset)


@dataclasses.dataclass(frozen=True)
class CentralDirectory:
    """A ZIP's central directory as the listing parsed it and checked it against zipfile's."""

    entries: list[int]  # offset in the file of each entry, in zipfile's order
    end: int  # offset just past the last entry
    header_offsets: list[int]  # each member's local header
    concat: int
    start_dir: int

    def run(self, stream: BinaryIO, lo: int, hi: int | None) -> DirectoryRun:
        """The run of entries lo..hi-1 (hi None: to the last)."""
        begin = self.entries[lo]
        end = self.entries[hi] if hi is not None else self.end
        stream.seek(begin)
        data = stream.read(end - begin)
        after = self.header_offsets[hi] if hi is not None else self.start_dir
        return DirectoryRun(begin, end, zlib.crc32(data), self.concat, self.start_dir, after)


def central_directory(stream: BinaryIO) -> CentralDirectory | None:
    """The central directory of a whole ZIP, parsed as a shard parses a run of it and checked
    against zipfile's own parse entry by entry; None when they differ anywhere, or the members'
    local headers are not in the directory's order (members overlapping, or listed out of
    order): a shard can then not know its members' bounds from its run alone."""
    with zipfile.ZipFile(stream) as archive:
        theirs = archive.infolist()
        start_dir = archive.start_dir
    if not theirs:
        return None
    ending = zipfile._EndRecData(stream)  # type: ignore[attr-defined]
    if not ending:
        return None
    size = ending[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
    stream.seek(start_dir)
    data = stream.read(size)
    try:
        parsed = list(_entries(data, 0, None))
    except (zipfile.BadZipFile, NotImplementedError, UnicodeDecodeError, struct.error):
        return None
    if len(parsed) != len(theirs):
        return None
    concat = theirs[0].header_offset - parsed[0][1].header_offset
    ours = [info for _at, info in parsed]
    for info in ours:
        info.header_offset += concat
    offsets = [info.header_offset for info in ours]
    if any(a >= b for a, b in pairwise(offsets)):
        return None
    _bound(ours, start_dir)
    if any(_facts(a) != _facts(b) for a, b in zip(ours, theirs, strict=True)):
        return None
    entries = [start_dir + at for at, _info in parsed]
    return CentralDirectory(entries, start_dir + len(data), offsets, concat, start_dir)


# Everything zipfile's directory parse sets on a member (`_end_offset` where zipfile has it).
_facts = operator.attrgetter(
    "orig_filename",
    "filename",
    "extra",
    "comment",
    "header_offset",
    "create_version",
    "create_system",
    "extract_version",
    "reserved",
    "flag_bits",
    "compress_type",
    "CRC",
    "compress_size",
    "file_size",
    "volume",
    "internal_attr",
    "external_attr",
    "date_time",
    "_raw_time",
    *(["_end_offset"] if _HAS_END_OFFSET else []),
)


def _bound(infos: list[zipfile.ZipInfo], after: int) -> None:
    """Each member's end as zipfile bounds it (the next local header), where zipfile does."""
    if not _HAS_END_OFFSET:
        return
    for info in reversed(infos):
        info._end_offset = after  # type: ignore[attr-defined]
        after = info.header_offset


def _entries(
    data: bytes, concat: int, encoding: str | None
) -> Iterator[tuple[int, zipfile.ZipInfo]]:
    """Central-directory entries in `data` (each with its offset in it), parsed as zipfile's
    `ZipFile._RealGetContents` parses them, raising what it raises."""
    at = 0
    while at < len(data):
        if len(data) - at < _CENTRAL.size:
            raise zipfile.BadZipFile("Truncated central directory")
        fields = _CENTRAL.unpack_from(data, at)
        if fields[0] != _CENTRAL_MAGIC:
            raise zipfile.BadZipFile("Bad magic number for central directory")
        pos = at + _CENTRAL.size
        raw_name = data[pos : pos + fields[12]]
        pos += fields[12]
        flags = fields[5]
        name = raw_name.decode("utf-8" if flags & _UTF8_NAME else (encoding or "cp437"))
        info = zipfile.ZipInfo(name)
        info.extra = data[pos : pos + fields[13]]
        pos += fields[13]
        info.comment = data[pos : pos + fields[14]]
        info.header_offset = fields[18]
        (
            info.create_version,
            info.create_system,
            info.extract_version,
            info.reserved,
            info.flag_bits,
            info.compress_type,
            time,
            date,
            info.CRC,
            info.compress_size,
            info.file_size,
        ) = fields[1:12]
        if info.extract_version > zipfile.MAX_EXTRACT_VERSION:
            raise NotImplementedError(f"zip file version {info.extract_version / 10:.1f}")
        info.volume, info.internal_attr, info.external_attr = fields[15:18]
        info._raw_time = time  # type: ignore[attr-defined]
        info.date_time = (
            (date >> 9) + 1980,
            (date >> 5) & 0xF,
            date & 0x1F,
            time >> 11,
            (time >> 5) & 0x3F,
            (time & 0x1F) * 2,
        )
        if _EXTRA_TAKES_CRC:
            info._decodeExtra(zlib.crc32(raw_name))  # type: ignore[attr-defined]
        else:
            info._decodeExtra()  # type: ignore[attr-defined]
        info.header_offset += concat
        yield at, info
        at += _CENTRAL.size + fields[12] + fields[13] + fields[14]


class _RunOfZip(zipfile.ZipFile):
    """A ZIP opened with only one run of its central directory parsed."""

    def __init__(self, stream: BinaryIO, run: DirectoryRun) -> None:
        self._run = run
        super().__init__(stream)

    def _RealGetContents(self) -> None:  # noqa: N802 - zipfile's own name, overridden
        run = self._run
        assert self.fp is not None
        self.fp.seek(run.begin)
        data = self.fp.read(run.end - run.begin)
        if len(data) != run.end - run.begin or zlib.crc32(data) != run.crc:
            raise RunChangedError("the central directory changed since the archive was listed")
        self.start_dir = run.start_dir
        encoding = self.metadata_encoding  # type: ignore[attr-defined]
        infos = [info for _at, info in _entries(data, run.concat, encoding)]
        _bound(infos, run.next_offset)
        for info in infos:
            self.filelist.append(info)
            self.NameToInfo[info.filename] = info
