"""Statutory deadline arithmetic: pure functions of a start time, a rule and a holiday calendar.

Nothing here reads the database or the system clock; callers pass `now` and the holidays, so every
rule can be tested with a controlled clock. Times are aware datetimes; day-based limits are
counted in Pakistan's local time (Asia/Karachi, UTC+5, no daylight saving).

Conventions (General Clauses Act 1897 s.9: the day of the starting event is excluded):
- hours: an exact span from the start (FIR within 2 hours of the report);
- days: the deadline is the end of the Nth local day after the start day;
- business days: the end of the Nth working day after the start day, skipping Saturdays,
  Sundays and the holidays in the calendar (Friday is a working day, half-day or not);
- months: the end of the same day number N months later, or of the month's last day when that
  month is shorter (31 January + 1 month = 28 or 29 February).
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

PAKISTAN = ZoneInfo("Asia/Karachi")
WEEKEND = frozenset({5, 6})  # Saturday, Sunday: government offices' weekend since 2022


class Unit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    BUSINESS_DAYS = "business_days"
    MONTHS = "months"


class ClockState(StrEnum):
    PENDING = "pending"
    DUE_SOON = "due_soon"
    MISSED = "missed"
    MET = "met"
    MET_LATE = "met_late"


OPEN_STATES = frozenset({ClockState.PENDING, ClockState.DUE_SOON, ClockState.MISSED})
# States that someone must be told about, once each.
ALERT_STATES = frozenset({ClockState.DUE_SOON, ClockState.MISSED})


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("clock times must be timezone-aware")


def end_of_local_day(day: date, tz: ZoneInfo = PAKISTAN) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz)


def is_business_day(day: date, holidays: Collection[date]) -> bool:
    return day.weekday() not in WEEKEND and day not in holidays


def add_business_days(day: date, count: int, holidays: Collection[date]) -> date:
    """The `count`-th working day after `day` (`day` itself never counts)."""
    if count < 0:
        raise ValueError("a limit cannot be negative")
    current = day
    remaining = count
    while remaining:
        current += timedelta(days=1)
        if is_business_day(current, holidays):
            remaining -= 1
    return current


def add_months(day: date, months: int) -> date:
    """The same day number `months` later, clamped to the end of a shorter month."""
    if months < 0:
        raise ValueError("a limit cannot be negative")
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def statutory_deadline(
    start: datetime,
    amount: int,
    unit: str,
    holidays: Collection[date] = (),
    tz: ZoneInfo = PAKISTAN,
) -> datetime:
    """When a clock that started at `start` with a limit of `amount` `unit` runs out."""
    _require_aware(start)
    if amount < 0:
        raise ValueError("a limit cannot be negative")
    unit = Unit(unit)
    if unit is Unit.HOURS:
        return start + timedelta(hours=amount)
    local_day = start.astimezone(tz).date()
    if unit is Unit.DAYS:
        return end_of_local_day(local_day + timedelta(days=amount), tz)
    if unit is Unit.BUSINESS_DAYS:
        return end_of_local_day(add_business_days(local_day, amount, holidays), tz)
    return end_of_local_day(add_months(local_day, amount), tz)


def due_soon_moment(start: datetime, deadline: datetime, fraction: float) -> datetime:
    """The moment after which a running clock counts as nearly due."""
    _require_aware(start)
    fraction = min(max(fraction, 0.0), 1.0)
    return start + (deadline - start) * fraction


def clock_state(
    *,
    due_at: datetime,
    due_soon_at: datetime,
    stopped_at: datetime | None,
    now: datetime,
) -> ClockState:
    """Where a clock stands at `now`. A stopped clock is met, or met late after its deadline."""
    _require_aware(now)
    if stopped_at is not None:
        return ClockState.MET if stopped_at <= due_at else ClockState.MET_LATE
    if now > due_at:
        return ClockState.MISSED
    if now >= due_soon_at:
        return ClockState.DUE_SOON
    return ClockState.PENDING


@dataclass(frozen=True, slots=True)
class Deadline:
    started_at: datetime
    due_at: datetime
    due_soon_at: datetime


def deadline_for(
    start: datetime,
    amount: int,
    unit: str,
    due_soon_fraction: float,
    holidays: Collection[date] = (),
) -> Deadline:
    due = statutory_deadline(start, amount, unit, holidays)
    return Deadline(start, due, due_soon_moment(start, due, due_soon_fraction))
