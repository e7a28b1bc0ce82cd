"""The one write of the insights app: rebuild every summary table, audited.

Run by the periodic job (`tasks.refresh_summaries_task`, `manage refresh_insights`) as the
system, and on demand by a person holding JOB_MANAGE (the administrator) from the staff
statistics page. The tables are replaced in one transaction, so readers see the old figures or
the new ones, never half of each. The staff summary rows are written inside the database
(`build.write_summaries`); only the public cells, added up per district, come into Python for
the suppression.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from muhafiz.audit.actions import record
from muhafiz.core.permissions import Perm, check_perm, user_pk
from muhafiz.insights.build import published_inputs, write_summaries
from muhafiz.insights.models import (
    OverdueBoard,
    OverdueCount,
    OverdueDuration,
    PublishedCell,
    PublishedDuration,
    SummaryRefresh,
)
from muhafiz.insights.overdue import build_boards, build_counts, build_durations
from muhafiz.insights.publish import (
    Geography,
    cell_values,
    published_cells,
    published_durations,
)
from muhafiz.insights.selectors import forget_generation

BATCH = 5000


def refresh_summaries(actor: Any, *, request: HttpRequest | None = None) -> SummaryRefresh:
    """Recompute the summary tables and the published cells from the current data."""
    check_perm(actor, Perm.JOB_MANAGE)
    started = timezone.now()
    clock = time.perf_counter()
    overdue_counts, overdue_durations = build_counts(), build_durations()
    geo = Geography.load()
    with transaction.atomic():
        _replace_overdue(overdue_counts, overdue_durations)
        written = write_summaries(BATCH)
        counts, durations, powers = published_inputs()
        values, lines = cell_values(counts, powers, geo)
        cells = published_cells(values, lines)
        published = published_durations(durations, geo)
        PublishedCell.objects.all().delete()
        PublishedDuration.objects.all().delete()
        PublishedCell.objects.bulk_create(cells, batch_size=BATCH)
        PublishedDuration.objects.bulk_create(published, batch_size=BATCH)
        rows = written.rows + len(overdue_counts) + len(overdue_durations)
        finished = _replace_boards(overdue_counts, overdue_durations)
        refresh = SummaryRefresh.objects.create(
            started_at=started,
            finished_at=finished,
            requested_by_id=user_pk(actor),
            cases_counted=written.cases_counted,
            cases_left_out=written.cases_left_out,
            rows=rows + len(cells) + len(published),
            seconds=round(time.perf_counter() - clock, 3),
        )
        record(
            actor,
            "insights.refresh",
            refresh,
            request=request,
            cases_counted=refresh.cases_counted,
            cases_left_out=refresh.cases_left_out,
            rows=refresh.rows,
        )
    forget_generation()
    return refresh


def _replace_overdue(counts: list[OverdueCount], durations: list[OverdueDuration]) -> None:
    OverdueCount.objects.all().delete()
    OverdueDuration.objects.all().delete()
    OverdueCount.objects.bulk_create(counts, batch_size=BATCH)
    OverdueDuration.objects.bulk_create(durations, batch_size=BATCH)


def _replace_boards(counts: list[OverdueCount], durations: list[OverdueDuration]) -> Any:
    """Each jurisdiction's overdue dashboard, added up once here (one row read per page view);
    returns the moment they stand for, which the refresh records as its end."""
    boards = build_boards(counts, durations)
    finished = timezone.now()
    for board in boards:
        board.as_of = finished
    OverdueBoard.objects.all().delete()
    OverdueBoard.objects.bulk_create(boards, batch_size=BATCH)
    return finished


def refresh_overdue(actor: Any, *, request: HttpRequest | None = None) -> SummaryRefresh:
    """Rebuild only the overdue dashboard's tables: a few GROUP BYs over the clocks, quick
    enough to run right after each clock job (`refresh_insights --overdue`)."""
    check_perm(actor, Perm.JOB_MANAGE)
    started = timezone.now()
    clock = time.perf_counter()
    counts, durations = build_counts(), build_durations()
    with transaction.atomic():
        _replace_overdue(counts, durations)
        finished = _replace_boards(counts, durations)
        refresh = SummaryRefresh.objects.create(
            started_at=started,
            finished_at=finished,
            requested_by_id=user_pk(actor),
            cases_counted=0,
            cases_left_out=0,
            rows=len(counts) + len(durations),
            seconds=round(time.perf_counter() - clock, 3),
            overdue=True,
            statistics=False,
        )
        record(actor, "insights.refresh_overdue", refresh, request=request, rows=refresh.rows)
    return refresh
