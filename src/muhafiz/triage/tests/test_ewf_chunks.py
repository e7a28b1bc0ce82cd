"""The fast EWF reader (zlib, chunk tables read directly) gives libewf's bytes: everywhere on an
intact multi-segment image, and on a damaged chunk, where libewf decides what it reads as."""

from __future__ import annotations

import random
import shutil
import subprocess
from pathlib import Path

import pyewf
import pytest

from muhafiz.triage.sources.directory import open_readonly
from muhafiz.triage.sources.ewf import EwfSource
from muhafiz.triage.sources.ewfchunks import FastEwfMedia, open_fast_media

pytestmark = pytest.mark.skipif(
    shutil.which("ewfacquirestream") is None, reason="ewf-tools (ewfacquirestream) missing"
)
MiB = 1024 * 1024


def _e01(folder: Path, data: bytes) -> Path:
    raw = folder / "media.raw"
    raw.write_bytes(data)
    with raw.open("rb") as stdin:
        subprocess.run(
            ["ewfacquirestream", "-q", "-t", str(folder / "media"), "-S", str(MiB), "-c",
             "deflate:fast", "-d", "sha1"],
            stdin=stdin, capture_output=True, check=True,
        )  # fmt: skip
    return folder / "media.E01"


def _media() -> bytes:
    rng = random.Random(5)
    text = b"".join(b"line %d of a compressible document\n" % i for i in range(60_000))
    data = rng.randbytes(MiB + 4096) + text + bytes(300_000) + rng.randbytes(123 * 512)
    return data[: len(data) // 512 * 512]  # whole sectors, as a disk has


def _libewf(e01: Path) -> bytes:
    handle = pyewf.handle()
    handle.open(pyewf.glob(str(e01)))
    try:
        return bytes(handle.read(handle.get_media_size()))
    finally:
        handle.close()


def _fast(e01: Path) -> FastEwfMedia:
    source = EwfSource(1, e01)
    media = source._media()
    assert isinstance(media, FastEwfMedia), "the intact E01 must take the fast path"
    return media


def test_every_byte_is_what_libewf_reads(tmp_path: Path) -> None:
    data = _media()
    e01 = _e01(tmp_path, data)
    assert len(sorted(tmp_path.glob("media.E*"))) >= 2  # chunk tables in several segments
    media = _fast(e01)
    expected = _libewf(e01)
    assert expected == data and media.get_size() == len(data)
    assert media.read(-1) == expected
    rng = random.Random(1)
    for _ in range(500):
        start, size = rng.randrange(len(data)), rng.randrange(1, 200_000)
        media.seek(start)
        assert media.read(size) == expected[start : start + size]
    media.seek(len(data) - 10)
    assert media.read(100) == expected[-10:] and media.read(100) == b""
    assert media.fallback_chunks == 0


@pytest.mark.parametrize("where", ["stored", "compressed"])
def test_a_damaged_chunk_reads_as_libewf_reads_it(tmp_path: Path, where: str) -> None:
    data = _media()
    e01 = _e01(tmp_path, data)
    segment = sorted(tmp_path.glob("media.E*"))[0]
    content = bytearray(segment.read_bytes())
    if where == "stored":  # random bytes: kept uncompressed, with their Adler-32
        at = content.find(data[MiB // 2 : MiB // 2 + 64])
    else:  # text: deflated; damage the middle of a chunk's stream
        at = content.find(b"\x78\x01", len(content) // 2) + 200
    assert at > 0
    content[at : at + 16] = b"\xa5" * 16
    segment.write_bytes(bytes(content))
    try:
        expected: bytes | None = _libewf(e01)
    except OSError:
        expected = None  # libewf refuses the damaged chunk: so must the fast reader
    media = _fast(e01)
    if expected is None:
        with pytest.raises(OSError):
            media.read(-1)
    else:
        assert media.read(-1) == expected
    assert media.fallback_chunks >= 1


def test_layouts_it_does_not_know_go_to_libewf(tmp_path: Path) -> None:
    e01 = _e01(tmp_path, _media())
    broken = tmp_path / "cut.E01"
    broken.write_bytes(e01.read_bytes()[:50_000])  # the chain of sections runs off the file

    def fallback() -> None:
        raise AssertionError("not used while opening")

    assert open_fast_media([broken], open_readonly, fallback) is None
    other = tmp_path / "not.E01"
    other.write_bytes(b"EVF2\r\n\x81\x00" + bytes(4096))  # EWF2 (.Ex01): libewf's
    assert open_fast_media([other], open_readonly, fallback) is None
    segments = sorted(tmp_path.glob("media.E*"))
    assert open_fast_media(segments[:-1], open_readonly, fallback) is None  # last one missing
