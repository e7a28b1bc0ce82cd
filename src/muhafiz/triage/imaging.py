"""Images: PDQ hash and quality as the reference computes them, and the EXIF fields we read.

Hash banks hold PDQ hashes computed the reference way: `pdqhash.compute` on the fully decoded
image (python-threatexchange, HMA). Decoding a 12-megapixel JPEG in full costs ~10x what hashing
needs, so JPEGs are decoded reduced (libjpeg's DCT scaling, `Image.draft`) and the reference's
own down-sampling is computed on the reduced pixels: PDQ blurs the luma with two passes of box
filters (Jarosz) and samples a 64x64 grid; that is a fixed linear map, separable into a 64xH
and a 64xW weight matrix (`_jarosz_weights`). A 1/s-scale decode holds the s x s block means of
the full decode, so the weights are summed over each block and applied to the reduced luma. What
the block means cannot carry is texture inside a block; a hash whose DCT coefficients sit too
close to their median for that error (`_pdq_of_reduced_jpeg`) is computed again from a decode
twice as large, down to the full decode. Other formats are decoded in full and hashed by
`pdqhash` itself. docs/decisions/0102-pdq-agrees-with-the-reference.md has the measurements.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image, ImageFile

from muhafiz.banks.index.pdq import MIN_PDQ_QUALITY
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

PDQ_BOX = 512  # the reference CLI's resize target (video frames are shrunk to fit it)
PDQ_MIN_PIXELS = 5  # under 5 px in either dimension PDQ has no hash (quality 0)
PDQ_GRID = 64  # PDQ samples the blurred luma on a 64x64 grid
# A reduced JPEG decode keeps at least this many pixels on its short side (about 5 per grid
# cell): 1/8 for a 12-megapixel photo, 1/4 for a 6-megapixel one. Measured in the decision.
PDQ_MIN_REDUCED_SIDE = 320
# A hash from a reduced decode is kept when at most this many of its 256 coefficients are
# closer to the median than the estimated error of the reduced decode; else the decode doubles.
PDQ_MAX_UNSURE_BITS = 8

_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # the reference's RGB -> luma
_EXIF_MAKE, _EXIF_MODEL, _EXIF_SOFTWARE, _EXIF_DATETIME = 0x010F, 0x0110, 0x0131, 0x0132
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _OFFSET_TIME_ORIGINAL = 0x9003, 0x9011

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class PdqResult:
    hex: str | None  # None when the image is too small to hash
    quality: int


class MemoryReader(io.RawIOBase):
    """A seekable read-only stream over bytes already in memory, without copying them
    (`io.BytesIO` copies anything but a `bytes` object: a 12-megapixel JPEG three times over)."""

    def __init__(self, view: memoryview) -> None:
        self._view = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), len(self._view) - self._pos)
        if n <= 0:
            return 0
        memoryview(buffer)[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        return n

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._view)}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def open_image(data: bytes | bytearray | memoryview) -> Image.Image:
    """Pillow's view of an image file's bytes, without a copy of them."""
    if isinstance(data, bytes):
        return Image.open(io.BytesIO(data))  # shares the bytes object
    view = memoryview(data).cast("B")
    return Image.open(io.BufferedReader(MemoryReader(view), 64 * 1024))


def pdq_of_pixels(image: Image.Image) -> PdqResult:
    """PDQ of exactly these pixels (no resizing), via the reference C++ in `pdqhash`.

    For pixels already in memory (video frames, the full decode of a non-JPEG picture).
    """
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    return pdq_of_rgb(np.asarray(rgb))


def reduced_for_pdq(image: Image.Image, min_side: int) -> Image.Image:
    """Decode `image` reduced, ready for `pdq_of_pixels`: for video frames, which vPDQ hashes
    shrunk (formats.md). Pictures go through `pdq_of_encoded`, which agrees with the reference."""
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


def pdq_of_encoded(data: bytes | bytearray | memoryview) -> PdqResult:
    """PDQ of an image file's bytes, as the reference computes it on the full decode.

    The one PDQ function for files: `muhafiz scan`, the server's /api/v1/hash and HMA's /h/hash
    all call it. Raises what Pillow raises on a broken file; callers check size limits first.
    """
    with open_image(data) as image:
        size, reducible = image.size, _reducible_jpeg(image)
    if min(size) < PDQ_MIN_PIXELS:
        return PdqResult(None, 0)
    scale = _first_scale(size) if reducible else 1
    while scale > 1:
        result, stable = _pdq_of_reduced_jpeg(data, scale)
        if stable:
            return result
        scale //= 2
    with open_image(data) as image:
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)
        return pdq_of_pixels(image.convert("RGB"))


def _reducible_jpeg(image: Image.Image) -> bool:
    # One scan of YCbCr or grey samples: libjpeg scales it and hands out the luma directly.
    tiles = image.tile if isinstance(image, ImageFile.ImageFile) else []
    return image.format == "JPEG" and image.mode in {"RGB", "L"} and len(tiles) == 1


def _first_scale(size: tuple[int, int]) -> int:
    short = min(size)
    return next((s for s in (8, 4, 2) if short // s >= PDQ_MIN_REDUCED_SIDE), 1)


def _pdq_of_reduced_jpeg(
    data: bytes | bytearray | memoryview, scale: int
) -> tuple[PdqResult, bool]:
    """PDQ from a 1/`scale` decode, and whether the hash is stable against the reduction."""
    with open_image(data) as image:
        width, height = image.size
        image.draft("L", (width // scale, height // scale))
        got = _scale_of(image.size, (width, height))
        luma = _luma(image)
    return _pdq_of_reduced_luma(luma, (width, height), got)


def reduction_for(size: tuple[int, int]) -> int:
    """The first reduction (8, 4, 2 or 1) to hash a picture or frame of `size` from."""
    return _first_scale(size)


def pdq_of_reduced_rgb(
    rgb: npt.NDArray[np.uint8], full: tuple[int, int], scale: int
) -> tuple[PdqResult, bool]:
    """PDQ of a picture of `full` (width, height) pixels from its 1/`scale` reduction (each
    pixel the mean of a `scale` x `scale` block, as an H x W x 3 array), as the reference
    computes it on the full pixels; and whether the hash is stable against the reduction (if
    not, hash the full pixels with `pdq_of_rgb`). For video frames, which FFmpeg reduces."""
    luma: F32 = np.asarray(rgb, dtype=np.float32) @ _LUMA
    return _pdq_of_reduced_luma(luma, full, scale)


def pdq_of_rgb(rgb: npt.NDArray[np.uint8]) -> PdqResult:
    """PDQ of full pixels (an H x W x 3 array), by the reference C++ in `pdqhash`."""
    if min(rgb.shape[:2]) < PDQ_MIN_PIXELS:
        return PdqResult(None, 0)
    bits, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return PdqResult(np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality))


def _pdq_of_reduced_luma(luma: F32, full: tuple[int, int], got: int) -> tuple[PdqResult, bool]:
    width, height = full
    coefficients, quality = _dct_of_grid(_grid(luma, (width, height), got))
    # The error of the reduction, estimated from the step one reduction coarser (2x2 means of
    # these pixels); the error of this step is smaller, so the test errs on the safe side.
    h2, w2 = luma.shape[0] // 2 * 2, luma.shape[1] // 2 * 2
    coarser = (
        luma[0:h2:2, 0:w2:2] + luma[1:h2:2, 0:w2:2] + luma[0:h2:2, 1:w2:2] + luma[1:h2:2, 1:w2:2]
    ) * np.float32(0.25)
    rough, rough_quality = _dct_of_grid(_grid(coarser, (width, height), 2 * got))
    median = _median(coefficients)
    unsure = np.count_nonzero(np.abs(coefficients - median) < np.abs(coefficients - rough))
    # Quality decides whether the hash is matched at all: near the floor it must be right too.
    near_floor = abs(quality - MIN_PDQ_QUALITY) <= max(2, 2 * abs(quality - rough_quality))
    stable = unsure <= PDQ_MAX_UNSURE_BITS and not near_floor
    return PdqResult(_hex_of(coefficients, median), quality), bool(stable)


def _grid(luma: F32, full: tuple[int, int], scale: int) -> F32:
    """The reference's 64x64 blurred, sampled luma, from a 1/`scale` reduction of the image."""
    rows = _jarosz_weights(full[1], scale)[:, : luma.shape[0]]
    cols = _jarosz_weights(full[0], scale)[:, : luma.shape[1]]
    grid: F32 = np.asarray(rows @ luma @ cols.T, dtype=np.float32)
    return grid


def _scale_of(reduced: tuple[int, int], full: tuple[int, int]) -> int:
    for s in (1, 2, 4, 8):
        if reduced == (-(-full[0] // s), -(-full[1] // s)):
            return s
    raise ValueError(f"unexpected reduced size {reduced} of {full}")


def _luma(image: Image.Image) -> F32:
    if image.mode == "L":  # libjpeg's Y: the same weights as the reference's luma
        return np.asarray(image, dtype=np.float32)
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    luma: F32 = rgb @ _LUMA
    return luma


@lru_cache(maxsize=64)
def _jarosz_weights(length: int, scale: int) -> F32:
    """The reference's blur-and-sample along one axis of `length` pixels, as a 64 x n matrix.

    Two passes of the reference's box filter (window (length + 127) // 128, shrinking at the
    edges), then the sample at int((i + 0.5) * length / 64); with `scale` > 1 the weights of each
    block of `scale` pixels are summed, to apply to a 1/`scale` decode.
    """
    window = (length + 2 * PDQ_GRID - 1) // (2 * PDQ_GRID)
    picks = ((np.arange(PDQ_GRID) + 0.5) * length / PDQ_GRID).astype(np.int64)
    rows = np.zeros((PDQ_GRID, length), dtype=np.float64)
    rows[np.arange(PDQ_GRID), picks] = 1.0
    weights = _box_transposed(_box_transposed(rows, window), window)
    blocks = -(-length // scale)
    padded = np.zeros((PDQ_GRID, blocks * scale), dtype=np.float64)
    padded[:, :length] = weights
    summed: F32 = padded.reshape(PDQ_GRID, blocks, scale).sum(axis=2).astype(np.float32)
    return summed


def _box_transposed(rows: F64, window: int) -> F64:
    """`rows @ B` for the reference's box filter B: out[o] = mean of in[o - window + half ...
    o + half - 1], half = (window + 2) // 2, the window cut at both ends."""
    length = rows.shape[1]
    half = (window + 2) // 2
    o = np.arange(length)
    lo = np.maximum(0, o - (window - half))
    hi = np.minimum(length, o + half)
    # (rows @ B)[x] = sum over outputs o whose window holds x of rows[o] / (hi[o] - lo[o]).
    sums = np.concatenate(
        [np.zeros((rows.shape[0], 1)), np.cumsum(rows / (hi - lo), axis=1)], axis=1
    )
    first = np.searchsorted(hi, o, side="right")  # first output whose window reaches x
    after = np.searchsorted(lo, o, side="right")  # first output whose window starts after x
    result: F64 = sums[:, after] - sums[:, first]
    return result


@lru_cache(maxsize=1)
def _dct_matrix() -> F64:
    i = np.arange(1, 17)[:, None]
    j = np.arange(PDQ_GRID)[None, :]
    matrix: F64 = math.sqrt(2 / PDQ_GRID) * np.cos(math.pi / 2 / PDQ_GRID * i * (2 * j + 1))
    return matrix


def _dct_of_grid(grid: npt.NDArray[np.floating[Any]]) -> tuple[F64, int]:
    """The 16x16 DCT coefficients (flattened, row-major) and the quality of a 64x64 grid."""
    buffer = grid.astype(np.float64)
    dct = _dct_matrix()
    steps = (
        np.abs(np.trunc((buffer[:-1, :] - buffer[1:, :]) * 100 / 255)).sum()
        + np.abs(np.trunc((buffer[:, :-1] - buffer[:, 1:]) * 100 / 255)).sum()
    )
    quality = min(100, int(steps) // 90)
    coefficients: F64 = (dct @ buffer @ dct.T).ravel()
    return coefficients, quality


def _median(coefficients: F64) -> float:
    return float(np.partition(coefficients, 127)[127])  # Torben's median: the lower of the two


def _hex_of(coefficients: F64, median: float) -> str:
    bits = coefficients > median  # bit k = 16 i + j; the hex prints bit 255 first
    return np.packbits(bits[::-1].astype(np.uint8)).tobytes().hex()


def analyze_image(
    data: bytes | bytearray | memoryview, record: FileRecord, settings: ScanSettings
) -> None:
    """Fill in dimensions, EXIF and PDQ on `record`; problems become the record's issues."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our limit decides
            image = open_image(data)
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
                result = pdq_of_encoded(data)
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
