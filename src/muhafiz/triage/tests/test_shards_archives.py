"""A single archive given as the source, scanned in shards (triage.shards): a ZIP, a tar, a
tar.gz and an Android `.ab` backup of a few hundred small files (generated pictures for PDQ,
binaries, a nested ZIP, a name twice) cut into ranges of their members. Whatever the cuts and
the order the parts are merged in, the merged scan file has the records and the court report,
byte for byte, of a single-process scan; a damaged member and a cut stream give the same errors;
an archive whose expansion meets a limit is scanned again whole by the merge."""

from __future__ import annotations

import bz2
import dataclasses
import gzip
import io
import random
import tarfile
import warnings
import zipfile
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from muhafiz.triage.engine import ScanOptions, start_scan
from muhafiz.triage.reports import write_report
from muhafiz.triage.scanfile import open_readonly, record_rows
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.shards import Fanout, merge_shards, plan_fanout, scan_shard
from muhafiz.triage.tests.archives import MEMBERS, make_archive


def _in_shards(
    source: Path, tmp_path: Path, *, shard_files: int, settings: ScanSettings | None = None
) -> tuple[Fanout, Path]:
    """Fan `source` out, run every shard (the first twice), merge the parts in shuffled order."""
    options = ScanOptions(sources=[source], out=tmp_path / "unused.scan")
    if settings is not None:
        options = ScanOptions(sources=[source], out=tmp_path / "unused.scan", settings=settings)
    header = tmp_path / "header.scan"
    plan = plan_fanout(options, header, shard_files=shard_files, shard_bytes=1 << 30)
    assert plan is not None
    parts = []
    for number, units in enumerate(plan.shards):
        part = tmp_path / f"part-{number}.scan"
        scan_shard(header, units, part)
        if number == 0:  # its first worker "died" after writing: done again, merged once
            scan_shard(header, units, part.with_suffix(".again"))
            part.unlink()
            part = part.with_suffix(".again")
        parts.append((part, f"shard {number}"))
    random.Random(14).shuffle(parts)
    merged = merge_shards(header, parts, tmp_path / "merged.scan")
    assert merged.complete
    return plan, merged.path


def _single(source: Path, tmp_path: Path, settings: ScanSettings | None = None) -> Path:
    options = ScanOptions(sources=[source], out=tmp_path / "single.scan")
    if settings is not None:
        options = ScanOptions(sources=[source], out=tmp_path / "single.scan", settings=settings)
    return start_scan(options).path


def _assert_same(merged: Path, single: Path, tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    rows = record_rows(single)
    assert record_rows(merged) == rows
    write_report(merged, "csv", tmp_path / "merged.csv")
    write_report(single, "csv", tmp_path / "single.csv")
    assert (tmp_path / "merged.csv").read_bytes() == (tmp_path / "single.csv").read_bytes()
    return rows


def _paths(scan_file: Path) -> list[str]:
    with closing(open_readonly(scan_file)) as conn:
        return [row[0] for row in conn.execute("SELECT path FROM files ORDER BY path")]


def _custody(scan_file: Path) -> list[str]:
    with closing(open_readonly(scan_file)) as conn:
        return [row[0] for row in conn.execute("SELECT action FROM custody ORDER BY seq")]


@pytest.mark.parametrize("kind", ["zip", "tar", "tar.gz", "ab"])
def test_an_archive_in_ranges_of_its_members_gives_the_single_process_records(
    tmp_path: Path, kind: str
) -> None:
    source = make_archive(kind, tmp_path / "evidence")
    single = _single(source, tmp_path)  # first: the fan-out must not leave its mark (atime)
    plan, merged = _in_shards(source, tmp_path, shard_files=35)
    assert len(plan.shards) >= 6
    assert all(len(units) == 1 for units in plan.shards)
    _assert_same(merged, single, tmp_path)
    paths = _paths(single)
    assert len(paths) >= MEMBERS + 5  # the archive, its members, the nested ZIP's two
    assert any(p.endswith("nested.zip!/inner/p.jpg") for p in paths)
    assert any(p.endswith("data/d0/note1.txt [copy 2]") for p in paths)
    with closing(open_readonly(single)) as conn:
        pdq = conn.execute("SELECT COUNT(*) FROM files WHERE pdq IS NOT NULL").fetchone()[0]
    assert pdq >= 8
    assert "archive scanned whole" not in _custody(merged)


def test_a_corrupt_member_gives_the_single_process_errors(tmp_path: Path) -> None:
    source = make_archive("zip", tmp_path / "evidence")
    data = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo("data/d3/note130.txt")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start : start + 8] = b"\xff" * 8  # the deflate stream of one member, damaged
    source.write_bytes(bytes(data))
    _plan, merged = _in_shards(source, tmp_path, shard_files=35)
    rows = _assert_same(merged, _single(source, tmp_path), tmp_path)
    assert any("corrupt-archive" in str(row) for row in rows["errors"])


@pytest.mark.parametrize("kind", ["tar.gz", "ab"])
def test_a_cut_stream_gives_the_single_process_errors(tmp_path: Path, kind: str) -> None:
    source = make_archive(kind, tmp_path / "evidence")
    source.write_bytes(source.read_bytes()[: source.stat().st_size * 2 // 3])
    _plan, merged = _in_shards(source, tmp_path, shard_files=35)
    rows = _assert_same(merged, _single(source, tmp_path), tmp_path)
    assert rows["errors"]
    assert len(rows["files"]) < MEMBERS  # what lies after the cut is not there


def test_an_archive_that_meets_the_expansion_limit_is_scanned_again_whole(
    tmp_path: Path,
) -> None:
    """One process stops expanding once the unit has decompressed more than the limit; shards
    each see only their own members, so the merge scans such an archive again in one process."""
    source = make_archive("tar", tmp_path / "evidence")
    settings = ScanSettings(max_expanded_bytes=60_000)
    _plan, merged = _in_shards(source, tmp_path, shard_files=35, settings=settings)
    rows = _assert_same(merged, _single(source, tmp_path, settings), tmp_path)
    assert any("expanded-size-limit" in str(row) for row in rows["errors"])
    assert "archive scanned whole" in _custody(merged)


def test_a_stream_that_one_process_would_stop_as_a_zip_bomb_is_scanned_again_whole(
    tmp_path: Path,
) -> None:
    """A tar.bz2 of zeros: one process's whole-archive ratio guard stops it once 4 MiB have come
    out of a few hundred bytes; no shard alone expands that much, but each judges what one process
    would have seen at its members, so the merge scans the archive again whole."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as archive:
        for number in range(140):
            info = tarfile.TarInfo(f"zeros/z{number:03d}.bin")
            info.size = 100 * 1024
            archive.addfile(info, io.BytesIO(bytes(info.size)))
    source = tmp_path / "evidence" / "zeros.tar.bz2"
    source.parent.mkdir()
    source.write_bytes(bz2.compress(out.getvalue()))
    _plan, merged = _in_shards(source, tmp_path, shard_files=35)
    rows = _assert_same(merged, _single(source, tmp_path), tmp_path)
    assert any("zip-bomb" in str(row) for row in rows["errors"])
    assert "archive scanned whole" in _custody(merged)


def test_a_7z_or_a_small_archive_is_scanned_in_one_process(tmp_path: Path) -> None:
    small = tmp_path / "small.zip"
    with zipfile.ZipFile(small, "w") as archive:
        for number in range(10):
            archive.writestr(f"n{number}.txt", b"small\n")
    options = ScanOptions(sources=[small], out=tmp_path / "unused.scan")
    header = tmp_path / "header.scan"
    assert plan_fanout(options, header, shard_files=35, shard_bytes=1 << 30) is None
    assert not header.exists()
    import py7zr

    seven = tmp_path / "seized.7z"  # solid: every shard would decompress it all
    with py7zr.SevenZipFile(seven, "w") as archive:
        for number in range(50):
            archive.writestr(f"n{number}.txt".encode() * 20, f"n{number}.txt")
    options = ScanOptions(sources=[seven], out=tmp_path / "unused.scan")
    assert plan_fanout(options, header, shard_files=5, shard_bytes=1 << 30) is None
    lone = tmp_path / "lone.gz"  # a compressed file that is not a tar: one process
    lone.write_bytes(gzip.compress(b"not a tar\n" * 1000))
    options = ScanOptions(sources=[lone], out=tmp_path / "unused.scan")
    assert plan_fanout(options, header, shard_files=2, shard_bytes=1 << 30) is None


# --- a ZIP's shards read their runs of the central directory --------------------------------------


@pytest.fixture
def full_directory_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many entries each whole-directory parse of a ZIP read (zipfile's own parse; a run of
    the directory is parsed by `sources.zip._RunOfZip`)."""
    reads: list[int] = []
    real = zipfile.ZipFile._RealGetContents  # type: ignore[attr-defined]

    def counted(self: zipfile.ZipFile) -> None:
        real(self)
        reads.append(len(self.filelist))

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", counted)
    return reads


# Whole-directory parses when the fan-out is planned, once: the test for a UFDR (when the source
# is opened to see if it can be cut, then for the scan), the listing, and the check of the runs.
PLANNING = 4


def _many_members_zip(path: Path, members: int = 1200) -> Path:
    """A ZIP of small generated members, with a name given twice and one that reads like the
    record of a numbered copy, in ranges far apart."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(7)
    with warnings.catch_warnings(), zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        warnings.simplefilter("ignore", UserWarning)  # the name given twice, on purpose
        for number in range(members):
            body = f"member {number}\n".encode() + rng.randbytes(number % 50)
            archive.writestr(f"m/{number // 100:02d}/f{number:05d}.txt", body)
            if number == 700:
                archive.writestr("m/00/f00010.txt", b"the same name as an earlier member\n")
            if number == 900:
                archive.writestr("m/01/f00150.txt [copy 2]", b"a name like a copy's\n")
    return path


def _runs(plan: Fanout) -> list[bool]:
    """Whether each range carries its run of the central directory."""
    return [units[0].locator.split("\x1e")[1].split(":")[5] != "" for units in plan.shards]


def test_a_zip_shard_reads_only_its_run_of_the_central_directory(
    tmp_path: Path, full_directory_reads: list[int]
) -> None:
    source = _many_members_zip(tmp_path / "evidence" / "seized.zip")
    single = _single(source, tmp_path)
    full_directory_reads.clear()
    plan, merged = _in_shards(source, tmp_path, shard_files=100)
    assert len(plan.shards) == 13
    # The range with the name given twice, and those from the name like a copy's on, parse the
    # whole directory (a name's `[copy n]` depends on every name before it); the rest, their run.
    assert _runs(plan) == [True] * 7 + [False] + [True] + [False] * 4
    assert full_directory_reads == [1202] * (PLANNING + 5)
    rows = _assert_same(merged, single, tmp_path)
    paths = [row[1] for row in rows["files"]]
    assert sum(p.endswith("!/m/00/f00010.txt [copy 2]") for p in paths) == 1
    assert sum(p.endswith("!/m/01/f00150.txt [copy 2]") for p in paths) == 1


def test_a_zip64_and_a_self_extractor_are_read_in_runs(
    tmp_path: Path, full_directory_reads: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ZIP64 records (local-header offsets, the end of the directory), written by zipfile with
    its limits lowered, and a ZIP appended to another (zipfile reads the last one and adds the
    first one's bytes to every offset, as for a self-extractor's stub): the runs give the
    single-process records."""
    with monkeypatch.context() as lowered:
        lowered.setattr(zipfile, "ZIP64_LIMIT", 2000)
        lowered.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 100)
        zip64 = _many_members_zip(tmp_path / "zip64" / "seized.zip", members=600)
    with zipfile.ZipFile(zip64) as archive:
        assert any(len(info.extra) >= 12 for info in archive.infolist())  # ZIP64 extra fields
    assert b"PK\x06\x06" in zip64.read_bytes()[-200:]  # the ZIP64 end of central directory
    stub = tmp_path / "stub" / "seized.zip"
    plain = _many_members_zip(tmp_path / "plain" / "seized.zip", members=600)
    first = io.BytesIO()
    with zipfile.ZipFile(first, "w") as archive:
        archive.writestr("before/stub.txt", b"the first archive\n" * 40)
    stub.parent.mkdir()
    stub.write_bytes(first.getvalue() + plain.read_bytes())
    for source in (zip64, stub):
        work = tmp_path / f"work-{source.parent.name}"
        work.mkdir()
        single = _single(source, work)
        full_directory_reads.clear()
        plan, merged = _in_shards(source, work, shard_files=60)
        assert full_directory_reads == [600] * PLANNING  # every shard read its run
        assert _runs(plan) == [True] * 10
        _assert_same(merged, single, work)


def _entry_offsets(path: Path) -> list[int]:
    """Where each central-directory entry of the ZIP lies in the file."""
    from muhafiz.triage.sources.zip import central_directory

    with path.open("rb") as stream:
        directory = central_directory(stream)
    assert directory is not None
    return directory.entries


def _point(path: Path, headers: dict[int, int]) -> None:
    """Make central-directory entries point at other local headers ({entry: header offset})."""
    entries = _entry_offsets(path)
    data = bytearray(path.read_bytes())
    for entry, header_offset in headers.items():
        at = entries[entry] + 42
        data[at : at + 4] = header_offset.to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_a_directory_entry_pointing_outside_the_file_gives_the_single_process_errors(
    tmp_path: Path, full_directory_reads: list[int]
) -> None:
    """The last member's entry points past the end of the file: the runs still hold (the local
    headers stay in order), and the member's error is one process's."""
    source = _many_members_zip(tmp_path / "evidence" / "seized.zip", members=400)
    _point(source, {-1: source.stat().st_size + 10_000})
    single = _single(source, tmp_path)
    full_directory_reads.clear()
    plan, merged = _in_shards(source, tmp_path, shard_files=50)
    assert _runs(plan) == [True] * 8
    assert full_directory_reads == [400] * PLANNING
    rows = _assert_same(merged, single, tmp_path)
    assert any("corrupt-archive" in str(row) for row in rows["errors"])


def test_overlapping_members_make_every_shard_read_the_whole_directory(
    tmp_path: Path, full_directory_reads: list[int]
) -> None:
    """Two entries point at the same local header (members overlapping, as in a quoted-overlap
    zip bomb), and another points outside the file in the middle of the directory: the
    listing cannot vouch for any run, so each shard parses the directory whole, as one process."""
    source = _many_members_zip(tmp_path / "evidence" / "seized.zip", members=400)
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
    _point(source, {120: infos[119].header_offset, 250: source.stat().st_size + 10_000})
    single = _single(source, tmp_path)
    full_directory_reads.clear()
    plan, merged = _in_shards(source, tmp_path, shard_files=50)
    assert not any(_runs(plan))
    assert full_directory_reads == [400] * (PLANNING + len(plan.shards) + 1)  # shard 0 twice
    rows = _assert_same(merged, single, tmp_path)
    assert sum("corrupt-archive" in str(row) for row in rows["errors"]) >= 2


def test_a_run_whose_bytes_changed_is_not_read(tmp_path: Path) -> None:
    """A run checks the bytes it parses against the listing's CRC; other bytes stop it before
    any member is visited (the shard then reads the whole directory, as one process)."""
    from muhafiz.triage.sources.zip import DirectoryRun, RunChangedError, ZipFormat

    source = _many_members_zip(tmp_path / "seized.zip", members=200)
    options = ScanOptions(sources=[source], out=tmp_path / "unused.scan")
    plan = plan_fanout(options, tmp_path / "header.scan", shard_files=50, shard_bytes=1 << 30)
    assert plan is not None
    text = plan.shards[1][0].locator.split("\x1e")[1].split(":")[5]
    run = DirectoryRun.from_text(",".join(text.split(",")[:-1]))
    changed = DirectoryRun(run.begin, run.end, run.crc ^ 1, *dataclasses.astuple(run)[3:])

    seen: list[str] = []

    class Visitor:
        stopped = False

        def member(self, info: Any) -> None:
            seen.append(info.name)

    with source.open("rb") as stream:
        ZipFormat().read_run(stream, Visitor(), run)
        assert len(seen) == 50 and seen[0] == "m/00/f00050.txt"
        seen.clear()
        with pytest.raises(RunChangedError):
            ZipFormat().read_run(stream, Visitor(), changed)
    assert not seen


def test_a_zip_whose_reader_stops_at_a_member_is_scanned_again_whole(tmp_path: Path) -> None:
    """A member's local header says its name is UTF-8 and holds a byte that is not: zipfile
    raises at that member, and one process lists none of the members after it. The ranges after
    it never open that member; the shard whose range holds it notes that its reader stopped,
    and the merge scans the archive again whole."""
    source = _many_members_zip(tmp_path / "evidence" / "seized.zip", members=300)
    with zipfile.ZipFile(source) as archive:
        header = archive.infolist()[120].header_offset
    data = bytearray(source.read_bytes())
    flags = int.from_bytes(data[header + 6 : header + 8], "little")
    data[header + 6 : header + 8] = (flags | 0x800).to_bytes(2, "little")  # "UTF-8 name"
    data[header + 30] = 0xFF  # the name's first byte, in the local header only
    source.write_bytes(bytes(data))
    single = _single(source, tmp_path)
    plan, merged = _in_shards(source, tmp_path, shard_files=50)
    assert _runs(plan) == [True] * 6
    rows = _assert_same(merged, single, tmp_path)
    assert len(rows["files"]) < 300  # one process listed none after the member
    assert "archive scanned whole" in _custody(merged)
