"""Every setting that shapes a scan's records; all of them are written into the scan file."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

from muhafiz.banks.index.pdq import MIN_PDQ_QUALITY

MiB = 1024 * 1024
GiB = 1024 * MiB


@dataclass(frozen=True)
class ScanSettings:
    # Near matching (formats.md: distance <= 31, quality >= 50).
    max_distance: int = 31
    min_quality: int = MIN_PDQ_QUALITY
    # PDQ on a reduced decode: the JPEG DCT scaling keeps the short side at least this long.
    pdq_min_side: int = 256
    # Images above this many pixels are decompression bombs and are not decoded (they are still
    # hashed). JPEGs are decoded at reduced scale, so the limit is Pillow's, not memory's.
    max_image_pixels: int = 178_956_970  # Pillow's own hard limit with its default settings
    # Formats decoded in full (PNG, TIFF, ...) are limited further: memory is 3 bytes a pixel.
    max_full_decode_pixels: int = 100_000_000
    # Images (and nested archives) up to this size are held in memory once for decoding.
    max_in_memory_bytes: int = 256 * MiB
    # Archives: nesting depth, expanded bytes per top-level file, and compression ratio.
    max_archive_depth: int = 5
    max_expanded_bytes: int = 64 * GiB
    max_compression_ratio: int = 1000
    # Ratios are only judged on members at least this large: tiny members compress oddly.
    ratio_min_bytes: int = 1 * MiB
    # A disk image or Cellebrite extraction inside an archive is copied to a private temporary
    # file to be opened (`triage.spool`), up to this size; a larger one is hashed, not opened.
    max_spool_bytes: int = 64 * GiB
    # Near-duplicate clustering of the scan's own PDQ hashes.
    cluster_distance: int = 31
    # vPDQ (formats.md): one frame hash per this many seconds of video; a whole-video match is
    # accepted when either side's share of matching frames reaches the percentage.
    video_seconds_per_hash: float = 1.0
    video_accept_percent: float = 80.0
    # Decoder threads per video. Workers already run one video each, so 1 is the default; a
    # single-worker scan of a few long videos goes faster with 2-4.
    video_threads: int = 1

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ScanSettings:
        data: dict[str, Any] = json.loads(text)
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
