"""The one write of the insights app: rebuild every summary table, audited.

Run by the periodic job (`tasks.refresh_summaries_task`, `manage refresh_insights`) as the
system, and on demand by a person holding JOB_MANAGE (the administrator) from the staff
statistics page. The tables are replaced in one transaction, so readers see the old figures or
the new ones, never half of each.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from muhafiz.audit.actions import record
from muhafiz.core.permissions import Perm, check_perm, user_pk
from muhafiz.insights.build import build
from muhafiz.insights.models import (
    OverdueCount,
    OverdueDuration,
    PowerUse,
    PublishedCell,
    PublishedDuration,
    SummaryCount,
    SummaryDuration,
    SummaryRefresh,
)
from muhafiz.insights.overdue import build_counts, build_durations
from muhafiz.insights.publish import (
    Geography,
    cell_values,
    published_cells,
    published_durations,
)

BATCH = 5000


def refresh_summaries(actor: Any, *, request: HttpRequest | None = None) -> SummaryRefresh:
    """Recompute the summary tables and the published cells from the current data."""
    check_perm(actor, Perm.JOB_MANAGE)
    started = timezone.now()
    clock = time.perf_counter()
    built = build()
    geo = Geography.load()
    values, lines = cell_values(built.counts, built.powers, geo)
    cells = published_cells(values, lines)
    durations = published_durations(built.durations, geo)
    overdue_counts, overdue_durations = build_counts(), build_durations()
    with transaction.atomic():
        _replace_overdue(overdue_counts, overdue_durations)
        for model in (
            SummaryCount,
            SummaryDuration,
            PowerUse,
            PublishedCell,
            PublishedDuration,
        ):
            model.objects.all().delete()
        SummaryCount.objects.bulk_create(built.counts, batch_size=BATCH)
        SummaryDuration.objects.bulk_create(built.durations, batch_size=BATCH)
        PowerUse.objects.bulk_create(built.powers, batch_size=BATCH)
        PublishedCell.objects.bulk_create(cells, batch_size=BATCH)
        PublishedDuration.objects.bulk_create(durations, batch_size=BATCH)
        rows = len(built.counts) + len(built.durations) + len(built.powers)
        rows += len(overdue_counts) + len(overdue_durations)
        refresh = SummaryRefresh.objects.create(
            started_at=started,
            finished_at=timezone.now(),
            requested_by_id=user_pk(actor),
            cases_counted=built.cases_counted,
            cases_left_out=max(built.cases_left_out, 0),
            rows=rows + len(cells) + len(durations),
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
    return refresh


def _replace_overdue(counts: list[OverdueCount], durations: list[OverdueDuration]) -> None:
    OverdueCount.objects.all().delete()
    OverdueDuration.objects.all().delete()
    OverdueCount.objects.bulk_create(counts, batch_size=BATCH)
    OverdueDuration.objects.bulk_create(durations, batch_size=BATCH)


def refresh_overdue(actor: Any, *, request: HttpRequest | None = None) -> SummaryRefresh:
    """Rebuild only the overdue dashboard's tables: a few GROUP BYs over the clocks, quick
    enough to run right after each clock job (`refresh_insights --overdue`)."""
    check_perm(actor, Perm.JOB_MANAGE)
    started = timezone.now()
    clock = time.perf_counter()
    counts, durations = build_counts(), build_durations()
    with transaction.atomic():
        _replace_overdue(counts, durations)
        refresh = SummaryRefresh.objects.create(
            started_at=started,
            finished_at=timezone.now(),
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
