"""Whole-video matching with vPDQ: a query video's frame hashes against the videos in the banks.

Videos are unordered sets of unique frame hashes. Frames of quality below the floor (black
frames, fades) are dropped first, since they match everything. A query frame matches a bank
video when any of that video's frames is within the PDQ distance. query-match % = matched
query frames ÷ query frames; compared-match % = matched bank frames ÷ that video's frames in
the bank. A video is accepted when either side reaches the threshold (80 % by default).
Bank frames name their video with a `video:<name>` tag (the vPDQ reader sets it); frames
without one count as one video per bank.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from muhafiz.banks.formats.vpdq import video_of
from muhafiz.banks.index.pdq import MATCH_DISTANCE
from muhafiz.banks.match import MIN_PDQ_QUALITY, Matcher
from muhafiz.banks.model import BankKind

ACCEPT_PERCENT = 80.0


@dataclass(frozen=True)
class VideoMatch:
    bank: str
    bank_kind: BankKind
    video: str
    query_match_percent: float
    compared_match_percent: float
    matched_query_frames: int
    matched_bank_frames: int
    accepted: bool
    # The query's frame hashes that matched (lowercase hex) and the largest frame distance.
    matched_query: tuple[str, ...] = ()
    max_distance: int = 0
    first_line: int = 0  # the bank video's first matching entry line, to cite it


def match_video(
    matcher: Matcher,
    frames: Sequence[tuple[str, int | None]],
    *,
    max_distance: int = MATCH_DISTANCE,
    min_quality: int = MIN_PDQ_QUALITY,
    accept_percent: float = ACCEPT_PERCENT,
    only_videos: bool = False,
) -> list[VideoMatch]:
    """Bank videos sharing frames with the query video `frames` ((pdq hex, quality) pairs),
    best first; `accepted` tells which pass the whole-video rule. With `only_videos`, bank
    entries that are not vPDQ frames (single pictures) are left to the caller."""
    query = sorted({pdq.lower() for pdq, quality in frames if (quality or 0) >= min_quality})
    if not query:
        return []
    per_frame = matcher.match_pdq_batch(query, max_distance=max_distance, min_quality=min_quality)
    matched_query: dict[tuple[str, str], set[int]] = defaultdict(set)
    matched_bank: dict[tuple[str, str], set[str]] = defaultdict(set)
    distances: dict[tuple[str, str], int] = defaultdict(int)
    lines: dict[tuple[str, str], int] = {}
    kinds: dict[str, BankKind] = {}
    for position, matches in enumerate(per_frame):
        for match in matches:
            if only_videos and "vpdq" not in match.entry.tags:
                continue
            key = (match.bank, video_of(match.entry))
            matched_query[key].add(position)
            matched_bank[key].add(str(match.entry.pdq))
            distances[key] = max(distances[key], match.distance)
            lines[key] = min(lines.get(key, match.entry.line), match.entry.line)
            kinds[match.bank] = match.bank_kind
    results = []
    for key, positions in matched_query.items():
        bank, video = key
        total = matcher.video_frame_count(bank, video, min_quality=min_quality)
        query_percent = 100.0 * len(positions) / len(query)
        compared_percent = 100.0 * len(matched_bank[key]) / total if total else 0.0
        results.append(
            VideoMatch(
                bank=bank,
                bank_kind=kinds[bank],
                video=video,
                query_match_percent=query_percent,
                compared_match_percent=compared_percent,
                matched_query_frames=len(positions),
                matched_bank_frames=len(matched_bank[key]),
                accepted=max(query_percent, compared_percent) >= accept_percent,
                matched_query=tuple(query[i] for i in sorted(positions)),
                max_distance=distances[key],
                first_line=lines[key],
            )
        )
    return sorted(
        results, key=lambda m: (-max(m.query_match_percent, m.compared_match_percent), m.bank)
    )
