"""Hashing in one pass and content identification by magic bytes."""

from __future__ import annotations

import hashlib
import io
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from muhafiz.triage import filetypes
from muhafiz.triage.hashing import MultiHasher, hash_stream
from muhafiz.triage.tests.media import jpeg_bytes, png_bytes, scene


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=5000), chunk=st.integers(min_value=1, max_value=700))
def test_one_pass_digests_equal_hashlib_for_any_bytes_and_buffer_size(
    data: bytes, chunk: int
) -> None:
    digests = hash_stream(io.BytesIO(data), bytearray(chunk))
    assert digests.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()
    assert digests.sha1 == hashlib.sha1(data, usedforsecurity=False).hexdigest()
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert digests.size == len(data)


def test_hasher_accepts_memoryviews_of_a_reused_buffer() -> None:
    hasher = MultiHasher()
    buf = bytearray(b"abcdef")
    hasher.update(memoryview(buf)[:3])
    buf[:3] = b"def"
    hasher.update(memoryview(buf)[:3])
    assert hasher.digests().sha256 == hashlib.sha256(b"abcdef").hexdigest()


def test_images_are_identified_by_content_not_name() -> None:
    image = scene(1, (64, 48))
    assert filetypes.sniff(jpeg_bytes(image)[:512]) is filetypes.JPEG
    assert filetypes.sniff(png_bytes(image)[:512]) is filetypes.PNG
    out = io.BytesIO()
    image.save(out, "GIF")
    assert filetypes.sniff(out.getvalue()[:512]) is filetypes.GIF
    out = io.BytesIO()
    image.save(out, "WEBP")
    assert filetypes.sniff(out.getvalue()[:512]) is filetypes.WEBP
    out = io.BytesIO()
    image.save(out, "TIFF")
    assert filetypes.sniff(out.getvalue()[:512]) is filetypes.TIFF
    out = io.BytesIO()
    image.save(out, "BMP")
    assert filetypes.sniff(out.getvalue()[:512]) is filetypes.BMP


def test_photo_renamed_to_dll_is_flagged_and_unknown_content_is_not() -> None:
    assert filetypes.extension_mismatch("dir/holiday.dll", filetypes.JPEG)
    assert not filetypes.extension_mismatch("dir/holiday.JPG", filetypes.JPEG)
    assert not filetypes.extension_mismatch("dir/report.docx", filetypes.ZIP)
    assert not filetypes.extension_mismatch("dir/blob.jpg", filetypes.OCTET)
    assert not filetypes.extension_mismatch("dir/README", filetypes.TEXT)
    assert filetypes.extension_mismatch("dir/notes.png", filetypes.TEXT)


@settings(max_examples=200, deadline=None)
@given(head=st.binary(max_size=600))
def test_sniff_names_some_type_for_any_bytes(head: bytes) -> None:
    assert filetypes.sniff(head).mime


_PHOTO = jpeg_bytes(scene(7, (320, 240)))


@settings(max_examples=40, deadline=None)
@given(
    cuts=st.lists(st.integers(min_value=1, max_value=len(_PHOTO) - 1), max_size=6),
    limit=st.sampled_from([100, 600, len(_PHOTO) - 1, len(_PHOTO), 10 * len(_PHOTO)]),
    announce=st.booleans(),
)
def test_image_digests_are_right_however_the_bytes_arrive(
    cuts: list[int], limit: int, announce: bool
) -> None:
    """Images are hashed while decoding (deferred); over the memory limit, hashed as they come."""
    from muhafiz.triage.analyze import RecordSink, UnitContext
    from muhafiz.triage.records import FileRecord
    from muhafiz.triage.settings import ScanSettings

    ctx = UnitContext(ScanSettings(max_in_memory_bytes=limit), bytearray(1024))
    record = FileRecord(1, "photo.jpg", None, 0)
    sink = RecordSink(ctx, record, len(_PHOTO) if announce else None, None, budgeted=False)
    bounds = [0, *sorted(set(cuts)), len(_PHOTO)]
    for start, end in itertools.pairwise(bounds):
        sink.write(memoryview(_PHOTO)[start:end])
    sink.close()
    assert record.md5 == hashlib.md5(_PHOTO, usedforsecurity=False).hexdigest()
    assert record.sha1 == hashlib.sha1(_PHOTO, usedforsecurity=False).hexdigest()
    assert record.sha256 == hashlib.sha256(_PHOTO).hexdigest()
    assert record.size == len(_PHOTO)
    assert (record.pdq is not None) == (limit >= len(_PHOTO))
