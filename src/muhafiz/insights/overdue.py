"""The staff overdue dashboard (proceedings' `/proceedings/dashboard/`) from summary tables.

Proceedings asks through its `dashboard_summary` hook; this module answers from `OverdueCount`
and `OverdueDuration`, which the summary job fills from proceedings' selectors (every case, as
the dashboard always counted: it is an operational view for supervisors, with no identity).
Reading a few thousand summary rows replaces aggregating every clock of the country on each
view. Filters by date (clocks started since/until) are answered live by proceedings, as are
the cases stalled longest (one indexed read).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q, Sum

from muhafiz.insights.build import DurationBin
from muhafiz.insights.measures import BIN_BOUND, percentile_hours
from muhafiz.insights.models import OverdueCount, OverdueDuration, SummaryRefresh
from muhafiz.insights.scope import summary_rows_scope
from muhafiz.proceedings import selectors as proceedings
from muhafiz.proceedings.clocks import ClockState


def build_counts() -> list[OverdueCount]:
    """Missed and nearly-due running clocks of open cases, per grouping, district and stage."""
    rows = []
    for group in proceedings.GROUPS:
        for r in proceedings.overdue_summary_rows(group):
            rows.append(
                OverdueCount(
                    group=group,
                    key=r["key"],
                    label=(r["label"] or "—")[:200],
                    district_id=r["district_id"],
                    stage=r["stage"],
                    missed=r["missed"],
                    due_soon=r["due_soon"],
                )
            )
    return rows


def build_durations() -> list[OverdueDuration]:
    """Stopped clocks in duration bins, per district and rule."""
    rows = (
        proceedings.stopped_clocks()
        .annotate(b=DurationBin("stopped_at", "started_at"))
        .values("case__district_id", "rule__code", "rule__name", "rule__end_event", "b")
        .annotate(n=Count("pk"), met=Count("pk", filter=Q(state=ClockState.MET)))
        .order_by()
    )
    return [
        OverdueDuration(
            district_id=r["case__district_id"],
            rule_code=r["rule__code"],
            rule_name=r["rule__name"][:200],
            stage=r["rule__end_event"],
            bin=int(r["b"]),
            clocks=r["n"],
            met=r["met"],
        )
        for r in rows
    ]


def _percentile(bins: dict[int, int], fraction: float) -> timedelta | None:
    hours = percentile_hours(bins, fraction)
    return None if hours is None else timedelta(hours=hours)


def dashboard_from_summary(
    principal: Any,
    filters: proceedings.DashboardFilter,
    groups: Iterable[str],
    limit: int | None,
) -> tuple[proceedings.Dashboard, datetime] | None:
    """The receiver of `proceedings.dashboard_summary`."""
    if filters.since or filters.until:
        return None  # clocks started in a date range: proceedings counts them live
    refresh = (
        SummaryRefresh.objects.filter(overdue=True).order_by("-finished_at").only("finished_at")
    ).first()
    if refresh is None:
        return None
    where = summary_rows_scope(principal)
    if filters.district_id:
        where &= Q(district_id=filters.district_id)
    if filters.stage:
        where &= Q(stage=filters.stage)
    overdue: dict[str, list[proceedings.OverdueRow]] = {}
    for group in groups:
        rows = (
            OverdueCount.objects.filter(where, group=group)
            .values("key", "label")
            .annotate(overdue=Sum("missed"), due=Sum("due_soon"))
            .order_by("-overdue", "-due", "label")
        )
        if limit is not None:
            rows = rows[:limit]
        overdue[group] = [
            proceedings.OverdueRow(r["key"], r["label"], r["overdue"], r["due"]) for r in rows
        ]
    bins: dict[tuple[str, str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    met: dict[tuple[str, str, str], int] = defaultdict(int)
    for code, name, stage, b, n, m in OverdueDuration.objects.filter(where).values_list(
        "rule_code", "rule_name", "stage", "bin", "clocks", "met"
    ):
        bins[(code, name, stage)][b] += n
        met[(code, name, stage)] += m
    durations = [
        proceedings.DurationRow(
            code,
            name,
            stage,
            sum(binned.values()),
            met[(code, name, stage)],
            _percentile(binned, 0.5),
            _percentile(binned, 0.9),
        )
        for (code, name, stage), binned in sorted(bins.items())
    ]
    board = proceedings.Dashboard(
        filters=filters,
        overdue=overdue,
        durations=durations,
        stalled=proceedings.stalled_cases(principal, filters),
        duration_within_percent=round(BIN_BOUND * 100),
    )
    return board, refresh.finished_at
