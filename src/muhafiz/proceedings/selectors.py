"""Reads of the proceedings app: a case's timeline, and the overdue and duration dashboards.

Dashboards are aggregates over the cases a principal may see (`scope_filter` with
`Perm.STATS_VIEW`); they carry case references, places, courts and counts, never a victim's or an
accused person's identity. Prosecutors are named by their staff account in the page, and by a
pseudonymous staff number in the CSV export.
"""

from __future__ import annotations

import hashlib
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.aggregates import Aggregate
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import get_language

from muhafiz.cases.models import Accused, Case, CaseStatus, TeamRole
from muhafiz.catalogue.models import Agency, DeadlineRule, District, PoliceStation, localized
from muhafiz.core.permissions import Perm, case_scope, jurisdiction_key
from muhafiz.proceedings.clocks import ClockState
from muhafiz.proceedings.hooks import dashboard_summary
from muhafiz.proceedings.models import CaseProgress, Clock, StageCode, StageEvent

# --- a case's timeline --------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "event" or "clock"
    event: StageEvent | None = None
    clock: Clock | None = None


@dataclass
class Timeline:
    case: Case
    events: list[StageEvent]
    clocks: list[Clock]
    entries: list[TimelineEntry] = field(default_factory=list)

    @property
    def missed(self) -> list[Clock]:
        return [c for c in self.clocks if c.state in {ClockState.MISSED, ClockState.MET_LATE}]

    @property
    def running(self) -> list[Clock]:
        return [c for c in self.clocks if c.stopped_at is None]


def case_timeline(case: Case) -> Timeline:
    """Every stage recorded on the case and every clock, met, pending or missed, in date order.

    A clock sits in the timeline at its deadline while it runs or was missed, and where it was
    met once met, so the page reads as what happened and what is due.
    """
    events = list(
        StageEvent.objects.filter(case=case).select_related("accused", "court", "recorded_by")
    )
    clocks = list(
        Clock.objects.filter(case=case)
        .select_related("rule", "accused", "end_event")
        .order_by("due_at", "pk")
    )
    entries = [TimelineEntry(e.occurred_at, "event", event=e) for e in events]
    entries += [
        TimelineEntry(c.stopped_at if c.stopped_at else c.due_at, "clock", clock=c) for c in clocks
    ]
    entries.sort(key=lambda e: (e.at, e.kind == "clock"))
    return Timeline(case=case, events=events, clocks=clocks, entries=entries)


# --- dashboards ---------------------------------------------------------------------------------

GROUPS: dict[str, tuple[str, str]] = {
    # group name → (value path for the label, value path for the key)
    "district": ("case__district__name", "case__district_id"),
    "police_station": ("case__police_station__name", "case__police_station_id"),
    "prosecutor": ("case__team__user__username", "case__team__user_id"),
    "court": ("case__progress__court__name", "case__progress__court_id"),
}


@dataclass(frozen=True)
class DashboardFilter:
    district_id: int | None = None
    since: date | None = None  # clocks started on or after
    until: date | None = None  # clocks started on or before
    stage: str = ""  # the stage a clock waits for (its rule's end event)


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def scoped_clocks(principal: Any, filters: DashboardFilter) -> QuerySet[Clock]:
    """Clocks of the cases `principal` may see statistics of, narrowed by the filters."""
    clocks = Clock.objects.filter(case_scope(principal, Perm.STATS_VIEW))
    if filters.district_id:
        clocks = clocks.filter(case__district_id=filters.district_id)
    if filters.since:
        clocks = clocks.filter(started_at__gte=_local_midnight(filters.since))
    if filters.until:
        clocks = clocks.filter(started_at__lt=_local_midnight(filters.until + timedelta(days=1)))
    if filters.stage:
        clocks = clocks.filter(rule__end_event=filters.stage)
    return clocks


@dataclass(frozen=True)
class OverdueRow:
    key: int | None
    label: str
    overdue: int
    due_soon: int


def overdue_by(
    principal: Any, group: str, filters: DashboardFilter, *, limit: int | None = None
) -> list[OverdueRow]:
    """Running clocks of open cases that are missed or nearly due, counted per `group`, the
    worst first (`limit` of them, or all)."""
    label_path, key_path = GROUPS[group]
    clocks = scoped_clocks(principal, filters).filter(
        stopped_at__isnull=True,
        state__in=[ClockState.MISSED, ClockState.DUE_SOON],
        case__status=CaseStatus.OPEN,
    )
    if group == "prosecutor":
        clocks = clocks.filter(case__team__team_role=TeamRole.PROSECUTOR)
    rows = (
        clocks.values(key_path, label_path)
        .annotate(
            overdue=Count("pk", filter=Q(state=ClockState.MISSED)),
            due_soon=Count("pk", filter=Q(state=ClockState.DUE_SOON)),
        )
        .order_by("-overdue", "-due_soon", label_path)
    )
    if limit is not None:
        rows = rows[:limit]
    return [
        OverdueRow(
            key=row[key_path],
            label=row[label_path] or "—",
            overdue=row["overdue"],
            due_soon=row["due_soon"],
        )
        for row in rows
    ]


class _Percentile(Aggregate):
    """PostgreSQL's ordered-set percentile over an interval."""

    function = "PERCENTILE_CONT"
    name = "percentile"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: Any, fraction: float) -> None:
        super().__init__(expression, output_field=DurationField())
        self.extra["fraction"] = float(fraction)


@dataclass(frozen=True)
class DurationRow:
    rule_code: str
    rule_name: str
    stage: str
    count: int
    on_time: int
    median: timedelta | None
    p90: timedelta | None

    @property
    def median_days(self) -> float | None:
        return None if self.median is None else round(self.median.total_seconds() / 86400, 1)

    @property
    def p90_days(self) -> float | None:
        return None if self.p90 is None else round(self.p90.total_seconds() / 86400, 1)


def _percentile(values: list[float], fraction: float) -> float:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont."""
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def stage_durations(principal: Any, filters: DashboardFilter) -> list[DurationRow]:
    """How long each stage took (start event to end event of each stopped clock): median, 90th
    percentile, and how many were on time."""
    stopped = scoped_clocks(principal, filters).filter(stopped_at__isnull=False)
    took = ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField())
    base = stopped.values("rule__code", "rule__name", "rule__end_event").order_by("rule__code")
    if connection.vendor == "postgresql":
        rows = base.annotate(
            count=Count("pk"),
            on_time=Count("pk", filter=Q(state=ClockState.MET)),
            median=_Percentile(took, 0.5),
            p90=_Percentile(took, 0.9),
        )
        return [
            DurationRow(
                r["rule__code"],
                r["rule__name"],
                r["rule__end_event"],
                r["count"],
                r["on_time"],
                r["median"],
                r["p90"],
            )
            for r in rows
        ]
    # SQLite has no percentile: gather the (small, laptop-sized) durations and compute them here.
    spans: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    on_time: dict[tuple[str, str, str], int] = defaultdict(int)
    for r in base.annotate(took=took).values(
        "rule__code", "rule__name", "rule__end_event", "took", "state"
    ):
        key = (r["rule__code"], r["rule__name"], r["rule__end_event"])
        spans[key].append(r["took"].total_seconds())
        on_time[key] += r["state"] == ClockState.MET
    return [
        DurationRow(
            code,
            name,
            stage,
            len(values),
            on_time[(code, name, stage)],
            timedelta(seconds=statistics.median(values)),
            timedelta(seconds=_percentile(values, 0.9)),
        )
        for (code, name, stage), values in sorted(spans.items())
    ]


@dataclass(frozen=True)
class StalledCase:
    case_id: int
    reference: str
    district: str
    stage_code: str
    stage: str
    since: datetime
    days: int


def stalled_cases(
    principal: Any, filters: DashboardFilter, *, now: datetime | None = None, limit: int = 20
) -> list[StalledCase]:
    """Open cases that have stood longest in their current stage."""
    now = now or timezone.now()
    progress = CaseProgress.objects.filter(
        case_scope(principal, Perm.STATS_VIEW),
        case__status=CaseStatus.OPEN,
    )
    if filters.district_id:
        progress = progress.filter(case__district_id=filters.district_id)
    if filters.stage:
        progress = progress.filter(stage=filters.stage)
    if filters.since:
        progress = progress.filter(stage_since__gte=_local_midnight(filters.since))
    if filters.until:
        progress = progress.filter(
            stage_since__lt=_local_midnight(filters.until + timedelta(days=1))
        )
    rows = progress.order_by("stage_since", "case_id").values(
        "case_id", "case__reference", "case__district__name", "stage", "stage_since"
    )[:limit]
    return [
        StalledCase(
            case_id=r["case_id"],
            reference=r["case__reference"],
            district=r["case__district__name"],
            stage_code=r["stage"],
            stage=str(StageCode(r["stage"]).label),
            since=r["stage_since"],
            days=(now - r["stage_since"]).days,
        )
        for r in rows
    ]


@dataclass
class Dashboard:
    filters: DashboardFilter
    overdue: dict[str, list[OverdueRow]]
    durations: list[DurationRow]
    stalled: list[StalledCase]
    # Durations read from binned summary tables are within this many per cent of the exact
    # figure; 0 when counted live, exactly.
    duration_within_percent: int = 0


# The groups whose labels are catalogue names, with the model that has their Urdu names.
CATALOGUE_GROUPS = {"district": District, "police_station": PoliceStation, "court": Agency}


def in_page_language(board: Dashboard) -> Dashboard:
    """The board with its catalogue names (districts, police stations, courts, deadlines) in
    the page's language. Counts and summaries keep one copy of each name, the catalogue's
    English one, whatever the reader's language; a few small look-ups put them into Urdu."""
    if not (get_language() or "").startswith("ur"):
        return board
    overdue = {}
    for group, rows in board.overdue.items():
        model = CATALOGUE_GROUPS.get(group)
        if model is None:
            overdue[group] = rows
            continue
        names = {
            pk: localized(name, name_ur)
            for pk, name, name_ur in model._default_manager.filter(
                pk__in=[r.key for r in rows if r.key is not None]
            ).values_list("pk", "name", "name_ur")
        }
        overdue[group] = [replace(r, label=names.get(r.key, r.label)) for r in rows]
    rules = {
        code: localized(name, name_ur)
        for code, name, name_ur in DeadlineRule.objects.filter(
            code__in=[d.rule_code for d in board.durations]
        ).values_list("code", "name", "name_ur")
    }
    districts = {
        name: localized(name, name_ur)
        for name, name_ur in District.objects.filter(
            name__in={c.district for c in board.stalled}
        ).values_list("name", "name_ur")
    }
    return replace(
        board,
        overdue=overdue,
        durations=[
            replace(d, rule_name=rules.get(d.rule_code, d.rule_name)) for d in board.durations
        ],
        stalled=[replace(c, district=districts.get(c.district, c.district)) for c in board.stalled],
    )


def summarised_dashboard(
    principal: Any,
    filters: DashboardFilter,
    groups: Iterable[str] = GROUPS,
    *,
    limit: int | None = None,
) -> tuple[Dashboard, datetime] | None:
    """The dashboard read from precomputed summary tables (insights answers the
    `dashboard_summary` hook), with the time they were computed; None when no receiver can
    answer (no summary yet, or a date filter), and the figures are then computed live."""
    for answer in dashboard_summary.send(principal, filters, tuple(groups), limit):
        if answer is not None:
            return answer  # type: ignore[no-any-return]
    return None


def dashboard(
    principal: Any,
    filters: DashboardFilter,
    groups: Iterable[str] = GROUPS,
    *,
    limit: int | None = None,
    use_summary: bool = True,
) -> Dashboard:
    """Everything the dashboard shows; `limit` keeps the worst rows of each grouping (the page
    shows the top of each list, the CSV export all of them). From the summary tables when they
    can answer (`use_summary`), else computed from every clock."""
    if use_summary:
        summarised = summarised_dashboard(principal, filters, groups, limit=limit)
        if summarised is not None:
            return summarised[0]
    return Dashboard(
        filters=filters,
        overdue={group: overdue_by(principal, group, filters, limit=limit) for group in groups},
        durations=stage_durations(principal, filters),
        stalled=stalled_cases(principal, filters),
    )


# Figures computed live (a date filter, or before the first summary) change when the clock job
# runs and when stages are recorded; a national view aggregates hundreds of thousands of
# clocks, so each view of the same scope and filters is computed at most once a minute.
DASHBOARD_CACHE_SECONDS = 60


def cached_dashboard(
    principal: Any, filters: DashboardFilter, *, limit: int | None = None
) -> tuple[Dashboard, datetime]:
    """`dashboard(...)` with the time its figures were computed: from the summary tables when
    they can answer, else computed live at most once a minute per jurisdiction and filters."""
    summarised = summarised_dashboard(principal, filters, limit=limit)
    if summarised is not None:
        return in_page_language(summarised[0]), summarised[1]
    scope = jurisdiction_key(principal)
    # Names in the figures (districts, deadlines) are in the page's language.
    digest = hashlib.sha256(repr((scope, filters, limit, get_language())).encode()).hexdigest()
    key = f"proceedings:dashboard:{digest}"
    hit = cache.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    live = dashboard(principal, filters, limit=limit, use_summary=False)
    computed = (in_page_language(live), timezone.now())
    cache.set(key, computed, DASHBOARD_CACHE_SECONDS)
    return computed


GROUP_TITLES = {
    "district": "district",
    "police_station": "police station",
    "prosecutor": "prosecutor",
    "court": "court",
}


def dashboard_csv_rows(board: Dashboard) -> Iterable[list[str]]:
    """The dashboard flattened for a spreadsheet, without any person's identity: prosecutors
    become `staff-<number>`, cases are their references, everything else is places and counts."""
    filters = board.filters
    yield [
        "section",
        "group",
        "overdue",
        "due_soon",
        "count",
        "on_time",
        "median_days",
        "p90_days",
        "case_reference",
        "stage",
        "days_in_stage",
    ]
    yield [
        "filters",
        f"district={filters.district_id or ''};since={filters.since or ''};"
        f"until={filters.until or ''};stage={filters.stage}",
        *[""] * 9,
    ]
    for group, rows in board.overdue.items():
        for row in rows:
            label = f"staff-{row.key}" if group == "prosecutor" else row.label
            yield [
                f"overdue per {GROUP_TITLES[group]}",
                label,
                str(row.overdue),
                str(row.due_soon),
                *[""] * 7,
            ]
    for d in board.durations:
        yield [
            "stage duration",
            d.rule_code,
            "",
            "",
            str(d.count),
            str(d.on_time),
            "" if d.median_days is None else str(d.median_days),
            "" if d.p90_days is None else str(d.p90_days),
            "",
            d.stage,
            "",
        ]
    for s in board.stalled:
        yield ["stalled", s.district, *[""] * 6, s.reference, s.stage_code, str(s.days)]


def remand_days_granted(case: Case, accused: Accused) -> int:
    """Days of physical remand granted so far to one accused of the case (CrPC s.167)."""
    total = StageEvent.objects.filter(
        case=case,
        accused=accused,
        code__in=[StageCode.PHYSICAL_REMAND_STARTED, StageCode.PHYSICAL_REMAND_EXTENDED],
    ).aggregate(total=Sum("remand_days"))["total"]
    return int(total or 0)


# --- for statistics -----------------------------------------------------------------------------


def statistics_events(cases: QuerySet[Case], codes: Iterable[str]) -> QuerySet[StageEvent]:
    """Stage events of `cases` (insights passes `cases.selectors.statistics_cases()`) with one
    of `codes`, for counts of FIRs, challans and judgments; a system read for aggregates."""
    return StageEvent.objects.filter(case__in=cases, code__in=list(codes))


def statistics_clocks(cases: QuerySet[Case]) -> QuerySet[Clock]:
    """Statutory clocks of `cases`, for stage durations and deadlines met; a system read."""
    return Clock.objects.filter(case__in=cases)


def overdue_summary_rows(group: str) -> list[dict[str, Any]]:
    """Running clocks of open cases that are missed or nearly due, counted per `group` key,
    district and the stage the clock waits for: rows of `key`, `label`, `district_id`,
    `stage`, `missed`, `due_soon`. A system read for the summary job (every case, as the
    overdue dashboard counts them)."""
    label_path, key_path = GROUPS[group]
    clocks = Clock.objects.filter(
        stopped_at__isnull=True,
        state__in=[ClockState.MISSED, ClockState.DUE_SOON],
        case__status=CaseStatus.OPEN,
    )
    if group == "prosecutor":
        clocks = clocks.filter(case__team__team_role=TeamRole.PROSECUTOR)
    rows = (
        clocks.values(key_path, label_path, "case__district_id", "rule__end_event")
        .annotate(
            missed=Count("pk", filter=Q(state=ClockState.MISSED)),
            due_soon=Count("pk", filter=Q(state=ClockState.DUE_SOON)),
        )
        .order_by()
    )
    return [
        {
            "key": r[key_path],
            "label": r[label_path],
            "district_id": r["case__district_id"],
            "stage": r["rule__end_event"],
            "missed": r["missed"],
            "due_soon": r["due_soon"],
        }
        for r in rows
    ]


def stalled_per_district(limit: int = 20) -> list[dict[str, Any]]:
    """The `limit` open cases of each district that have stood longest in their stage (rows of
    `case_id`, `reference`, `district_id`, `district`, `stage`, `stage_since`), for the summary
    job's precomputed dashboards: a province's or the country's longest are among its
    districts'. A system read (every case, as the dashboard counts them)."""
    ranked = (
        CaseProgress.objects.filter(case__status=CaseStatus.OPEN)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("case__district_id")],
                order_by=[F("stage_since").asc(), F("case_id").asc()],
            )
        )
        .filter(rank__lte=limit)
        .values(
            "case_id",
            "case__reference",
            "case__district_id",
            "case__district__name",
            "stage",
            "stage_since",
        )
    )
    return [
        {
            "case_id": r["case_id"],
            "reference": r["case__reference"],
            "district_id": r["case__district_id"],
            "district": r["case__district__name"],
            "stage": r["stage"],
            "stage_since": r["stage_since"],
        }
        for r in ranked
    ]


def stopped_clocks() -> QuerySet[Clock]:
    """Every stopped clock (all cases), for the summary job's stage durations; a system read."""
    return Clock.objects.filter(stopped_at__isnull=False)


# --- work queue (the home page) -----------------------------------------------------------------

# Running clocks due within this many days show on the home page even before they are "due soon".
UPCOMING_DAYS = 7


def deadlines_for(principal: Any, *, now: datetime) -> QuerySet[Clock]:
    """Running clocks of open cases that the person works on (on the team) or oversees, that
    are missed, nearly due or due within UPCOMING_DAYS: missed first, then by due time."""
    from muhafiz.core.permissions import user_pk

    me = user_pk(principal)
    if me is None:
        return Clock.objects.none()
    mine = Q(case__team__user_id=me)
    oversight = case_scope(principal, Perm.CASE_OVERSEE)
    urgent = Q(state__in=[ClockState.MISSED, ClockState.DUE_SOON]) | Q(
        due_at__lt=now + timedelta(days=UPCOMING_DAYS)
    )
    ids = (
        Clock.objects.filter(mine | oversight, urgent)
        .filter(stopped_at__isnull=True, case__status=CaseStatus.OPEN)
        .values("pk")
    )
    return (
        Clock.objects.filter(pk__in=ids)
        .select_related("case", "rule", "accused")
        .order_by("due_at", "pk")
    )


def time_left(due_at: datetime, now: datetime) -> tuple[int, int]:
    """Whole days and hours until `due_at` (negative when it has passed)."""
    seconds = int((due_at - now).total_seconds())
    sign = -1 if seconds < 0 else 1
    days, rest = divmod(abs(seconds), 86400)
    return sign * days, sign * (rest // 3600)


# --- my cases' deadlines (the dashboard of a prosecutor or investigator) -----------------------


def team_clocks(principal: Any) -> QuerySet[Clock]:
    """Running clocks of the open cases on whose team the person is, soonest due first."""
    from muhafiz.core.permissions import user_pk

    me = user_pk(principal)
    if me is None:
        return Clock.objects.none()
    ids = Clock.objects.filter(
        case__team__user_id=me, stopped_at__isnull=True, case__status=CaseStatus.OPEN
    ).values("pk")
    return (
        Clock.objects.filter(pk__in=ids)
        .select_related("case", "rule", "accused")
        .order_by("due_at", "pk")
    )


@dataclass(frozen=True)
class CourtCount:
    court_id: int | None
    court: str
    missed: int
    due_soon: int


def team_clock_counts(principal: Any) -> tuple[dict[str, int], list[CourtCount]]:
    """How many of the person's running clocks are missed, nearly due or pending, in all and
    per court of the case."""
    clocks = team_clocks(principal).order_by()
    totals = clocks.aggregate(
        missed=Count("pk", filter=Q(state=ClockState.MISSED)),
        due_soon=Count("pk", filter=Q(state=ClockState.DUE_SOON)),
        pending=Count("pk", filter=Q(state=ClockState.PENDING)),
    )
    rows = (
        clocks.filter(state__in=[ClockState.MISSED, ClockState.DUE_SOON])
        .values("case__progress__court_id", "case__progress__court__name")
        .annotate(
            missed=Count("pk", filter=Q(state=ClockState.MISSED)),
            due_soon=Count("pk", filter=Q(state=ClockState.DUE_SOON)),
        )
        .order_by("-missed", "-due_soon", "case__progress__court__name")
    )
    courts = [
        CourtCount(
            r["case__progress__court_id"],
            r["case__progress__court__name"] or "—",
            r["missed"],
            r["due_soon"],
        )
        for r in rows
    ]
    return {k: int(v or 0) for k, v in totals.items()}, courts
