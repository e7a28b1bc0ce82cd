"""The pure deadline arithmetic: hours, calendar days, business days and months, in Lahore time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from muhafiz.proceedings.clocks import (
    ClockState,
    add_business_days,
    add_months,
    clock_state,
    deadline_for,
    due_soon_moment,
    statutory_deadline,
)
from muhafiz.proceedings.holidays import shipped_holidays
from muhafiz.proceedings.tests.conftest import START, end_of_day, pk_time

HOLIDAYS_2026 = frozenset(date.fromisoformat(row["date"]) for row in shipped_holidays())


def test_hours_are_an_exact_span_even_across_midnight() -> None:
    assert statutory_deadline(START, 2, "hours") == pk_time(2026, 3, 20, 18, 0)
    assert statutory_deadline(pk_time(2026, 3, 20, 23, 30), 2, "hours") == pk_time(
        2026, 3, 21, 1, 30
    )


def test_days_are_counted_in_lahore_time_not_utc() -> None:
    # 02:00 in Lahore is still the previous day in UTC; the count starts from the local day.
    start = pk_time(2026, 3, 20, 2, 0)
    assert start.astimezone(UTC).date() == date(2026, 3, 19)
    assert statutory_deadline(start, 14, "days") == end_of_day(2026, 4, 3)


def test_day_of_the_event_is_excluded_and_the_last_day_runs_to_its_end() -> None:
    assert statutory_deadline(START, 1, "days") == end_of_day(2026, 3, 21)


def test_business_days_skip_the_weekend_and_pakistan_day() -> None:
    # Friday 20 March → Sat, Sun (weekend), Mon 23 March (Pakistan Day) do not count.
    assert add_business_days(date(2026, 3, 20), 3, HOLIDAYS_2026) == date(2026, 3, 26)
    assert add_business_days(date(2026, 3, 20), 3, frozenset()) == date(2026, 3, 25)
    assert statutory_deadline(START, 1, "business_days", HOLIDAYS_2026) == end_of_day(2026, 3, 24)


def test_friday_is_a_business_day_but_independence_day_is_not() -> None:
    assert add_business_days(date(2026, 2, 4), 1, HOLIDAYS_2026) == date(2026, 2, 6)  # Kashmir Day
    assert add_business_days(date(2026, 8, 12), 1, HOLIDAYS_2026) == date(2026, 8, 13)  # a Thursday
    assert add_business_days(date(2026, 8, 13), 1, HOLIDAYS_2026) == date(2026, 8, 17)


@pytest.mark.parametrize(
    ("start", "months", "due"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),  # a leap year
        (date(2026, 10, 31), 4, date(2027, 2, 28)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 3, 20), 4, date(2026, 7, 20)),
    ],
)
def test_months_keep_the_day_number_or_clamp_to_month_end(
    start: date, months: int, due: date
) -> None:
    assert add_months(start, months) == due


def test_a_naive_start_time_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        statutory_deadline(datetime(2026, 3, 20, 16, 0), 2, "hours")  # noqa: DTZ001


def test_an_unknown_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="fortnights"):
        statutory_deadline(START, 2, "fortnights")


def test_due_soon_falls_at_the_fraction_of_the_limit() -> None:
    due = START + timedelta(hours=24)
    assert due_soon_moment(START, due, 0.75) == START + timedelta(hours=18)


@pytest.mark.parametrize(
    ("now_offset_hours", "stopped_offset_hours", "state"),
    [
        (1, None, ClockState.PENDING),
        (18, None, ClockState.DUE_SOON),
        (24, None, ClockState.DUE_SOON),  # the deadline itself is still in time
        (25, None, ClockState.MISSED),
        (30, 20, ClockState.MET),
        (30, 26, ClockState.MET_LATE),
    ],
)
def test_clock_states(
    now_offset_hours: int, stopped_offset_hours: int | None, state: ClockState
) -> None:
    deadline = deadline_for(START, 24, "hours", 0.75)
    stopped = (
        None if stopped_offset_hours is None else START + timedelta(hours=stopped_offset_hours)
    )
    now = START + timedelta(hours=now_offset_hours)
    assert (
        clock_state(
            due_at=deadline.due_at,
            due_soon_at=deadline.due_soon_at,
            stopped_at=stopped,
            now=now,
        )
        is state
    )
