"""A scan run in shards by many processes (on many machines), merged into one scan file.

The server fans a large source out: `plan_fanout` lists the source once and writes the *header*
(a scan file with the meta, sources, banks, the listing's own records and issues and the first
custody lines, but no processed file), and cuts the listing into shards; `scan_shard` processes
one shard's units into a *part* (a scan file of those units' records only), anywhere;
`merge_shards` copies the header, adds every part's rows and ends the scan as `start_scan` does
(sources verified, PDQ clusters, completion). Records are keyed by (source_id, path) and each
unit is processed by the same code as in a single-process scan, so the merged file's records are
those of a single-process scan whatever the number and order of shards and workers; a shard done
twice (its first worker was killed) is merged once, from the part its finishing worker names.

Sharded: folders (`directory`), disk images (EWF, raw, VMDK, VHD, QCOW2), Cellebrite UFDR
extractions and iOS backup folders, each cut into ranges of its sorted listing. A shard ends
where a sub-folder ends when one ends near the target size (so a shard is mostly whole
subtrees), always where a disk image's partition ends (a partition is one shard or more), and
alone around any unit as large as a shard (an archive in a folder, a disk image's media). A
disk image is listed once, here, through its own source code (`sources.diskimage`); in a scan in
shards its media unit only hashes the media (`DiskImageSource.sweep` off), so every file is a
unit of the list and its range is read by the shard that holds it, each shard reopening the
image read-only (the single-process media pass reads the files as it hashes; the records are
the same, the image is read twice in all). A disk image inside a folder (`sources.nested`) is
listed with the folder, the same way: its files are units of the folder's list, cut into ranges
at its partitions, each shard reopening the image from the unit's locator. A UFDR's units are
members located by their offset in the ZIP and an iOS backup's are its stored files: both open a
unit without the listing.
A single archive given as the source (ZIP, tar, tar.gz/.bz2/.xz, Android `.ab`) is cut into
ranges of its members in the order its own reader visits them (listed once, only to place the
cuts): each range is a unit (`_member_ranges`) that `scan_shard` processes with the same reader
and an `analyze.MemberRange` (members before the range named, not read; the last range also
hashes the archive and writes its own record); a ZIP's range reads only its run of the central
directory where the listing can vouch for it (`sources.zip.central_directory`). A range counts
its members for the progress (`unit_files`), member by member as they are read. A shard notes
when one process, which carries the expansion limits from member to member, could have recorded
its range differently; the merge then scans that archive again whole (`_redo_inexact`). 7z is
not cut (a solid 7z is one stream py7zr decompresses whole to reach any member). Every worker
must see the source at the same path (a shared mount). See docs/scaling.md and decision 0106.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import itertools
import json
import os
import re
import shutil
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from muhafiz.triage.analyze import MemberRange, process_unit
from muhafiz.triage.engine import (
    BankChangedError,
    Progress,
    ScanOptions,
    ScanOutcome,
    _delay,
    _list,
    _process_inline,
    _ResultWriter,
    complete_scan,
    prepare_scan,
)
from muhafiz.triage.filetypes import HEAD_BYTES, sniff
from muhafiz.triage.matching import RecordMatcher, load_matcher
from muhafiz.triage.records import FileRecord, display_name
from muhafiz.triage.scanfile import ScanWriter, SourceRow, open_readonly
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.sources import ARCHIVE_FORMATS, open_source
from muhafiz.triage.sources.base import ContentSink, MemberInfo, Source, Unit
from muhafiz.triage.sources.directory import SingleFileSource
from muhafiz.triage.sources.directory import open_readonly as open_readonly_file
from muhafiz.triage.sources.diskimage import DiskImageSource
from muhafiz.triage.sources.nested import EvidenceFolderSource
from muhafiz.triage.sources.zip import DirectoryRun, central_directory

__all__ = [
    "Fanout",
    "merge_shards",
    "plan_fanout",
    "scan_shard",
    "unit_files",
    "unit_from_json",
    "unit_to_json",
]

SHARDABLE_KINDS = frozenset(
    {"directory", "disk-image", "ewf", "raw-image", "vmdk", "vhd", "qcow", "ufdr", "ios-backup"}
)
# A single file given as the source is cut into ranges of its members when it is one of these
# archives (7z is not: a solid 7z is one compressed stream, and py7zr decompresses all of it to
# reach any member, so every shard would cost the whole archive's decompression).
SHARDED_ARCHIVES = frozenset({"zip", "tar", "android-backup"})
SINGLE_FILE_KINDS = frozenset({"file", "android-backup"})
# A range of an archive's members: the unit's locator behind this prefix (no path starts so).
_RANGE = "\x1emembers:"
# Tables a part adds to the header (the header holds the rest: meta, sources, banks, custody).
PART_TABLES = ("files", "matches", "errors", "videos", "video_frames", "nested_images")
# Meta keys every scan file gets from ScanWriter.create itself.
_OWN_META = frozenset({"format", "schema_version", "status"})


@dataclass(frozen=True)
class Fanout:
    """The listing of a source cut into shards (units of each, in listing order)."""

    shards: list[list[Unit]]
    listed_files: int
    listed_bytes: int


def shardable(sources: Sequence[Path]) -> bool:
    """Whether every source is of a kind `plan_fanout` can cut (reading at most a file's head)."""
    for number, path in enumerate(sources, 1):
        source = open_source(number, Path(path))
        if source.kind not in SHARDABLE_KINDS and _archive_format(source) is None:
            return False
    return True


def _archive_format(source: Source) -> str | None:
    """The archive format of a single file given as the source, when its members can be cut
    into ranges."""
    if source.kind not in SINGLE_FILE_KINDS:
        return None
    try:  # as every read of the evidence: without updating its atime (the record shows it)
        with os.fdopen(open_readonly_file(source.path), "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    archive = sniff(head).archive
    return archive if archive in SHARDED_ARCHIVES else None


class _MemberSizes:
    """Visits an archive's members without reading them: what the cuts and the shards need to
    know of each, in the reader's order."""

    stopped = False

    def __init__(self) -> None:
        self.sizes: list[int] = []  # declared bytes (files only)
        self.names: list[str | None] = []  # the name a member's record takes (None: a folder)
        self.counted: list[int] = []  # declared bytes one process could expand (not encrypted)

    def member(self, info: MemberInfo) -> ContentSink | None:
        size = info.size or 0 if info.kind == "file" else 0
        self.sizes.append(size)
        self.counted.append(0 if info.encrypted else size)
        self.names.append(None if info.kind == "dir" else display_name(info.name)[0].lstrip("/"))
        return None


# A name the record of an earlier member could take when its name was given twice.
_COPY = re.compile(r" \[copy \d+\]$")


def _member_ranges(
    source: Source, unit: Unit, *, shard_files: int, shard_bytes: int
) -> list[Unit] | None:
    """An archive given as the source, as units that each hold a range of its members (None
    when it is not such an archive or its members fit in one shard). The archive is listed
    once with the same reader its shards use (a ZIP's central directory; a tar stream's
    headers, through its decompression); the listing only places the cuts: the first range
    starts at the first member and the last runs to the end of the archive, whatever is in it.
    A range of a ZIP also gets its run of the central directory, where the listing can vouch
    for it (`_zip_runs`)."""
    archive = _archive_format(source)
    if archive is None:
        return None
    listing = _MemberSizes()
    stream = source.reopen(unit)
    if stream is None:
        return None
    bounds: list[tuple[int, int]] = []  # (first member, bytes) of each range
    with stream:
        # A damaged archive: the cuts fall in what was listed.
        with contextlib.suppress(Exception):
            ARCHIVE_FORMATS[archive].read(stream, listing)
        for index, size in enumerate(listing.sizes):
            if not bounds or index - bounds[-1][0] >= shard_files or bounds[-1][1] >= shard_bytes:
                bounds.append((index, 0))
            bounds[-1] = (bounds[-1][0], bounds[-1][1] + size)
        if len(bounds) <= 1:
            return None
        runs = _zip_runs(stream, listing, [lo for lo, _size in bounds]) if archive == "zip" else {}
    ranges = []
    for number, (lo, members_size) in enumerate(bounds):
        last = number == len(bounds) - 1
        hi = len(listing.sizes) if last else bounds[number + 1][0]
        files = sum(1 for name in listing.names[lo:hi] if name is not None) + (1 if last else 0)
        run = runs.get(lo, "")
        locator = f"{_RANGE}{lo}:{'' if last else hi}:{unit.size}:{files}:{run}\x1e{unit.locator}"
        size = members_size + (unit.size if last else 0)
        ranges.append(Unit(unit.source_id, unit.path, locator, size, unit.path_raw))
    return ranges


def _zip_runs(stream: BinaryIO, listing: _MemberSizes, starts: list[int]) -> dict[int, str]:
    """Each range's run of a ZIP's central directory (by its first member), with the declared
    bytes of the members before it, for the ranges a shard can read from its run alone: the
    directory parsed as zipfile parses it, every member listed, and no name of the range's
    taken before it (a name given twice is numbered by the names before it: `[copy n]`)."""
    try:
        directory = central_directory(stream)
    except Exception:  # a hostile directory: the shards read it whole, as one process does
        return {}
    if directory is None or len(directory.entries) != len(listing.sizes):
        return {}
    runs: dict[int, str] = {}
    before = [0, *itertools.accumulate(listing.counted)]  # declared bytes before each member
    earlier: set[str] = set()
    copies = False  # a name before the range reads like a numbered copy
    for number, lo in enumerate(starts):
        hi = starts[number + 1] if number + 1 < len(starts) else None
        names = [n for n in listing.names[lo:hi] if n is not None]
        clash = copies or any(_COPY.search(n) for n in names) or not earlier.isdisjoint(names)
        if not clash:
            run = directory.run(stream, lo, hi).to_text()
            runs[lo] = f"{run},{before[lo]}"
        earlier.update(names)
        copies = copies or any(_COPY.search(n) for n in names)
    return runs


def _range_of(unit: Unit) -> tuple[Unit, MemberRange, int] | None:
    """The archive's own unit, the range of its members a range unit stands for, and how many
    files the range counts (its members, and the archive itself in the last range)."""
    if not unit.locator.startswith(_RANGE):
        return None
    bounds, _sep, locator = unit.locator[len(_RANGE) :].partition("\x1e")
    lo, hi, size, files, run = [*bounds.split(":"), "1", ""][:5]
    whole = Unit(unit.source_id, unit.path, locator, int(size), unit.path_raw)
    members = MemberRange(int(lo), int(hi) if hi else None)
    if run:
        *place, before = run.split(",")
        members.run = DirectoryRun.from_text(",".join(place))
        members.run_before_bytes = int(before)
    return whole, members, int(files)


def unit_files(unit: Unit) -> int:
    """The files a unit counts for the progress of a scan in shards: one, or a range's members."""
    found = _range_of(unit)
    return 1 if found is None else found[2]


def plan_fanout(
    options: ScanOptions, header: Path, *, shard_files: int, shard_bytes: int
) -> Fanout | None:
    """Write the header scan file and cut the listing into shards of at most about `shard_files`
    files and `shard_bytes` bytes; None (and no header) when the sources are not of a shardable
    kind or fit in one shard: scan them in one process (`start_scan`)."""
    if not shardable(options.sources):
        return None
    writer, sources, _matcher = prepare_scan(dataclasses.replace(options, out=header))
    _for_shards(sources)
    shards: list[list[Unit]] = []
    try:
        units = sorted(_list(writer, sources, set()), key=lambda u: (u.source_id, u.path))
        by_id = {s.source_id: s for s in sources}
        ranges: list[list[Unit]] = []
        for unit in [u for u in units if by_id[u.source_id].kind in SINGLE_FILE_KINDS]:
            found = _member_ranges(
                by_id[unit.source_id], unit, shard_files=shard_files, shard_bytes=shard_bytes
            )
            if found is not None:
                units.remove(unit)
                ranges.extend([r] for r in found)
        fits = len(units) <= shard_files and sum(u.size for u in units) <= shard_bytes
        shards = [] if fits else cut(units, shard_files=shard_files, shard_bytes=shard_bytes)
        if fits and units:
            shards = [units]
        shards += ranges
        if len(shards) <= 1:
            return None
        writer.begin()
        writer.log(
            "scan fanned out",
            f"{len(units) + len(ranges)} top-level files or ranges of an archive's members in "
            f"{len(shards)} shards of at most about {shard_files} files or {shard_bytes} bytes, "
            "each processed by one worker process",
        )
        writer.commit()
    finally:
        writer.close()
        if len(shards) <= 1:
            header.unlink(missing_ok=True)
    listed = [u for shard in shards for u in shard]
    return Fanout(shards, sum(unit_files(u) for u in listed), sum(u.size for u in listed))


def _for_shards(sources: Sequence[Source]) -> None:
    """Every file of a disk image a unit of the list: its media unit only hashes the media."""
    for source in sources:
        if isinstance(source, DiskImageSource):
            source.sweep = False
        elif isinstance(source, EvidenceFolderSource):  # the disk images it holds (sources.nested)
            source.nested.sweep = False


def cut(units: list[Unit], *, shard_files: int, shard_bytes: int) -> list[list[Unit]]:
    """Consecutive ranges of the sorted listing. A range ends where a disk image's partition
    ends, and around a unit as large as a shard (each such unit is a shard of its own); once it
    has reached its size, it ends where the next unit lies in another folder (at most half as
    large again)."""
    shards: list[list[Unit]] = []
    current: list[Unit] = []
    size = 0
    for unit in units:
        if current:
            full = len(current) >= shard_files or size >= shard_bytes
            over = len(current) >= shard_files * 1.5 or size >= shard_bytes * 1.5
            alone = unit.size >= shard_bytes or current[-1].size >= shard_bytes
            if (
                alone
                or over
                or _part(unit) != _part(current[-1])
                or (full and _folder(unit) != _folder(current[-1]))
            ):
                shards.append(current)
                current, size = [], 0
        current.append(unit)
        size += unit.size
    if current:
        shards.append(current)
    return shards


def _folder(unit: Unit) -> tuple[int, str]:
    return unit.source_id, unit.path.rpartition("/")[0]


def _part(unit: Unit) -> tuple[int, str]:
    """The source, and a disk image's partition (`laptop.E01!p2`; the media unit's own path;
    in a folder, `evidence/laptop.E01!p2`)."""
    before, bang, after = unit.path.partition("!")
    if bang and "/" in before:  # an image inside a folder: the folder's path, then its own
        return unit.source_id, f"{before}!{after.partition('/')[0]}"
    return unit.source_id, unit.path.partition("/")[0]


def unit_to_json(unit: Unit) -> list[Any]:
    raw = base64.b64encode(unit.path_raw).decode() if unit.path_raw is not None else None
    return [unit.source_id, unit.path, unit.locator, unit.size, raw]


def unit_from_json(value: Sequence[Any]) -> Unit:
    source_id, path, locator, size, raw = value
    return Unit(
        int(source_id),
        str(path),
        str(locator),
        int(size),
        base64.b64decode(raw) if raw is not None else None,
    )


def _redo_inexact(
    writer: ScanWriter,
    ranges: list[dict[str, Any]],
    sources: list[Source],
    settings: ScanSettings,
    banks: tuple[dict[str, str], list[tuple[Any, ...]]],
) -> None:
    """Each archive whose ranges could differ from one process, scanned again whole."""
    archives: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for facts in ranges:
        archives.setdefault(tuple(facts["unit"][:2]), []).append(facts)
    for found in archives.values():
        reasons = sorted({f["inexact"] for f in found if f["inexact"]})
        expanded = sum(f["expanded"] for f in found) + max(f["declared_max"] for f in found)
        if expanded > settings.max_expanded_bytes:
            reasons.append("its shards expanded more than the limit allows one process")
        if not reasons:
            continue
        whole = unit_from_json(found[0]["unit"])
        writer.begin()
        for table in PART_TABLES:
            writer.conn.execute(
                f"DELETE FROM main.{table} WHERE source_id = ?",  # noqa: S608 - fixed names
                (whole.source_id,),
            )
        writer.log(
            "archive scanned whole",
            f"source {whole.source_id}: the records of its {len(found)} shards set aside and the "
            f"archive scanned again in one process ({'; '.join(reasons)})",
        )
        writer.commit()
        matcher, _banks = _matcher(*banks)
        sink = _ResultWriter(writer, matcher, settings, None)
        try:
            _process_inline([whole], sources, settings, sink)
        finally:
            sink.flush()


def _header_state(
    header: Path,
) -> tuple[dict[str, str], list[SourceRow], dict[int, dict[str, Any]], list[tuple[Any, ...]]]:
    with closing(open_readonly(header)) as conn:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        sources = [
            SourceRow(*row)
            for row in conn.execute(
                "SELECT source_id, argument, kind, description FROM sources ORDER BY source_id"
            )
        ]
        details = {
            int(source_id): json.loads(found)
            for source_id, found in conn.execute("SELECT source_id, details FROM sources")
            if found
        }
        banks = [tuple(row) for row in conn.execute("SELECT * FROM banks ORDER BY name")]
    return meta, sources, details, banks


def _reopen(rows: Sequence[SourceRow], details: dict[int, dict[str, Any]]) -> list[Source]:
    """The header's sources opened again (read-only, as any scan opens them), with what the
    listing learned about them, as the process that listed them had them."""
    sources = [_open_again(row) for row in rows]
    for source in sources:
        if source.source_id in details:
            source.use_details(details[source.source_id])
    _for_shards(sources)
    return sources


def _open_again(row: SourceRow) -> Source:
    """A source as the listing opened it. A single file is opened as one without testing it
    again for every other kind: the test for a UFDR parses a ZIP's whole central directory,
    which a shard of the ZIP given as the source otherwise reads only a run of."""
    path = Path(row.argument)
    if row.kind == SingleFileSource.kind and not path.is_symlink() and path.is_file():
        return SingleFileSource(row.source_id, path)
    return open_source(row.source_id, path)


def scan_shard(
    header: Path, units: list[Unit], out: Path, progress: Progress | None = None
) -> ScanOutcome:
    """Process one shard's units into the part `out`, with the header's sources, banks and
    settings (a bank changed since the header was written stops it: BankChangedError)."""
    meta, source_rows, details, bank_rows = _header_state(header)
    settings = ScanSettings.from_json(meta["settings"])
    matcher, banks = _matcher(meta, bank_rows)
    sources = _reopen(source_rows, details)
    own = {k: v for k, v in meta.items() if k not in _OWN_META}
    writer = ScanWriter.create(out, meta=own, sources=source_rows, banks=banks)
    try:
        if progress is not None:
            progress.start(sum(unit_files(u) for u in units), sum(u.size for u in units), 0, 0)
        sink = _ResultWriter(writer, matcher, settings, progress)
        ranges: list[dict[str, Any]] = []
        try:
            _process_inline([u for u in units if _range_of(u) is None], sources, settings, sink)
            for unit in units:
                found = _range_of(unit)
                if found is not None:
                    whole, members, range_files = found
                    counted = _Counted(progress)
                    members.reached = counted.advance
                    members.delay = _delay()
                    records = _process_range(sources, whole, members, settings)
                    sink.progress = None  # the range's members count, not the range
                    sink.add(unit, records)
                    sink.progress = progress
                    counted.advance(range_files - counted.files, unit.size - counted.bytes)
                    ranges.append(_range_facts(whole, members))
        finally:
            sink.flush()
        files = int(writer.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0])
        errors = int(writer.conn.execute("SELECT COUNT(*) FROM errors").fetchone()[0])
        if ranges:
            writer.set_meta("member_ranges", json.dumps(ranges, sort_keys=True))
        writer.set_meta("status", "shard")
    finally:
        writer.close()
    return ScanOutcome(out, True, files, 0, errors)


class _Counted:
    """The progress of a range of an archive's members, member by member (`MemberRange.reach`)."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.files = 0
        self.bytes = 0

    def advance(self, files: int, nbytes: int) -> None:
        files, nbytes = max(0, files), max(0, nbytes)
        self.files += files
        self.bytes += nbytes
        if self.progress is not None and (files or nbytes):
            self.progress.advance(files, nbytes)


def _matcher(
    meta: dict[str, str], bank_rows: list[tuple[Any, ...]]
) -> tuple[RecordMatcher, list[Any]]:
    """The header's banks, loaded again; BankChangedError if one changed since."""
    bank_args = json.loads(meta["bank_arguments"])
    matcher, banks = load_matcher(
        [Path(p) for p in bank_args["bad"]], [Path(p) for p in bank_args["known_good"]]
    )
    recorded = {row[0]: row[4] for row in bank_rows}
    if recorded != {b.name: b.sha256 for b in banks}:
        raise BankChangedError("the banks changed since the scan was fanned out")
    return matcher, banks


def _process_range(
    sources: list[Source], whole: Unit, members: MemberRange, settings: ScanSettings
) -> list[FileRecord]:
    source = next(s for s in sources if s.source_id == whole.source_id)
    try:
        return process_unit(source, whole, settings, members=members)
    except Exception as exc:  # as engine._safe_process; the merge redoes the archive whole
        members.differs(f"{type(exc).__name__}: {exc}")
        return []


def _range_facts(whole: Unit, members: MemberRange) -> dict[str, Any]:
    """What the merge needs to know of a range: whose, and whether one process could differ."""
    return {
        "unit": unit_to_json(whole),
        "lo": members.lo,
        "expanded": members.expanded,
        "declared_max": members.declared_max,
        "inexact": members.inexact,
    }


def merge_shards(header: Path, parts: Sequence[tuple[Path, str]], out: Path) -> ScanOutcome:
    """The scan file of the whole source: the header, every part's rows (each part once, with a
    custody line saying what it was), then the end of a scan (`engine.complete_scan`). An
    archive cut into ranges whose shards could differ from one process (its expansion met a
    limit that one process carries from member to member: a likely zip bomb) is scanned again
    here, whole, in place of its ranges' records."""
    shutil.copyfile(header, out)
    writer = ScanWriter.resume(out)
    ranges: list[dict[str, Any]] = []
    try:
        for number, (part, about) in enumerate(parts, start=1):
            writer.conn.execute("ATTACH DATABASE ? AS part", (str(part),))
            try:
                found = writer.conn.execute(
                    "SELECT value FROM part.meta WHERE key = 'member_ranges'"
                ).fetchone()
                if found is not None:
                    ranges.extend(json.loads(found[0]))
                writer.begin()
                for table in PART_TABLES:
                    writer.conn.execute(
                        f"INSERT OR REPLACE INTO main.{table} SELECT * FROM part.{table}"  # noqa: S608 - fixed names
                    )
                count = writer.conn.execute("SELECT COUNT(*) FROM part.files").fetchone()[0]
                writer.log("shard merged", f"shard {number}: {count} file records; {about}")
                writer.commit()
            finally:
                writer.conn.execute("DETACH DATABASE part")
        meta = writer.meta()
        settings = ScanSettings.from_json(meta["settings"])
        _meta, source_rows, details, bank_rows = _header_state(header)
        sources = _reopen(source_rows, details)
        _redo_inexact(writer, ranges, sources, settings, (meta, bank_rows))
    except BaseException:
        writer.close()
        raise
    return complete_scan(writer, sources, settings)
