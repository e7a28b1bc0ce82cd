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
Every worker must see the source at the same path (a shared mount). Not sharded (one task, as
before): a single file given as the source (an archive: one member stream), Android backups
(one tar stream). See docs/scaling.md.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from muhafiz.triage.engine import (
    BankChangedError,
    Progress,
    ScanOptions,
    ScanOutcome,
    _list,
    _process_inline,
    _ResultWriter,
    complete_scan,
    prepare_scan,
)
from muhafiz.triage.matching import load_matcher
from muhafiz.triage.scanfile import ScanWriter, SourceRow, open_readonly
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.sources import open_source
from muhafiz.triage.sources.base import Source, Unit
from muhafiz.triage.sources.diskimage import DiskImageSource
from muhafiz.triage.sources.nested import EvidenceFolderSource

__all__ = ["Fanout", "merge_shards", "plan_fanout", "scan_shard", "unit_from_json", "unit_to_json"]

SHARDABLE_KINDS = frozenset(
    {"directory", "disk-image", "ewf", "raw-image", "vmdk", "vhd", "qcow", "ufdr", "ios-backup"}
)
# Tables a part adds to the header (the header holds the rest: meta, sources, banks, custody).
PART_TABLES = ("files", "matches", "errors", "videos", "video_frames")
# Meta keys every scan file gets from ScanWriter.create itself.
_OWN_META = frozenset({"format", "schema_version", "status"})


@dataclass(frozen=True)
class Fanout:
    """The listing of a source cut into shards (units of each, in listing order)."""

    shards: list[list[Unit]]
    listed_files: int
    listed_bytes: int


def shardable(sources: Sequence[Path]) -> bool:
    """Whether every source is of a kind `plan_fanout` can cut (without reading it)."""
    return all(open_source(i, Path(p)).kind in SHARDABLE_KINDS for i, p in enumerate(sources, 1))


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
        fits = len(units) <= shard_files and sum(u.size for u in units) <= shard_bytes
        shards = [] if fits else cut(units, shard_files=shard_files, shard_bytes=shard_bytes)
        if len(shards) <= 1:
            return None
        writer.begin()
        writer.log(
            "scan fanned out",
            f"{len(units)} top-level files in {len(shards)} shards of at most about "
            f"{shard_files} files or {shard_bytes} bytes, each processed by one worker process",
        )
        writer.commit()
    finally:
        writer.close()
        if len(shards) <= 1:
            header.unlink(missing_ok=True)
    return Fanout(shards, len(units), sum(u.size for u in units))


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
    sources = [open_source(s.source_id, Path(s.argument)) for s in rows]
    for source in sources:
        if source.source_id in details:
            source.use_details(details[source.source_id])
    _for_shards(sources)
    return sources


def scan_shard(
    header: Path, units: list[Unit], out: Path, progress: Progress | None = None
) -> ScanOutcome:
    """Process one shard's units into the part `out`, with the header's sources, banks and
    settings (a bank changed since the header was written stops it: BankChangedError)."""
    meta, source_rows, details, bank_rows = _header_state(header)
    settings = ScanSettings.from_json(meta["settings"])
    bank_args = json.loads(meta["bank_arguments"])
    matcher, banks = load_matcher(
        [Path(p) for p in bank_args["bad"]], [Path(p) for p in bank_args["known_good"]]
    )
    recorded = {row[0]: row[4] for row in bank_rows}
    if recorded != {b.name: b.sha256 for b in banks}:
        raise BankChangedError("the banks changed since the scan was fanned out")
    sources = _reopen(source_rows, details)
    own = {k: v for k, v in meta.items() if k not in _OWN_META}
    writer = ScanWriter.create(out, meta=own, sources=source_rows, banks=banks)
    try:
        if progress is not None:
            progress.start(len(units), sum(u.size for u in units), 0, 0)
        sink = _ResultWriter(writer, matcher, settings, progress)
        try:
            _process_inline(units, sources, settings, sink)
        finally:
            sink.flush()
        files = int(writer.conn.execute("SELECT COUNT(*) FROM files").fetchone()[0])
        errors = int(writer.conn.execute("SELECT COUNT(*) FROM errors").fetchone()[0])
        writer.set_meta("status", "shard")
    finally:
        writer.close()
    return ScanOutcome(out, True, files, 0, errors)


def merge_shards(header: Path, parts: Sequence[tuple[Path, str]], out: Path) -> ScanOutcome:
    """The scan file of the whole source: the header, every part's rows (each part once, with a
    custody line saying what it was), then the end of a scan (`engine.complete_scan`)."""
    shutil.copyfile(header, out)
    writer = ScanWriter.resume(out)
    try:
        for number, (part, about) in enumerate(parts, start=1):
            writer.conn.execute("ATTACH DATABASE ? AS part", (str(part),))
            try:
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
        _meta, source_rows, details, _banks = _header_state(header)
        sources = _reopen(source_rows, details)
    except BaseException:
        writer.close()
        raise
    return complete_scan(writer, sources, settings)
