"""Hashing an uploaded image in memory: MD5, SHA-1, SHA-256 and PDQ with its quality.

The upload is read into memory (or Django's temporary upload file) and never written anywhere
else. PDQ follows formats.md and the triage engine's method: a reduced decode (JPEG DCT scaling,
short side kept at least 256 px), shrunk to fit 512×512 like the reference CLI, then the
reference C++ via `pdqhash`; so the server and a field laptop give (nearly) the same hash.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

import numpy as np
import pdqhash
from PIL import Image, UnidentifiedImageError

PDQ_MIN_SIDE = 256  # short side kept ≥ 256 px in the reduced decode (as triage does)
PDQ_BOX = 512  # the reference CLI's resize target
PDQ_MIN_PIXELS = 5  # under 5 px in either dimension PDQ has no hash
MAX_IMAGE_PIXELS = 100_000_000  # beyond this a picture is refused as a possible bomb


class ImageError(ValueError):
    """The upload is not an image that can be hashed; the message says why."""


@dataclass(frozen=True)
class ContentHashes:
    md5: str
    sha1: str
    sha256: str
    pdq: str | None
    pdq_quality: int | None
    size: int


def hash_image(data: bytes) -> ContentHashes:
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    sha1 = hashlib.sha1(data, usedforsecurity=False).hexdigest()
    sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        raise ImageError("the uploaded file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            image = Image.open(io.BytesIO(data))
            width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageError(
                    f"image of {width}×{height} pixels is larger than "
                    f"{MAX_IMAGE_PIXELS:,} pixels (possible decompression bomb)"
                )
            with image:
                pdq, quality = _pdq(image)
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Warning) as exc:
        raise ImageError(f"not a readable image: {exc}") from exc
    except Exception as exc:  # decoders raise many types on hostile input
        raise ImageError(f"not a readable image: {type(exc).__name__}") from exc
    return ContentHashes(md5, sha1, sha256, pdq, quality, len(data))


def _pdq(image: Image.Image) -> tuple[str | None, int]:
    if image.format == "JPEG":
        image.draft("RGB", (PDQ_MIN_SIDE, PDQ_MIN_SIDE))
    if getattr(image, "n_frames", 1) > 1:
        image.seek(0)
    rgb = image.convert("RGB")
    factor = min(rgb.size) // PDQ_MIN_SIDE
    if factor >= 2:
        rgb = rgb.reduce(factor)
    if max(rgb.size) > PDQ_BOX:
        rgb.thumbnail((PDQ_BOX, PDQ_BOX), Image.Resampling.BICUBIC, reducing_gap=None)
    if min(rgb.size) < PDQ_MIN_PIXELS:
        return None, 0
    bits, quality = pdqhash.compute(np.asarray(rgb))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)
