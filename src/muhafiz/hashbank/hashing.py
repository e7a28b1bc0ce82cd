"""Hashing an uploaded image in memory: MD5, SHA-1, SHA-256 and PDQ with its quality.

The upload is read into memory (or Django's temporary upload file) and never written anywhere
else. PDQ is triage's own function (`muhafiz.triage.imaging.pdq_of_encoded`), which agrees with
the reference tools' hash of the full decode: the server, HMA's /h/hash and a field laptop's
`muhafiz scan` give the same hash for the same file.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from muhafiz.triage.imaging import pdq_of_encoded

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
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
            if width * height > MAX_IMAGE_PIXELS:
                raise ImageError(
                    f"image of {width}×{height} pixels is larger than "
                    f"{MAX_IMAGE_PIXELS:,} pixels (possible decompression bomb)"
                )
            result = pdq_of_encoded(data)
    except ImageError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Warning) as exc:
        raise ImageError(f"not a readable image: {exc}") from exc
    except Exception as exc:  # decoders raise many types on hostile input
        raise ImageError(f"not a readable image: {type(exc).__name__}") from exc
    return ContentHashes(md5, sha1, sha256, result.hex, result.quality, len(data))
