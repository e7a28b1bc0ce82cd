"""Property: whatever bytes a file holds, and whatever its name, the scan records it and goes on."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muhafiz.triage.analyze import process_unit
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.sources.directory import SingleFileSource
from muhafiz.triage.tests.media import jpeg_bytes, scene

SIGNATURES = [
    b"",
    b"PK\x03\x04",
    b"\x1f\x8b\x08\x00",
    b"BZh91AY&SY",
    b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c",
    b"\xff\xd8\xff\xe0",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"RIFF\x00\x00\x00\x00WEBP",
    b"II*\x00",
]

_VALID = [jpeg_bytes(scene(1, (64, 48)))]
_buf = io.BytesIO()
with zipfile.ZipFile(_buf, "w") as _z:
    _z.writestr("a.txt", b"hello" * 100)
_VALID.append(_buf.getvalue())


def _scan_bytes(data: bytes, name: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        source = SingleFileSource(1, path)
        unit = next(iter(source.walk()))
        records = process_unit(source, unit, ScanSettings())  # type: ignore[arg-type]
    assert records[0].path == name
    assert records[0].parent is None
    for record in records:
        assert record.md5 is not None or record.issues or record.kind != "file"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    signature=st.sampled_from(SIGNATURES),
    body=st.binary(max_size=3000),
    name=st.sampled_from(["x.zip", "x.tar.gz", "x.7z", "x.jpg", "x.png", "x", "x.bin"]),
)
def test_random_bytes_behind_any_signature_never_stop_the_scan(
    signature: bytes, body: bytes, name: str
) -> None:
    _scan_bytes(signature + body, name)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    valid=st.sampled_from(_VALID),
    cut=st.integers(min_value=0, max_value=5000),
    flips=st.lists(
        st.tuples(st.integers(min_value=0, max_value=5000), st.integers(1, 255)), max_size=8
    ),
)
def test_truncated_or_bit_flipped_images_and_archives_never_stop_the_scan(
    valid: bytes, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(valid[: max(1, len(valid) - cut)])
    for position, mask in flips:
        if position < len(data):
            data[position] ^= mask
    _scan_bytes(bytes(data), "mutated.bin")
