"""Matching a scan's records against hash banks, through `muhafiz.banks` (no parsing here)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, cast

from muhafiz.banks.index.pdq import MIN_PDQ_QUALITY
from muhafiz.banks.match import Match, Matcher
from muhafiz.banks.model import BankKind, HashEntry, HashKind
from muhafiz.banks.video import match_video
from muhafiz.triage.records import FileRecord
from muhafiz.triage.scanfile import BankRow, MatchRow
from muhafiz.triage.settings import ScanSettings


class RecordMatcher(Protocol):
    """What the scan needs of a matcher; `muhafiz.banks.match.Matcher` provides it."""

    def match(
        self,
        *,
        md5: str | None = None,
        sha1: str | None = None,
        sha256: str | None = None,
        pdq: str | None = None,
        pdq_quality: int | None = None,
        max_distance: int = 31,
        min_quality: int = MIN_PDQ_QUALITY,
    ) -> list[Match]: ...

    def match_pdq_batch(
        self, pdqs: Sequence[str], *, max_distance: int = 31, min_quality: int = MIN_PDQ_QUALITY
    ) -> list[list[Match]]: ...

    def video_frame_count(self, bank: str, video: str, *, min_quality: int) -> int: ...


def load_matcher(bad: Sequence[Path], known_good: Sequence[Path]) -> tuple[Matcher, list[BankRow]]:
    """Load the banks; raises `muhafiz.banks.model.HashListError` naming the faulty line."""
    matcher = Matcher.from_paths(list(bad), list(known_good))
    rows = [
        BankRow(b.name, b.kind.value, str(b.path), b.format, b.sha256, b.entries)
        for b in matcher.banks
    ]
    return matcher, rows


def match_record(
    matcher: RecordMatcher, record: FileRecord, settings: ScanSettings
) -> list[MatchRow]:
    # The empty file's hashes sit in many lists and say nothing about content.
    exact = record.size is not None and record.size > 0
    rows = match_video_frames(matcher, record, settings) if record.video is not None else []
    if not exact and record.pdq is None:
        return rows
    found = matcher.match(
        md5=record.md5 if exact else None,
        sha1=record.sha1 if exact else None,
        sha256=record.sha256 if exact else None,
        pdq=record.pdq,
        pdq_quality=record.pdq_quality,
        max_distance=settings.max_distance,
        min_quality=settings.min_quality,
    )
    return [_row(record, m) for m in found] + rows


def match_video_frames(
    matcher: RecordMatcher, record: FileRecord, settings: ScanSettings
) -> list[MatchRow]:
    """A video's frames against the banks: whole known videos by the vPDQ rule (`vpdq`), and
    known pictures seen as one of its frames (`pdq-frame`). Rows name the matching time stamps
    of the query video, never a frame."""
    assert record.video is not None
    times: dict[str, list[float]] = {}
    for frame in record.video.frames:
        if frame.pdq is not None and frame.quality >= settings.min_quality:
            times.setdefault(frame.pdq, []).append(frame.seconds)
    if not times:
        return []
    hexes = sorted(times)
    rows: list[MatchRow] = []
    pictures: dict[tuple[str, HashEntry], tuple[Match, list[float]]] = {}
    per_frame = matcher.match_pdq_batch(
        hexes, max_distance=settings.max_distance, min_quality=settings.min_quality
    )
    for pdq, found in zip(hexes, per_frame, strict=True):
        for m in found:
            if "vpdq" in m.entry.tags:
                continue  # frames of known videos: judged as whole videos below
            key = (m.bank, m.entry)
            best, seconds = pictures.get(key, (m, []))
            pictures[key] = (best if best.distance <= m.distance else m, seconds + times[pdq])
    for m, seconds in pictures.values():
        row = _row(record, m)
        rows.append(dataclasses.replace(row, kind="pdq-frame", frame_times=_seconds_text(seconds)))
    videos = match_video(
        cast("Matcher", matcher),
        [(pdq, 100) for pdq in hexes],
        max_distance=settings.max_distance,
        min_quality=settings.min_quality,
        accept_percent=settings.video_accept_percent,
        only_videos=True,
    )
    for v in videos:
        if not v.accepted:
            continue
        seconds = [t for pdq in v.matched_query for t in times[pdq]]
        rows.append(
            MatchRow(
                source_id=record.source_id,
                path=record.path,
                bank=v.bank,
                bank_kind=BankKind(v.bank_kind).value,
                kind="vpdq",
                distance=v.max_distance,
                entry_line=v.first_line,
                entry_hash=v.video,
                category=None,
                series=None,
                note=(
                    f"{v.matched_query_frames} of this video's frames match "
                    f"{v.matched_bank_frames} of the known video's"
                ),
                frame_times=_seconds_text(seconds),
                query_percent=round(v.query_match_percent, 1),
                compared_percent=round(v.compared_match_percent, 1),
            )
        )
    return rows


# A match names at most this many time stamps (a scan file's text values are bounded; the first
# hours of a long video are plenty to find the place).
MAX_FRAME_TIMES = 5000


def _seconds_text(seconds: list[float]) -> str:
    return ",".join(f"{t:.3f}" for t in sorted(set(seconds))[:MAX_FRAME_TIMES])


def _row(record: FileRecord, m: Match) -> MatchRow:
    entry = m.entry
    entry_hash = {
        HashKind.MD5: entry.md5,
        HashKind.SHA1: entry.sha1,
        HashKind.SHA256: entry.sha256,
        HashKind.PDQ: entry.pdq,
    }.get(m.kind)
    return MatchRow(
        source_id=record.source_id,
        path=record.path,
        bank=m.bank,
        bank_kind=BankKind(m.bank_kind).value,
        kind=HashKind(m.kind).value,
        distance=int(m.distance),
        entry_line=entry.line,
        entry_hash=entry_hash or "",
        category=entry.category,
        series=entry.series,
        note=entry.note,
    )
