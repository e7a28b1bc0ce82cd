"""The staff overdue dashboard (proceedings' `/proceedings/dashboard/`) from summary tables.

Proceedings asks through its `dashboard_summary` hook; this module answers from `OverdueCount`
and `OverdueDuration`, which the summary job fills from proceedings' selectors (every case, as
the dashboard always counted: it is an operational view for supervisors, with no identity),
and from `OverdueBoard`: each jurisdiction's unfiltered dashboard (the country, each province,
each district, with its cases stalled longest), added up once per refresh, so a page view
reads one row. A stage filter adds up the summary rows (the stalled list then read live);
filters by date (clocks started since/until) are answered live by proceedings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from muhafiz.catalogue.models import District
from muhafiz.core.permissions import client_profile
from muhafiz.insights.build import DurationBin
from muhafiz.insights.measures import BIN_BOUND, percentile_hours
from muhafiz.insights.models import OverdueBoard, OverdueCount, OverdueDuration, SummaryRefresh
from muhafiz.insights.scope import summary_rows_scope
from muhafiz.proceedings import selectors as proceedings
from muhafiz.proceedings.clocks import ClockState
from muhafiz.proceedings.models import StageCode


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


# --- precomputed boards -------------------------------------------------------------------------

NATIONAL = "PK"
STALLED_ROWS = 20  # the dashboard's list of cases stalled longest (proceedings.stalled_cases)


def _scopes(district_id: int, provinces: dict[int, int]) -> list[str]:
    """The boards a district's figures count in: its own, its province's and the country's."""
    province = provinces.get(district_id)
    return [NATIONAL, f"D{district_id}", *([f"P{province}"] if province is not None else [])]


def build_boards(
    counts: list[OverdueCount], durations: list[OverdueDuration]
) -> list[OverdueBoard]:
    """Every jurisdiction's unfiltered dashboard, from the rows the refresh just computed: the
    per-district rows are added up here once, not on each page view."""
    provinces = dict(District.objects.values_list("pk", "province_id"))
    scopes: dict[str, tuple[int | None, int | None]] = {NATIONAL: (None, None)}
    for district, province in provinces.items():
        scopes[f"D{district}"] = (province, district)
        scopes[f"P{province}"] = (province, None)
    overdue: dict[str, dict[str, dict[tuple[int | None, str], list[int]]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for c in counts:
        for scope in _scopes(c.district_id, provinces):
            row = overdue[scope][c.group].setdefault((c.key, c.label), [0, 0])
            row[0] += c.missed
            row[1] += c.due_soon
    bins: dict[str, dict[tuple[str, str, str], dict[int, int]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(int))
    )
    met: dict[str, dict[tuple[str, str, str], int]] = defaultdict(lambda: defaultdict(int))
    for d in durations:
        rule = (d.rule_code, d.rule_name, d.stage)
        for scope in _scopes(d.district_id, provinces):
            bins[scope][rule][d.bin] += d.clocks
            met[scope][rule] += d.met
    stalled: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in proceedings.stalled_per_district(STALLED_ROWS):
        for scope in _scopes(r["district_id"], provinces):
            stalled[scope].append(r)
    boards = []
    for scope, (province_id, district_id) in scopes.items():
        groups = {
            group: [
                [key, label, missed, due_soon]
                for (key, label), (missed, due_soon) in sorted(
                    overdue[scope][group].items(), key=lambda i: (-i[1][0], -i[1][1], i[0][1])
                )
            ]
            for group in proceedings.GROUPS
        }
        stages = [
            [
                code,
                name,
                stage,
                sum(binned.values()),
                met[scope][(code, name, stage)],
                percentile_hours(binned, 0.5),
                percentile_hours(binned, 0.9),
            ]
            for (code, name, stage), binned in sorted(bins[scope].items())
        ]
        longest = sorted(stalled[scope], key=lambda r: (r["stage_since"], r["case_id"]))
        board = {
            "overdue": groups,
            "durations": stages,
            "stalled": [
                [
                    r["case_id"],
                    r["reference"],
                    r["district"],
                    r["stage"],
                    r["stage_since"].isoformat(),
                ]
                for r in longest[:STALLED_ROWS]
            ],
        }
        boards.append(
            OverdueBoard(
                scope=scope,
                province_id=province_id,
                district_id=district_id,
                board=board,
                as_of=timezone.now(),  # the refresh sets the moment it ends
            )
        )
    return boards


def _choose_board(principal: Any, filters: proceedings.DashboardFilter) -> OverdueBoard | None:
    """The precomputed board that answers `principal` with `filters`, if one does (none for a
    stage filter or an agency's case system: those are read from the summary rows).

    Which boards the principal may read is the permission module's rule for summary rows
    (`summary_rows_scope`, on the boards' `district_id`): a national reader reads every board,
    the national one first; a province's reads its districts' boards (and so its province's,
    their sum); a district's its own."""
    if filters.stage or (
        (profile := client_profile(principal)) is not None and profile.agency_cases
    ):
        return None
    readable = OverdueBoard.objects.filter(summary_rows_scope(principal))
    if filters.district_id:
        return readable.filter(scope=f"D{filters.district_id}").first()
    first_two = list(
        readable.order_by(
            F("province_id").asc(nulls_first=True), F("district_id").asc(nulls_first=True)
        ).values_list("scope", "province_id")[:2]
    )
    if not first_two:
        return None
    scope, province_id = first_two[0]
    if scope != NATIONAL and len(first_two) > 1:
        scope = f"P{province_id}"  # every district of one province: the province's board
    return OverdueBoard.objects.filter(scope=scope).first()


def _read_board(
    principal: Any, filters: proceedings.DashboardFilter, groups: Iterable[str], limit: int | None
) -> tuple[proceedings.Dashboard, datetime] | None:
    stored = _choose_board(principal, filters)
    if stored is None:
        return None
    data = stored.board
    now = timezone.now()

    def hours(value: float | None) -> timedelta | None:
        return None if value is None else timedelta(hours=value)

    def since(value: str) -> datetime:
        return datetime.fromisoformat(value)

    board = proceedings.Dashboard(
        filters=filters,
        overdue={
            group: [
                proceedings.OverdueRow(key, label, missed, due_soon)
                for key, label, missed, due_soon in data["overdue"].get(group, [])[:limit]
            ]
            for group in groups
        },
        durations=[
            proceedings.DurationRow(code, name, stage, n, met, hours(median), hours(p90))
            for code, name, stage, n, met, median, p90 in data["durations"]
        ],
        stalled=[
            proceedings.StalledCase(
                case_id=case_id,
                reference=reference,
                district=district,
                stage_code=stage,
                stage=str(StageCode(stage).label),
                since=since(stage_since),
                days=(now - since(stage_since)).days,
            )
            for case_id, reference, district, stage, stage_since in data["stalled"]
        ],
        duration_within_percent=round(BIN_BOUND * 100),
    )
    return board, stored.as_of


def dashboard_from_summary(
    principal: Any,
    filters: proceedings.DashboardFilter,
    groups: Iterable[str],
    limit: int | None,
) -> tuple[proceedings.Dashboard, datetime] | None:
    """The receiver of `proceedings.dashboard_summary`: the precomputed board of the reader's
    jurisdiction (or the district filtered), else the summary rows added up for the filters."""
    if filters.since or filters.until:
        return None  # clocks started in a date range: proceedings counts them live
    return _read_board(principal, filters, groups, limit) or _from_rows(
        principal, filters, groups, limit
    )


def _from_rows(
    principal: Any,
    filters: proceedings.DashboardFilter,
    groups: Iterable[str],
    limit: int | None,
) -> tuple[proceedings.Dashboard, datetime] | None:
    """The dashboard from the per-district summary rows (a stage filter, or no board)."""
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
    # Added up over the districts in the database: one row per rule and bin comes back.
    summed = (
        OverdueDuration.objects.filter(where)
        .values("rule_code", "rule_name", "stage", "bin")
        .annotate(n=Sum("clocks"), m=Sum("met"))
        .order_by()
    )
    for r in summed:
        key = (r["rule_code"], r["rule_name"], r["stage"])
        bins[key][r["bin"]] += r["n"]
        met[key] += r["m"]
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
