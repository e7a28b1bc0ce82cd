"""The media pass reads a disk image once: the acquisition hashes and the allocated files laid
out in order in it, fragmented ones included, with the same bytes as The Sleuth Kit extracts."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from muhafiz.triage.analyze import process_unit
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.sources import open_source
from muhafiz.triage.sources.base import Unit
from muhafiz.triage.sources.diskimage import MEDIA_LOCATOR, SWEPT, DiskImageSource
from muhafiz.triage.tests import diskimages as di
from muhafiz.triage.tests.conftest import Scanner

pytestmark = pytest.mark.skipif(
    bool(di.missing_tools()), reason=f"disk-image tools missing: {di.missing_tools()}"
)


def _free_bytes(fs: Path) -> int:
    listing = di.run("mdir", "-i", fs, "::/").decode()
    return int(listing.strip().splitlines()[-1].split("bytes free")[0].replace(" ", ""))


def _fragmented_fat(path: Path) -> dict[str, bytes]:
    """FAT32 with `big.bin` in two pieces in order: the file system is full but for two holes
    (`gap1.bin` and `gap2.bin` deleted), and big.bin fills both; plus a picture and a note."""
    di.run("truncate", "-s", str(40 * di.MiB), path)
    di.run("mkfs.vfat", "-F", "32", "-n", "SWEEP", path)
    staging = path.with_suffix(".staging")

    def put(name: str, data: bytes) -> None:
        staging.write_bytes(data)
        di.run("mcopy", "-i", path, staging, f"::/{name}")

    contents = {
        "DCIM/pic.jpg": di.picture(7),
        "note.txt": b"a small note\n",
        "keep.bin": hashlib.sha256(b"keep").digest() * (200_000 // 32),
    }
    di.run("mmd", "-i", path, "::/DCIM")
    put("DCIM/pic.jpg", contents["DCIM/pic.jpg"])
    put("note.txt", contents["note.txt"])
    put("gap1.bin", bytes(300_000))
    put("keep.bin", contents["keep.bin"])
    put("gap2.bin", bytes(300_000))
    put("filler.bin", bytes(_free_bytes(path)))
    di.run("mdel", "-i", path, "::/gap1.bin")
    di.run("mdel", "-i", path, "::/gap2.bin")
    contents["big.bin"] = b"".join(hashlib.sha256(b"%d" % i).digest() for i in range(17_000))
    put("big.bin", contents["big.bin"])
    staging.unlink()
    return contents


@pytest.fixture(scope="module")
def fragmented(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    folder = tmp_path_factory.mktemp("sweep")
    fat = folder / "p1.fat"
    _fragmented_fat(fat)
    raw = folder / "disk.raw"
    (start,) = di.disk(raw, [di.Part(fat, "c", 40 * di.MiB)])
    return raw, di.to_e01(raw, folder / "frag"), start


def test_allocated_files_are_read_in_the_media_pass_fragmented_ones_too(
    fragmented: tuple[Path, Path, int], scan: Scanner
) -> None:
    raw, e01, start = fragmented
    source = open_source(1, e01)
    assert isinstance(source, DiskImageSource)
    units = [u for u in source.walk() if isinstance(u, Unit)]
    swept = source.swept_files()
    by_path = {f.unit.path: f for f in swept}
    big = by_path[f"{e01.name}!p1/big.bin"]
    assert len(big.extents) == 2, f"big.bin should lie in two pieces, in order: {big.extents}"
    assert big.extents[0][0] < big.extents[1][0]
    # The workers get the media and what the pass does not read (unallocated space to carve).
    handed = list(source.plan(units))
    assert not [u for u in handed if u.locator.startswith(f"{SWEPT}:")]
    assert [u for u in handed if u.locator == MEDIA_LOCATOR]
    assert {u.path for u in units if u.locator.startswith(f"{SWEPT}:")} == set(by_path)

    result = scan(e01, workers=2)
    prefix = f"{e01.name}!p1/"
    expected = {f"{prefix}{f.path}": f for f in di.tsk_files(raw, start)}
    assert f"{prefix}big.bin" in expected
    for path, tsk in expected.items():
        row = result.files[path]
        assert (row["md5"], row["sha1"], row["sha256"]) == (tsk.md5, tsk.sha1, tsk.sha256), path
    picture = result.files[f"{prefix}DCIM/pic.jpg"]
    assert picture["mime"] == "image/jpeg"
    assert picture["pdq"], "a picture read in the media pass is analysed like any other"
    media = result.files[e01.name]
    assert media["md5"] == hashlib.md5(raw.read_bytes()).hexdigest()  # noqa: S324
    assert media["size"] == raw.stat().st_size


def test_a_swept_file_left_to_a_resumed_scan_is_read_alone_with_the_same_record(
    fragmented: tuple[Path, Path, int],
) -> None:
    """A scan resumed after its media pass: the files still to do are read one by one."""
    _, e01, _ = fragmented
    source = open_source(1, e01)
    assert isinstance(source, DiskImageSource)
    units = [u for u in source.walk() if isinstance(u, Unit)]
    without_media = [u for u in units if u.locator != MEDIA_LOCATOR]
    assert list(source.plan(without_media)) == without_media
    media = next(u for u in units if u.locator == MEDIA_LOCATOR)
    settings = ScanSettings()
    in_pass = {r.path: r for r in process_unit(source, media, settings)}
    for unit in without_media:
        if not unit.locator.startswith(f"{SWEPT}:"):
            continue
        (alone,) = process_unit(source, unit, settings)
        together = in_pass[unit.path]
        assert (alone.md5, alone.sha1, alone.sha256, alone.mime, alone.pdq, alone.mtime) == (
            together.md5,
            together.sha1,
            together.sha256,
            together.mime,
            together.pdq,
            together.mtime,
        ), unit.path


def test_the_media_pass_reads_through_a_file_object_of_its_own(
    fragmented: tuple[Path, Path, int],
) -> None:
    """Its reader thread reads while The Sleuth Kit opens files: a shared position would let
    one thread's seek fall between the other's seek and read."""
    _, e01, _ = fragmented
    source = open_source(1, e01)
    assert isinstance(source, DiskImageSource)
    first, second = source.pass_media(), source.pass_media()
    assert first is not second and first is not source._media()
    first.seek(0)
    head = first.read(4096)
    source._media().seek(8192)
    assert first.read(4096) == second.read(8192)[4096:]
    assert head == source.pass_media().read(4096)
