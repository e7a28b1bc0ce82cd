"""Matching a scan's records against hash banks, through `muhafiz.banks` (no parsing here)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from muhafiz.banks.match import Match, Matcher
from muhafiz.banks.model import BankKind, HashKind
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
        min_quality: int = 50,
    ) -> list[Match]: ...


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
    if not exact and record.pdq is None:
        return []
    found = matcher.match(
        md5=record.md5 if exact else None,
        sha1=record.sha1 if exact else None,
        sha256=record.sha256 if exact else None,
        pdq=record.pdq,
        pdq_quality=record.pdq_quality,
        max_distance=settings.max_distance,
        min_quality=settings.min_quality,
    )
    return [_row(record, m) for m in found]


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
