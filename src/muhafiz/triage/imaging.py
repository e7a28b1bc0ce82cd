"""Images: PDQ hash and quality on a reduced decode, and the EXIF fields investigators use.

PDQ follows formats.md: the reference CLI shrinks large images to fit 512×512 before hashing. We
get there cheaply: JPEGs are decoded with libjpeg's DCT scaling (`Image.draft`) so that the short
side stays at least `pdq_min_side` pixels, other formats are box-reduced by an integer factor,
and what remains above 512 px is resized like the reference. The hash stays within a few bits of
`pdqhash` on the full decode at a small fraction of the cost.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pdqhash
from PIL import Image

from muhafiz.triage.records import FileRecord, IssueCode
from muhafiz.triage.settings import ScanSettings

try:  # HEIC/HEIF when the optional pillow-heif is installed.
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - depends on the installation
    pass

# Pillow's global limits (MAX_IMAGE_PIXELS, LOAD_TRUNCATED_IMAGES) are left alone: the server
# imports this module too. Our own, lower limits are checked before decoding; Pillow's error
# (above twice its MAX_IMAGE_PIXELS) is caught and recorded the same way.

PDQ_BOX = 512  # the reference CLI's resize target
PDQ_MIN_PIXELS = 5  # under 5 px in either dimension PDQ has no hash (quality 0)

_EXIF_MAKE, _EXIF_MODEL, _EXIF_SOFTWARE, _EXIF_DATETIME = 0x010F, 0x0110, 0x0131, 0x0132
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 0x9003, 0x9011


@dataclass(frozen=True, slots=True)
class PdqResult:
    hex: str | None  # None when the image is too small to hash
    quality: int


def pdq_of_pixels(image: Image.Image) -> PdqResult:
    """PDQ of exactly these pixels (no resizing), via the reference C++ in `pdqhash`."""
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    if min(rgb.size) < PDQ_MIN_PIXELS:
        return PdqResult(None, 0)
    bits, quality = pdqhash.compute(np.asarray(rgb))
    return PdqResult(np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality))


def reduced_for_pdq(image: Image.Image, min_side: int) -> Image.Image:
    """Decode `image` (freshly opened, not loaded) at reduced size, ready for `pdq_of_pixels`."""
    if image.format == "JPEG":
        # libjpeg picks the largest 1/8, 1/4, 1/2 scale keeping both sides >= min_side.
        image.draft("RGB", (min_side, min_side))
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    rgb = image.convert("RGB")
    factor = min(rgb.size) // min_side
    if factor >= 2:
        rgb = rgb.reduce(factor)
    if max(rgb.size) > PDQ_BOX:
        rgb.thumbnail((PDQ_BOX, PDQ_BOX), Image.Resampling.BICUBIC, reducing_gap=None)
    return rgb


def analyze_image(
    data: bytes | bytearray | memoryview, record: FileRecord, settings: ScanSettings
) -> None:
    """Fill in dimensions, EXIF and PDQ on `record`; problems become the record's issues."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our limit decides
            image = Image.open(io.BytesIO(data))
            record.width, record.height = image.size
    except Image.DecompressionBombError as exc:
        record.add_issue(IssueCode.DECOMPRESSION_BOMB, f"not decoded: {exc}")
        return
    except Exception as exc:  # decoders raise many types on hostile input
        record.add_issue(IssueCode.CORRUPT_IMAGE, f"not a readable image: {_describe(exc)}")
        return
    with image:
        try:
            read_exif(image, record)
        except Exception as exc:  # EXIF blocks are attacker-controlled bytes
            record.add_issue(IssueCode.EXIF_UNREADABLE, f"EXIF could not be read: {_describe(exc)}")
        pixels = image.size[0] * image.size[1]
        limit = (
            settings.max_image_pixels
            if image.format == "JPEG"
            else min(settings.max_image_pixels, settings.max_full_decode_pixels)
        )
        if pixels > limit:
            record.add_issue(
                IssueCode.DECOMPRESSION_BOMB,
                f"{image.size[0]}×{image.size[1]} = {pixels:,} pixels exceeds the limit of "
                f"{limit:,}; not decoded (possible decompression bomb)",
            )
            return
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                result = pdq_of_pixels(reduced_for_pdq(image, settings.pdq_min_side))
        except Exception as exc:
            record.add_issue(
                IssueCode.CORRUPT_IMAGE, f"image could not be decoded: {_describe(exc)}"
            )
            return
    record.pdq, record.pdq_quality = result.hex, result.quality


def read_exif(image: Image.Image, record: FileRecord) -> None:
    exif = image.getexif()
    if not exif:
        return
    record.exif_make = _text(exif.get(_EXIF_MAKE))
    record.exif_model = _text(exif.get(_EXIF_MODEL))
    record.exif_software = _text(exif.get(_EXIF_SOFTWARE))
    sub = exif.get_ifd(_EXIF_IFD)
    taken = _text(sub.get(_DATETIME_ORIGINAL)) or _text(exif.get(_EXIF_DATETIME))
    record.exif_datetime = _exif_time(taken)
    record.exif_offset = _text(sub.get(_OFFSET_TIME_ORIGINAL))
    gps = exif.get_ifd(_GPS_IFD)
    if gps:
        lat = _degrees(gps.get(2), gps.get(1), "S", 90.0)
        lon = _degrees(gps.get(4), gps.get(3), "W", 180.0)
        if lat is not None and lon is not None:
            record.gps_lat, record.gps_lon = lat, lon


def _degrees(value: Any, ref: Any, negative: str, bound: float) -> float | None:
    """EXIF degrees/minutes/seconds rationals to signed decimal degrees, or None if nonsense."""
    try:
        d, m, s = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = d + m / 60.0 + s / 3600.0
    if not math.isfinite(result) or result > bound or min(d, m, s) < 0:
        return None
    if _text(ref) and str(_text(ref)).upper().startswith(negative):
        result = -result
    return round(result, 7)


def _exif_time(text: str | None) -> str | None:
    # "2024:05:01 10:00:00" -> "2024-05-01T10:00:00"; keep anything else as the camera wrote it.
    if text and len(text) >= 19 and text[4] == ":" and text[7] == ":" and text[10] == " ":
        return f"{text[:4]}-{text[5:7]}-{text[8:10]}T{text[11:19]}"
    return text


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).replace("\x00", "").strip()
    return text[:200] or None


def _describe(exc: BaseException) -> str:
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
