"""Apple file systems in disk images: HFS+ (a raw volume, a GPT partition, xorriso's hybrid ISO
with its 2048-byte Apple Partition Map) against The Sleuth Kit's own extraction.

Debian has no mkfs.hfsplus: xorriso (`-hfsplus on`) is the Debian tool here that writes an HFS+
volume with files in it, inside an ISO; the tests cut the volume out of it, and delete from it
with `diskimages.hfsplus_delete`. APFS: mkapfs's empty container, with files added by
`apfsbuild`, against the Sleuth Kit's pool-aware fls/icat (`-P apfs -B <block>`)."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muhafiz.triage.reports import write_report
from muhafiz.triage.sources import apfs
from muhafiz.triage.tests import apfsbuild
from muhafiz.triage.tests import diskimages as di
from muhafiz.triage.tests.conftest import Scanner, ScanResult

_TOOLS = ("xorriso", "sgdisk", "fls", "icat", "mmls")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in _TOOLS), reason=f"needs {', '.join(_TOOLS)}"
)

MTIME = 1577934245  # 2020-01-02 03:04:05 UTC
FILES = {
    "a.txt": b"hello from HFS+\n",
    "Photos/b.jpg": di.picture(31),
    "Photos/deep/noise.bin": hashlib.sha256(b"hfs").digest() * 4000,
}


def _details(result: ScanResult) -> dict[str, Any]:
    conn = sqlite3.connect(result.path)
    try:
        return dict(json.loads(conn.execute("SELECT details FROM sources").fetchone()[0]))
    finally:
        conn.close()


def _assert_same_as_tsk(result: ScanResult, prefix: str, expected: list[di.TskFile]) -> None:
    """Every allocated regular file fls lists, with icat's bytes' hashes, and nothing else."""
    scanned = di.allocated(result, prefix)
    assert expected, f"The Sleuth Kit found no files under {prefix}"
    assert sorted(scanned) == sorted(prefix + f.path for f in expected)
    for f in expected:
        row = scanned[prefix + f.path]
        assert (row["md5"], row["sha1"], row["sha256"]) == (f.md5, f.sha1, f.sha256), f.path


def _no_errors(result: ScanResult) -> None:
    codes = {code for errors in result.errors.values() for code, _ in errors}
    assert codes <= {"zero-byte"}, result.errors  # HFS+'s empty $BadBlockFile


@pytest.fixture(scope="module")
def hybrid_iso(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return di.hfsplus_iso(tmp_path_factory.mktemp("hfs"), FILES, mtime=MTIME)


def test_an_hfsplus_volume_raw_and_on_gpt_gives_the_files_the_sleuth_kit_extracts(
    hybrid_iso: Path, scan: Scanner, tmp_path: Path
) -> None:
    volume = di.hfsplus_volume(hybrid_iso, tmp_path / "hfs.img")
    gpt = tmp_path / "mac.img"
    [start] = di.disk(gpt, [di.Part(volume, "AF00", di.MiB)], gpt=True)  # AF00: Apple HFS/HFS+
    whole = di.tsk_files(volume, 0)
    assert {f.path for f in whole} >= set(FILES)  # and HFS+'s own $CatalogFile, ...
    assert di.tsk_files(gpt, start) == whole

    raw = scan(volume)
    _assert_same_as_tsk(raw, "hfs.img!/", whole)
    _no_errors(raw)
    on_gpt = scan(gpt)
    _assert_same_as_tsk(on_gpt, "mac.img!p1/", whole)
    _no_errors(on_gpt)
    details = _details(on_gpt)
    assert details["partition_table"] == "gpt"
    assert [v["file_system"] for v in details["volumes"] if v["name"] == "p1"] == ["hfs+"]

    row = on_gpt.files["mac.img!p1/Photos/b.jpg"]
    assert row["sha256"] == hashlib.sha256(FILES["Photos/b.jpg"]).hexdigest()
    assert row["mime"] == "image/jpeg" and row["pdq"] is not None  # analysed like any picture
    # HFS+ stores UTC: the content-modified time xorriso copied from the file, and the
    # creation time (HFS+ keeps one; xorriso sets it to when the ISO was made).
    text = on_gpt.files["mac.img!p1/a.txt"]
    assert text["mtime"] == "2020-01-02T03:04:05.000000Z"
    assert text["created"] and text["created"].endswith("Z") and text["created"] > text["mtime"]
    assert text["time_zone"] == "UTC" and text["timestamps_reliable"] == 1
    assert "hfs+" in text["timestamp_note"]
    assert text["inode"]


def test_a_deleted_hfsplus_picture_is_not_listed_as_the_sleuth_kit_lists_none_and_is_carved(
    scan: Scanner, tmp_path: Path
) -> None:
    """HFS+ deletes a file's catalog records: The Sleuth Kit lists no deleted entry (fls -d is
    empty), the scan lists none either, the other files are read as icat extracts them, and the
    deleted JPEG's bytes, left in the blocks the allocation file now marks free, are carved at
    their offset."""
    gone = di.picture(41)
    files = FILES | {"Photos/gone.jpg": gone}
    volume = di.hfsplus_volume(di.hfsplus_iso(tmp_path, files), tmp_path / "hfs.img")
    [(offset, length)] = di.hfsplus_delete(volume, "Photos/gone.jpg")
    assert volume.read_bytes()[offset : offset + len(gone)] == gone  # only the records went
    expected = di.tsk_files(volume, 0)
    assert {f.path for f in expected} >= set(FILES)
    assert "Photos/gone.jpg" not in {f.path for f in expected}
    assert di.tsk_deleted(volume, 0) == {}
    assert len(di.run("blkls", volume)) == length  # The Sleuth Kit: the freed blocks, no more

    result = scan(volume)
    _assert_same_as_tsk(result, "hfs.img!/", expected)
    _no_errors(result)
    assert not [p for p, row in result.files.items() if row["deleted"]]
    [carved] = [row for row in result.files.values() if row["carved"]]
    assert (carved["carved_offset"], carved["sha256"]) == (offset, hashlib.sha256(gone).hexdigest())
    assert carved["path"] == f"hfs.img!/$Unalloc/{offset}-{offset + length}!/{offset}.jpg"
    assert carved["mime"] == "image/jpeg" and carved["pdq"] is not None


def test_a_raw_image_is_read_whatever_its_name(
    hybrid_iso: Path, scan: Scanner, tmp_path: Path
) -> None:
    """dfvfs's raw layer only opens `.dd`, `.img`, `.raw`, `.dmg` and split names: a raw image
    recognised by its content under another name (`.bin`, none) is read as the file it is."""
    volume = di.hfsplus_volume(hybrid_iso, tmp_path / "hfs.img")
    expected = di.tsk_files(volume, 0)
    for name in ("evidence.bin", "evidence"):
        copy = tmp_path / name
        shutil.copyfile(volume, copy)
        result = scan(copy)
        _assert_same_as_tsk(result, f"{name}!/", expected)
        _no_errors(result)


def test_xorrisos_hybrid_iso_is_read_through_its_2048_byte_apple_partition_map(
    hybrid_iso: Path, scan: Scanner
) -> None:
    """The Sleuth Kit refuses an Apple Partition Map in 2048-byte blocks (it reads 512-byte
    sectors); the source reads the map itself: p1 is the ISO 9660 file system (counted from the
    disc's first byte), p2 the HFS+ volume at the map's block 55."""
    with pytest.raises(RuntimeError, match="mmls failed"):
        di.run("mmls", "-t", "mac", hybrid_iso)
    data = hybrid_iso.read_bytes()
    hfs_start = data.find(di.HFSPLUS_SIGNATURE) - 1024
    iso9660 = di.tsk_files(hybrid_iso, 0)
    hfs = di.tsk_files(hybrid_iso, hfs_start)
    assert {f.path for f in iso9660} >= {"A.TXT", "PHOTOS/B.JPG"}

    result = scan(hybrid_iso)
    _assert_same_as_tsk(result, "hybrid.iso!p1/", iso9660)
    _assert_same_as_tsk(result, "hybrid.iso!p2/", hfs)
    _no_errors(result)
    details = _details(result)
    assert details["partition_table"] == "apple"
    volumes = {v["name"]: v for v in details["volumes"]}
    assert volumes["p1"]["file_system"] == "iso9660" and volumes["p1"]["start"] == 0
    assert volumes["p2"]["file_system"] == "hfs+" and volumes["p2"]["start"] == hfs_start
    assert "Apple_HFS" in volumes["p2"]["description"]
    # The same bytes under both trees, as the disc holds them once.
    assert (
        result.files["hybrid.iso!p1/PHOTOS/B.JPG"]["sha256"]
        == result.files["hybrid.iso!p2/Photos/b.jpg"]["sha256"]
    )


def test_a_plain_iso9660_image_is_read_as_a_disc(scan: Scanner, tmp_path: Path) -> None:
    """An ISO without HFS+ or a partition map (a burnt CD or DVD): recognised by its primary
    volume descriptor at 32 KiB, its ISO 9660 files read as The Sleuth Kit reads them."""
    tree = tmp_path / "tree"
    for name, data in FILES.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_bytes(data)
    iso = tmp_path / "disc.iso"
    di.run("xorriso", "-outdev", iso, "-map", tree, "/", "-commit")
    expected = di.tsk_files(iso, 0)
    assert {f.path for f in expected} == {"A.TXT", "PHOTOS/B.JPG", "PHOTOS/DEEP/NOISE.BIN"}
    result = scan(iso)
    _assert_same_as_tsk(result, "disc.iso!/", expected)
    _no_errors(result)
    [volume] = _details(result)["volumes"]
    assert volume["file_system"] == "iso9660"


_MKAPFS = shutil.which("mkapfs") or (
    "/usr/sbin/mkapfs" if Path("/usr/sbin/mkapfs").exists() else None
)


@pytest.mark.skipif(_MKAPFS is None, reason="needs apfsprogs (mkapfs)")
def test_an_apfs_container_is_opened_and_its_volume_recorded_bare_and_on_gpt(
    scan: Scanner, tmp_path: Path
) -> None:
    """The Sleuth Kit (as pytsk3 builds it) does not read APFS; libfsapfs does. mkapfs makes an
    empty container with one volume: it is recognised, its volume named and listed (an empty
    root: no file, no error), on the bare container and in a GPT partition (AF0A: Apple APFS)."""
    size = 128 * di.MiB
    bare = di.apfs_container(tmp_path / "apfs.img", size, "TESTVOL")
    result = scan(bare)
    _no_errors(result)
    # The media and its free space (carved, as The Sleuth Kit's pstat finds it); no file.
    free = [f"apfs.img!/$Unalloc/{s}-{s + n}" for s, n in di.tsk_apfs_unallocated(bare, 0)]
    assert sorted(result.files) == sorted(["apfs.img", *free])
    [volume] = _details(result)["volumes"]
    assert volume["file_system"] == "apfs" and volume["status"] == "scanned"
    assert volume["apfs_volumes"] == [
        {"volume": "apfs1", "name": "TESTVOL", "status": "scanned", "files": 0}
    ]

    gpt = tmp_path / "mac.img"
    [start] = di.disk(gpt, [di.Part(None, "AF0A", size)], gpt=True)
    di.run(
        "dd", f"if={bare}", f"of={gpt}", "bs=1M", f"seek={start // di.MiB}", "conv=notrunc,sparse"
    )
    result = scan(gpt)
    _no_errors(result)
    details = _details(result)
    assert details["partition_table"] == "gpt"
    [volume] = [v for v in details["volumes"] if v["name"] != "unpartitioned"]
    assert (volume["name"], volume["file_system"], volume["start"]) == ("p1", "apfs", start)
    assert [v["name"] for v in volume["apfs_volumes"]] == ["TESTVOL"]
    write_report(result.path, "html", tmp_path / "r.html")
    assert "apfs (apfs1 &#x27;TESTVOL&#x27; scanned)" in (tmp_path / "r.html").read_text()


APFS_FILES = {
    "notes.txt": b"hello from APFS\n",
    "Photos/one.jpg": di.picture(51),
    "Photos/Holiday/two.png": di.picture(52, png=True),
    "empty.txt": b"",
    "Documents/packed.txt": b"a line of generated text, compressed by the file system\n" * 300,
}


@pytest.fixture(scope="module")
def apfs_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[apfsbuild.ApfsFile]]:
    """mkapfs's empty container with APFS_FILES added by apfsbuild (the JPEG in two extents,
    the long text zlib-compressed in its decmpfs attribute) and a JPEG in a free block, checked
    by apfsck."""
    if _MKAPFS is None:
        pytest.skip("needs apfsprogs (mkapfs, apfsck)")
    container = di.apfs_container(
        tmp_path_factory.mktemp("apfs") / "apfs.img", APFS_SIZE, "TESTVOL"
    )
    added = apfsbuild.add_files(
        container,
        APFS_FILES,
        times_ns=MTIME * 10**9,
        fragmented=["Photos/one.jpg"],
        compressed=["Documents/packed.txt"],
    )
    di.write_at(container, APFS_CARVED_OFFSET, APFS_CARVED)  # free space, as a deletion leaves it
    di.run(shutil.which("apfsck") or "/usr/sbin/apfsck", container)  # apfsprogs' own checker
    return container, added


@pytest.fixture
def apfs_with_files(apfs_build: tuple[Path, list[apfsbuild.ApfsFile]]) -> Path:
    return apfs_build[0]


APFS_SIZE = 128 * di.MiB
APFS_CARVED = di.picture(53)
APFS_CARVED_OFFSET = 0x6000 * 4096  # a block mkapfs leaves free


def test_the_apfs_builder_writes_files_the_sleuth_kit_reads_back(
    apfs_build: tuple[Path, list[apfsbuild.ApfsFile]],
) -> None:
    """The test-side builder is checked against an independent reader: fls lists exactly the
    files added (folders made, the empty file included) and icat extracts their bytes."""
    apfs_with_files, added = apfs_build
    [block] = di.tsk_apfs_volumes(apfs_with_files, 0).values()
    listed = di.tsk_files(apfs_with_files, 0, apfs_block=block)
    extents = {f.path: f.extents for f in added}
    [(first, head), (second, _)] = extents["Photos/one.jpg"]
    assert second == first + head + 1  # two extents, a free block between them
    assert extents["Documents/packed.txt"] == []  # compressed in its attribute: no data blocks
    assert {f.path: f.sha256 for f in listed} == {
        path: hashlib.sha256(data).hexdigest() for path, data in APFS_FILES.items()
    }
    folders = di.run("fls", "-r", "-p", "-D", "-P", "apfs", "-B", str(block), apfs_with_files)
    assert {line.split("\t")[1] for line in folders.decode().splitlines()} == {
        "Documents",
        "Photos",
        "Photos/Holiday",
    }
    # Nothing is deleted, and The Sleuth Kit lists no deleted APFS entry in any case: it reads
    # the current checkpoint's file-system tree, from which a deletion removes the records.
    assert di.run("fls", "-r", "-d", "-P", "apfs", "-B", str(block), apfs_with_files) == b""


def test_files_in_an_apfs_volume_are_read_as_the_sleuth_kit_extracts_them_bare_and_on_gpt(
    apfs_with_files: Path, scan: Scanner, tmp_path: Path
) -> None:
    [(name, block)] = di.tsk_apfs_volumes(apfs_with_files, 0).items()
    assert name == "TESTVOL"
    expected = di.tsk_files(apfs_with_files, 0, apfs_block=block)
    result = scan(apfs_with_files)
    _no_errors(result)
    _assert_same_as_tsk(result, "apfs.img!apfs1/", expected)
    [volume] = _details(result)["volumes"]
    assert volume["apfs_volumes"] == [
        {"volume": "apfs1", "name": "TESTVOL", "status": "scanned", "files": len(APFS_FILES)}
    ]
    picture = result.files["apfs.img!apfs1/Photos/one.jpg"]
    assert picture["mime"] == "image/jpeg" and picture["pdq"] is not None
    assert result.files["apfs.img!apfs1/Photos/Holiday/two.png"]["mime"] == "image/png"
    packed = result.files["apfs.img!apfs1/Documents/packed.txt"]  # decompressed by libfsapfs
    assert packed["size"] == len(APFS_FILES["Documents/packed.txt"])
    text = result.files["apfs.img!apfs1/notes.txt"]
    assert text["mtime"] == text["created"] == "2020-01-02T03:04:05.000000Z"
    assert text["time_zone"] == "UTC" and "apfs" in text["timestamp_note"]
    assert not [p for p, row in result.files.items() if row["deleted"]]

    gpt = tmp_path / "mac.img"
    [start] = di.disk(gpt, [di.Part(apfs_with_files, "AF0A", APFS_SIZE)], gpt=True)
    assert di.tsk_files(gpt, start, apfs_block=block) == expected
    on_gpt = scan(gpt)
    _no_errors(on_gpt)
    _assert_same_as_tsk(on_gpt, "mac.img!p1!apfs1/", expected)


def test_a_picture_in_apfs_free_space_is_carved_at_its_offset_and_allocated_ones_are_not(
    apfs_with_files: Path, scan: Scanner
) -> None:
    """APFS lists no deleted file (neither does The Sleuth Kit); the blocks its space manager
    marks free are carved, as pstat lists them, and the files' own blocks are not."""
    result = scan(apfs_with_files)
    free = di.tsk_apfs_unallocated(apfs_with_files, 0)
    assert any(s <= APFS_CARVED_OFFSET < s + n for s, n in free)
    pieces = sorted(p for p, row in result.files.items() if row["kind"] == "unallocated")
    assert pieces == sorted(f"apfs.img!/$Unalloc/{s}-{s + n}" for s, n in free)
    [carved] = [row for row in result.files.values() if row["carved"]]
    assert carved["carved_offset"] == APFS_CARVED_OFFSET
    assert carved["sha256"] == hashlib.sha256(APFS_CARVED).hexdigest()
    assert carved["mime"] == "image/jpeg" and carved["pdq"] is not None


@pytest.mark.skipif(_MKAPFS is None, reason="needs apfsprogs (mkapfs)")
def test_an_apfs_space_map_that_does_not_add_up_is_an_error_and_the_files_are_still_read(
    apfs_with_files: Path, scan: Scanner, tmp_path: Path
) -> None:
    broken = tmp_path / "apfs.img"
    shutil.copyfile(apfs_with_files, broken)
    spaceman = apfsbuild.spaceman_block(broken)
    di.write_at(broken, spaceman * 4096 + 60, b"\xff" * 8)  # the chunk count; checksum fails
    result = scan(broken)
    [(code, message)] = result.errors["apfs.img!/"]
    assert code == "unreadable" and "space map cannot be followed" in message
    assert "checksum" in message
    assert not [
        row for row in result.files.values() if row["carved"] or row["kind"] == "unallocated"
    ]
    [block] = di.tsk_apfs_volumes(apfs_with_files, 0).values()
    _assert_same_as_tsk(
        result, "apfs.img!apfs1/", di.tsk_files(apfs_with_files, 0, apfs_block=block)
    )


@pytest.mark.skipif(_MKAPFS is None, reason="needs apfsprogs (mkapfs)")
def test_the_free_space_of_a_container_over_several_chunk_info_blocks_is_what_pstat_lists(
    tmp_path: Path,
) -> None:
    """A 17 GiB container (sparse: mkapfs writes a few blocks) has 136 chunks of 128 MiB, more
    than one chunk-info block holds (126): the free ranges follow both, as pstat lists them."""
    size = 17 * 1024 * di.MiB
    container = di.apfs_container(tmp_path / "big.img", size, "BIG")
    with container.open("rb") as media:
        assert list(apfs.free_ranges(media, size)) == di.tsk_apfs_unallocated(container, 0)


class _Patched(io.RawIOBase):
    """The container file read with one block replaced, in memory."""

    def __init__(self, path: Path, block: int, replacement: bytes) -> None:
        self._file = path.open("rb")
        self._at = block * len(replacement)
        self._replacement = replacement
        self._pos = 0

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        assert whence == io.SEEK_SET
        self._pos = offset
        return offset

    def read(self, size: int = -1) -> bytes:
        self._file.seek(self._pos)
        data = bytearray(self._file.read(size))
        low = max(self._at, self._pos)
        high = min(self._at + len(self._replacement), self._pos + len(data))
        if low < high:
            data[low - self._pos : high - self._pos] = self._replacement[
                low - self._at : high - self._at
            ]
        self._pos += len(data)
        return bytes(data)

    def close(self) -> None:
        self._file.close()
        super().close()


def _block(path: Path, number: int) -> bytes:
    with path.open("rb") as f:
        f.seek(number * 4096)
        return f.read(4096)


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_a_malformed_apfs_space_map_is_refused_or_read_within_the_container(
    apfs_with_files: Path, data: st.DataObject
) -> None:
    """Bytes changed anywhere in the superblock, checkpoint, space manager, chunk-info block or
    bitmap (the object's checksum then fixed, or not): `free_ranges` raises SpaceMapError or
    gives ordered, separate ranges inside the container; nothing else."""
    block = 4096
    spaceman = apfsbuild.spaceman_block(apfs_with_files)
    cib = int.from_bytes(_block(apfs_with_files, spaceman)[384:392], "little")  # addresses
    bitmap = int.from_bytes(_block(apfs_with_files, cib)[64:72], "little")  # first chunk's
    target = data.draw(st.sampled_from([0, 1, 2, spaceman, cib, bitmap]), label="block")
    changed = bytearray(_block(apfs_with_files, target))
    at = data.draw(st.integers(0, block - 1), label="offset")
    patch = data.draw(st.binary(min_size=1, max_size=16), label="bytes")[: block - at]
    changed[at : at + len(patch)] = patch
    if target != bitmap and data.draw(st.booleans(), label="fix checksum"):
        changed[:8] = apfs.fletcher64(bytes(changed)).to_bytes(8, "little")
    media = _Patched(apfs_with_files, target, bytes(changed))
    try:
        ranges = list(apfs.free_ranges(media, APFS_SIZE))
    except apfs.SpaceMapError:
        return
    finally:
        media.close()
    end = 0
    for start, length in ranges:
        assert end <= start and length > 0 and start + length <= APFS_SIZE
        end = start + length


@pytest.mark.skipif(_MKAPFS is None, reason="needs apfsprogs (mkapfs)")
def test_a_damaged_apfs_container_is_an_error_and_its_space_is_carved(
    scan: Scanner, tmp_path: Path
) -> None:
    bad = di.apfs_container(tmp_path / "bad.img", 128 * di.MiB, "BROKEN")
    di.write_at(bad, 36, b"\xff" * 1500)  # the superblock after its magic: checksum fails
    result = scan(bad)
    [(code, message)] = result.errors["bad.img!/"]
    assert code == "file-system-unreadable" and "APFS container" in message
    assert "bad.img!$Unalloc/0-134217728" in result.files
    [volume] = _details(result)["volumes"]
    assert (volume["file_system"], volume["status"]) == ("apfs", "error")


def test_an_hfsplus_resource_fork_is_a_stream_of_its_own_as_the_sleuth_kit_reads_it(
    scan: Scanner, tmp_path: Path
) -> None:
    fork = b"a resource fork: icons, old Mac metadata, or hidden bytes\n" * 100
    iso = di.hfsplus_iso(tmp_path, {"a.txt": b"the data fork\n", "donor.bin": fork})
    volume = di.hfsplus_volume(iso, tmp_path / "hfs.img")
    di.hfsplus_resource_fork(volume, "a.txt", "donor.bin")
    [text] = [f for f in di.tsk_files(volume, 0) if f.path == "a.txt"]
    # The Sleuth Kit: the resource fork is attribute type 4353 (HFS RSRC) of the same file.
    from_icat = di.run("icat", volume, f"{text.address}-4353")
    assert from_icat == fork
    result = scan(volume)
    _no_errors(result)
    data_fork = result.files["hfs.img!/a.txt"]
    assert (data_fork["sha256"], data_fork["size"]) == (text.sha256, len(b"the data fork\n"))
    rsrc = result.files["hfs.img!/a.txt/..namedfork/rsrc"]
    assert rsrc["sha256"] == hashlib.sha256(fork).hexdigest() and rsrc["size"] == len(fork)
    assert rsrc["inode"] == data_fork["inode"]
    # A file without one lists no empty fork.
    assert "hfs.img!/donor.bin/..namedfork/rsrc" not in result.files
