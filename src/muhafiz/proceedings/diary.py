"""The court diary: each open case's next hearing, per court and per prosecutor, as a list, a
week and an iCalendar file.

A diary entry carries the case reference, the court, the stage and the count of adjournments:
never a victim (no code, no name) and never an accused's identity, so the .ics file can sit in a
calendar program outside the platform.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from muhafiz.cases.models import Case, CaseStatus, TeamRole
from muhafiz.core.permissions import Perm, case_scope
from muhafiz.proceedings.models import CaseProgress


@dataclass(frozen=True)
class DiaryFilter:
    court_id: int | None = None
    prosecutor_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive


def hearings(principal: Any, filters: DiaryFilter) -> QuerySet[CaseProgress]:
    """Open cases the person may see that have a next hearing fixed, soonest first."""
    rows = CaseProgress.objects.filter(
        case_scope(principal, Perm.CASE_VIEW),
        case__status=CaseStatus.OPEN,
        next_hearing_at__isnull=False,
    )
    if filters.court_id:
        rows = rows.filter(court_id=filters.court_id)
    if filters.prosecutor_id:
        rows = rows.filter(
            case_id__in=Case.objects.filter(
                team__user_id=filters.prosecutor_id, team__team_role=TeamRole.PROSECUTOR
            ).values("pk")
        )
    if filters.since:
        rows = rows.filter(next_hearing_at__gte=filters.since)
    if filters.until:
        rows = rows.filter(next_hearing_at__lt=filters.until)
    return rows.select_related("case", "court").order_by("next_hearing_at", "pk")


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True)
class DiaryDay:
    day: date
    hearings: list[CaseProgress]


def week(principal: Any, filters: DiaryFilter, monday: date) -> list[DiaryDay]:
    """Seven days from `monday`, each with its hearings."""
    rows = list(
        hearings(
            principal,
            DiaryFilter(
                court_id=filters.court_id,
                prosecutor_id=filters.prosecutor_id,
                since=local_midnight(monday),
                until=local_midnight(monday + timedelta(days=7)),
            ),
        )
    )
    days = [DiaryDay(monday + timedelta(days=n), []) for n in range(7)]
    for row in rows:
        assert row.next_hearing_at is not None
        index = (timezone.localtime(row.next_hearing_at).date() - monday).days
        if 0 <= index < 7:
            days[index].hearings.append(row)
    return days


# --- iCalendar (RFC 5545) -----------------------------------------------------------------------

HEARING_LENGTH = timedelta(hours=1)


def _text(value: str) -> str:
    """An RFC 5545 TEXT value: backslash, semicolon, comma and newlines escaped."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 3.1)."""
    encoded = line.encode()
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        piece = char.encode()
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += piece
    parts.append(current.decode())
    return "\r\n ".join(parts)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def ical(rows: Iterable[CaseProgress], *, host: str, now: datetime | None = None) -> str:
    """The hearings as an iCalendar file: one event per case's next hearing, named by the case
    reference and its court, with its stage and adjournments; no person's identity."""
    now = now or timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Muhafiz//Court diary//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "X-WR-CALNAME:Muhafiz court diary",
    ]
    for row in rows:
        start = row.next_hearing_at
        if start is None:
            continue
        court = row.court.name if row.court else ""
        summary = f"Hearing {row.case.reference}" + (f" — {court}" if court else "")
        description = (
            f"Case {row.case.reference}. Stage: {row.get_stage_display()}. "
            f"Adjournments so far: {row.adjournments}."
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:hearing-{row.case_id}-{_stamp(start)}@{host}",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART:{_stamp(start)}",
            f"DTEND:{_stamp(start + HEARING_LENGTH)}",
            f"SUMMARY:{_text(summary)}",
            f"DESCRIPTION:{_text(description)}",
        ]
        if court:
            lines.append(f"LOCATION:{_text(court)}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
