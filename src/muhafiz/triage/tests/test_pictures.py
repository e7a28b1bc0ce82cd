"""Picture kinds beyond JPEG and PNG: HEIC/HEIF (iPhones), WebP, GIF (first frame), TIFF, BMP;
each hashed with PDQ, with EXIF where the format carries it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from muhafiz.triage.imaging import pdq_of_pixels, reduced_for_pdq
from muhafiz.triage.tests.conftest import Scanner
from muhafiz.triage.tests.media import gps_exif, scene, write


def _encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


@pytest.mark.parametrize(
    "case",
    [
        ("IMG_0001.HEIC", "HEIF", "image/heic", "full"),
        ("photo.webp", "WEBP", "image/webp", "full"),
        # Pillow's TIFF writer keeps the main IFD only (no Exif or GPS sub-IFD) in what it writes.
        ("scan.tiff", "TIFF", "image/tiff", "camera"),
        ("paint.bmp", "BMP", "image/bmp", None),
        ("still.png", "PNG", "image/png", "full"),
    ],
)
def test_each_picture_kind_is_hashed_with_pdq_and_its_exif_read(
    tmp_path: Path, scan: Scanner, case: tuple[str, str, str, str | None]
) -> None:
    name, fmt, mime, exif = case
    picture = scene(41, (640, 480))
    options: dict[str, object] = {"exif": gps_exif(31.5204, 74.3587)} if exif else {}
    if fmt in ("HEIF", "WEBP"):
        options["quality"] = 90
    write(tmp_path / "phone" / name, _encoded(picture, fmt, **options))
    result = scan(tmp_path / "phone")
    row = result.files[f"phone/{name}"]
    assert row["mime"] == mime
    assert (row["width"], row["height"]) == (640, 480)
    expected = pdq_of_pixels(reduced_for_pdq(picture, 256))
    assert row["pdq"] is not None and expected.hex is not None
    assert _distance(row["pdq"], expected.hex) <= 16
    assert row["pdq_quality"] >= 50
    if exif:
        assert (row["exif_make"], row["exif_model"]) == ("TestCam", "Model 7")
    if exif == "full":
        assert row["exif_datetime"] == "2024-05-01T10:20:30"
        assert row["gps_lat"] == pytest.approx(31.5204, abs=1e-3)
        assert row["gps_lon"] == pytest.approx(74.3587, abs=1e-3)
    assert result.codes(f"phone/{name}") == []


def test_an_animated_gif_is_hashed_by_its_first_frame(tmp_path: Path, scan: Scanner) -> None:
    first, second = scene(50, (320, 240)), scene(51, (320, 240))
    data = _encoded(first, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    write(tmp_path / "phone" / "anim.gif", data)
    result = scan(tmp_path / "phone")
    row = result.files["phone/anim.gif"]
    assert row["mime"] == "image/gif"
    with Image.open(io.BytesIO(data)) as gif:
        want = pdq_of_pixels(gif.convert("RGB"))
        gif.seek(1)
        other = pdq_of_pixels(gif.convert("RGB"))
    assert want.hex is not None and other.hex is not None
    assert _distance(row["pdq"], want.hex) <= 8
    assert _distance(row["pdq"], other.hex) > 31


def test_a_damaged_heic_is_an_error_not_a_crash(tmp_path: Path, scan: Scanner) -> None:
    data = _encoded(scene(60), "HEIF", quality=80)
    write(tmp_path / "phone" / "cut.heic", data[: len(data) // 3])
    result = scan(tmp_path / "phone")
    assert result.codes("phone/cut.heic") == ["corrupt-image"]
    assert result.files["phone/cut.heic"]["sha256"] is not None
