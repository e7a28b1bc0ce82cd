"""Reads of the insights app, shared by the pages and the open-data files.

Public reads come only from the published (already suppressed) tables: `public_dashboard`,
`open_data`. Staff reads (`staff_statistics`) come from the unsuppressed summary tables, need
STATS_VIEW, and stay within the person's jurisdiction. Neither reads a case, a victim or a
person: the summary tables hold none.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db.models import Q, Sum
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from muhafiz.catalogue.models import Agency, DeadlineRule, District, Province
from muhafiz.core.permissions import Perm, check_perm, province_summary_scope
from muhafiz.insights.measures import (
    DIMENSIONS,
    MEASURES,
    OFFENCE_GROUPS,
    POWERS,
    RUNNING_MISSED,
    percentile_days,
)
from muhafiz.insights.models import (
    PowerUse,
    PublishedCell,
    PublishedDuration,
    SummaryCount,
    SummaryDuration,
    SummaryRefresh,
)
from muhafiz.insights.publish import NATIONAL, NATIONAL_STAFF, POWER_MEASURE, UNKNOWN_DISTRICT
from muhafiz.insights.scope import summary_rows_scope


def latest_refresh() -> SummaryRefresh | None:
    """The last full refresh (the public figures' date)."""
    return SummaryRefresh.objects.filter(statistics=True).order_by("-finished_at").first()


# A new refresh reaches the public pages of other processes within this many seconds (the
# refresh forgets it at once in its own process).
GENERATION_KEY = "insights:public:generation"
GENERATION_SECONDS = 15


def published_generation() -> str:
    """Which refresh the published figures come from, asked of the database at most every
    GENERATION_SECONDS per process: a visitor's cached page is then served without a query
    (or, without persistent connections, a new database connection) per request."""
    stamp = cache.get(GENERATION_KEY)
    if stamp is None:
        refresh = latest_refresh()
        stamp = f"{refresh.pk}.{refresh.finished_at.timestamp()}" if refresh else "none"
        cache.set(GENERATION_KEY, stamp, GENERATION_SECONDS)
    return str(stamp)


def forget_generation() -> None:
    """Called by a refresh: this process's pages are keyed by the new figures at once."""
    cache.delete(GENERATION_KEY)


def recent_refreshes(limit: int = 20) -> list[SummaryRefresh]:
    return list(SummaryRefresh.objects.select_related("requested_by")[:limit])


# --- areas --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str  # "national", "province", "district", "unknown"
    parent: str = ""


def _name(obj: Any) -> str:
    urdu = str(getattr(obj, "name_ur", "") or "")
    if urdu and get_language() == "ur":
        return urdu
    return str(obj.name)


def areas() -> dict[str, Area]:
    """Every area the dashboard knows, by code (Pakistan, provinces, districts)."""
    found = {NATIONAL: Area(NATIONAL, _("Pakistan"), "national")}
    found[UNKNOWN_DISTRICT] = Area(UNKNOWN_DISTRICT, _("District not known"), "unknown", NATIONAL)
    found[NATIONAL_STAFF] = Area(NATIONAL_STAFF, _("National staff"), "unknown", NATIONAL)
    for p in Province.objects.all():
        found[p.code] = Area(p.code, _name(p), "province", NATIONAL)
    for d in District.objects.select_related("province"):
        found[d.code] = Area(d.code, _name(d), "district", d.province.code)
    return found


# --- the public dashboard ----------------------------------------------------------------------


@dataclass
class Row:
    area: Area
    cells: list[str]


@dataclass
class Breakdown:
    code: str
    title: str
    total: str
    rows: list[tuple[str, str]]  # (category label, shown)


@dataclass
class StageRow:
    rule_code: str
    name: str
    median_days: float | None
    p90_days: float | None
    met_percent: int | None


@dataclass
class PublicDashboard:
    area: Area
    year: int | None
    years: list[int]
    measures: list[tuple[str, str]]  # (code, label)
    area_row: Row | None
    sub_rows: list[Row]
    trend: list[tuple[int, list[str]]]
    breakdowns: list[Breakdown]
    stages: list[StageRow]
    powers: list[tuple[str, str]]  # (code, label)
    power_rows: list[Row]
    power_total: Row | None
    trail: list[Area] = field(default_factory=list)
    # The area form's choices: each province with its districts, in the page's language.
    choices: list[tuple[Area, list[Area]]] = field(default_factory=list)


def published_years() -> list[int]:
    return sorted(set(PublishedCell.objects.values_list("year", flat=True).distinct()))


def public_dashboard(area_code: str, year: int | None) -> PublicDashboard:
    """Everything the public page shows for one area and year, from the published cells."""
    known = areas()
    area = known.get(area_code) or known[NATIONAL]
    years = published_years()
    if year not in years:
        year = years[-1] if years else None
    measures = [(m.code, str(m.label)) for m in MEASURES]
    if area.level == "national":
        children = [a for a in known.values() if a.level == "province"] + [known[UNKNOWN_DISTRICT]]
    elif area.level == "province":
        children = [a for a in known.values() if a.level == "district" and a.parent == area.code]
    else:
        children = []
    wanted = [area.code, *(c.code for c in children)]
    shown: dict[tuple[str, str, str, str], str] = {}
    trend_cells: dict[tuple[int, str], str] = {}
    if year is not None:
        for a, m, d, c, s in PublishedCell.objects.filter(year=year, area__in=wanted).values_list(
            "area", "measure", "dimension", "category", "shown"
        ):
            shown[(a, m, d, c)] = s
        for y, m, s in PublishedCell.objects.filter(
            area=area.code, dimension="", category=""
        ).values_list("year", "measure", "shown"):
            trend_cells[(y, m)] = s

    def row(a: Area) -> Row:
        return Row(a, [shown.get((a.code, code, "", ""), "0") for code, _label in measures])

    breakdowns = []
    for dimension in DIMENSIONS:
        breakdowns.append(
            Breakdown(
                dimension.code,
                str(dimension.label),
                shown.get((area.code, dimension.measure, "", ""), "0"),
                [
                    (
                        str(label),
                        shown.get((area.code, dimension.measure, dimension.code, code), "0"),
                    )
                    for code, label in dimension.categories
                ],
            )
        )
    rules = {r.code: _name(r) for r in DeadlineRule.objects.all()}
    published = PublishedDuration.objects.filter(area=area.code, year=year or 0)
    stages = [
        StageRow(d.rule_code, rules.get(d.rule_code, d.rule_code), *_duration(d))
        for d in published.order_by("rule_code")
    ]
    powers = [(p.code, str(p.label)) for p in POWERS]
    power_cells: dict[tuple[str, str], str] = {}
    if year is not None:
        for a, d, s in PublishedCell.objects.filter(year=year, measure=POWER_MEASURE).values_list(
            "area", "dimension", "shown"
        ):
            power_cells[(a, d)] = s
    power_areas = [a for a in known.values() if a.level == "province"] + [known[NATIONAL_STAFF]]
    power_rows = [
        Row(a, [power_cells.get((a.code, code), "0") for code, _l in powers]) for a in power_areas
    ]
    trail = []
    if area.parent:
        parent = known[area.parent]
        if parent.parent:
            trail.append(known[parent.parent])
        trail.append(parent)
    return PublicDashboard(
        area=area,
        year=year,
        years=years,
        measures=measures,
        area_row=row(area) if year is not None else None,
        sub_rows=[row(c) for c in children],
        trend=[(y, [trend_cells.get((y, code), "0") for code, _l in measures]) for y in years],
        breakdowns=breakdowns,
        stages=stages,
        powers=powers,
        power_rows=power_rows,
        power_total=Row(known[NATIONAL], [power_cells.get((NATIONAL, c), "0") for c, _l in powers])
        if year is not None
        else None,
        trail=trail,
        choices=[
            (p, sorted((a for a in known.values() if a.parent == p.code), key=lambda a: a.name))
            for p in sorted(
                (a for a in known.values() if a.level == "province"), key=lambda a: a.name
            )
        ],
    )


def _duration(d: PublishedDuration) -> tuple[float | None, float | None, int | None]:
    return d.median_days, d.p90_days, d.met_percent


# --- open data ----------------------------------------------------------------------------------

OPEN_DATA_COLUMNS = (
    "year",
    "area_code",
    "area_name",
    "area_level",
    "measure",
    "dimension",
    "category",
    "value",
)
DURATION_COLUMNS = ("year", "area_code", "rule_code", "median_days", "p90_days", "met_percent")


def open_data(
    *, area: str = "", year: int | None = None, measure: str = ""
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every published cell and stage duration, as rows for CSV, JSON and the API; narrowed to
    one area, year or measure when given (durations have no measure)."""
    known = areas()
    where = Q()
    if area:
        where &= Q(area=area)
    if year is not None:
        where &= Q(year=year)
    cells = PublishedCell.objects.filter(where, **({"measure": measure} if measure else {}))
    cells_out = [
        {
            "year": y,
            "area_code": a,
            "area_name": known[a].name if a in known else a,
            "area_level": known[a].level if a in known else "",
            "measure": m,
            "dimension": d,
            "category": c,
            "value": s,
        }
        for y, a, m, d, c, s in cells.order_by(
            "year", "area", "measure", "dimension", "category"
        ).values_list("year", "area", "measure", "dimension", "category", "shown")
    ]
    durations = [
        dict(zip(DURATION_COLUMNS, row, strict=True))
        for row in PublishedDuration.objects.filter(where)
        .order_by("year", "area", "rule_code")
        .values_list("year", "area", "rule_code", "median_days", "p90_days", "met_percent")
    ]
    return cells_out, durations


def data_dictionary() -> dict[str, Any]:
    """What every column, measure, dimension and mark means (the page and the JSON file)."""
    rules = [{"code": r.code, "name": _name(r)} for r in DeadlineRule.objects.order_by("code")]
    return {
        "columns": {
            "year": _("Calendar year (Pakistan time) in which the counted step happened."),
            "area_code": _(
                "PK for Pakistan, a province code (ISO 3166-2:PK) or a district code; ZZ: "
                "district not known; NAT: national staff (sensitive powers only)."
            ),
            "area_name": _("The area's name in the language of the request."),
            "area_level": _("national, province, district or unknown."),
            "rule_code": _("The statutory deadline (see stage_rules) a duration belongs to."),
            "measure": _("What is counted (see measures)."),
            "dimension": _(
                "Empty for the measure's total; otherwise the breakdown (see dimensions), or "
                "the sensitive power for measure 'power'."
            ),
            "category": _("The breakdown's category; empty for a total."),
            "value": _(
                "A count, or '<5' for a count of 1 to 4, or 'x' for a count withheld so that "
                "a '<5' cannot be worked out from a total. A combination of year, area, "
                "measure, dimension and category that is not listed is 0."
            ),
            "median_days": _("Median days from the clock's start to the step (stage durations)."),
            "p90_days": _("90th percentile of the same, in days."),
            "met_percent": _("Share of the statutory deadlines met on time, in per cent."),
        },
        "measures": {m.code: str(m.description) for m in MEASURES}
        | {
            "victims": _("Victims recorded in cases opened in the year."),
            "power": _("Uses of a sensitive power of the platform, from the audit log."),
        },
        "dimensions": {
            d.code: {"label": str(d.label), "categories": {c: str(lab) for c, lab in d.categories}}
            for d in DIMENSIONS
        },
        "powers": {
            p.code: {"label": str(p.label), "audit_actions": list(p.actions)} for p in POWERS
        },
        "stage_rules": rules,
        "rules": [
            _(
                "Only cases in which every victim consented to being counted in statistics (or "
                "a supervisor recorded an override with a reason) are counted."
            ),
            _(
                "Every count of 1 to 4 is published as '<5'; where a total would reveal it, "
                "another count of the same row or column is withheld as 'x'."
            ),
            _(
                "Durations and shares are published only when at least 5 clocks are behind "
                "them, and the share only when neither the deadlines met nor those missed "
                "number 1 to 4. Durations are computed from bins 10 per cent wide (within 5 "
                "per cent)."
            ),
            _("Urban or rural is not recorded by Muhafiz and is not published."),
            _("No row is ever about one case, one child or one person."),
        ],
    }


# --- staff statistics ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffFilter:
    year_from: int | None = None
    year_to: int | None = None
    district_id: int | None = None
    agency_id: int | None = None
    offence_group: str = ""
    rule_code: str = ""  # the stage (a deadline rule) for durations


@dataclass
class StaffStatistics:
    filters: StaffFilter
    measures: list[tuple[str, str]]
    by_year: list[tuple[int, list[int]]]
    by_district: list[tuple[str, list[int]]]
    breakdowns: list[tuple[str, list[tuple[str, int]]]]
    stages: list[tuple[str, str, int, float | None, float | None, int | None]]
    powers: list[tuple[str, int]]


def staff_statistics(principal: Any, filters: StaffFilter) -> StaffStatistics:
    """The same figures as the public dashboard, unsuppressed, for the person's jurisdiction,
    narrowed by period, district, agency, offence group and stage."""
    check_perm(principal, Perm.STATS_VIEW)
    where = summary_rows_scope(principal)
    if filters.year_from:
        where &= Q(year__gte=filters.year_from)
    if filters.year_to:
        where &= Q(year__lte=filters.year_to)
    if filters.district_id:
        where &= Q(district_id=filters.district_id)
    if filters.agency_id:
        where &= Q(agency_id=filters.agency_id)
    if filters.offence_group:
        where &= Q(offence_group=filters.offence_group)
    counts = SummaryCount.objects.filter(where)
    measures = [(m.code, str(m.label)) for m in MEASURES]
    per_year: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_district: dict[int | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for y, d, m, n in (
        counts.filter(dimension="")
        .values("year", "district_id", "measure")
        .annotate(n=Sum("value"))
        .values_list("year", "district_id", "measure", "n")
    ):
        per_year[y][m] += n
        per_district[d][m] += n
    names = dict(District.objects.values_list("pk", "name"))
    breakdowns = []
    groups = dict(OFFENCE_GROUPS)
    by_group = dict(
        counts.filter(measure="reports_received", dimension="")
        .values("offence_group")
        .annotate(n=Sum("value"))
        .values_list("offence_group", "n")
    )
    breakdowns.append((_("Offence group"), [(str(groups[c]), by_group.get(c, 0)) for c in groups]))
    for dimension in DIMENSIONS[1:]:
        found = dict(
            counts.filter(measure="victims", dimension=dimension.code)
            .values("category")
            .annotate(n=Sum("value"))
            .values_list("category", "n")
        )
        breakdowns.append(
            (str(dimension.label), [(str(lab), found.get(c, 0)) for c, lab in dimension.categories])
        )
    durations = SummaryDuration.objects.filter(where)
    if filters.rule_code:
        durations = durations.filter(rule_code=filters.rule_code)
    bins: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    met: dict[str, int] = defaultdict(int)
    for rule_code, b, clocks, met_count in durations.values_list(
        "rule_code", "bin", "clocks", "met"
    ):
        bins[rule_code][b] += clocks
        met[rule_code] += met_count
    rules = {r.code: _name(r) for r in DeadlineRule.objects.all()}
    stages = []
    for rule in sorted(bins):
        total = sum(bins[rule].values())
        timed = {b: n for b, n in bins[rule].items() if b != RUNNING_MISSED}
        stages.append(
            (
                rule,
                rules.get(rule, rule),
                total,
                percentile_days(timed, 0.5),
                percentile_days(timed, 0.9),
                round(100 * met[rule] / total) if total else None,
            )
        )
    powers = _staff_powers(principal, filters)
    return StaffStatistics(
        filters=filters,
        measures=measures,
        by_year=[(y, [per_year[y][c] for c, _l in measures]) for y in sorted(per_year)],
        by_district=sorted(
            (
                (names.get(d, _("District not known")) if d else _("District not known"), v)
                for d, v in ((d, [per_district[d][c] for c, _l in measures]) for d in per_district)
            ),
            key=lambda r: r[0],
        ),
        breakdowns=breakdowns,
        stages=stages,
        powers=powers,
    )


def _staff_powers(principal: Any, filters: StaffFilter) -> list[tuple[str, int]]:
    uses = PowerUse.objects.filter(province_summary_scope(principal, Perm.STATS_VIEW))
    if filters.year_from:
        uses = uses.filter(year__gte=filters.year_from)
    if filters.year_to:
        uses = uses.filter(year__lte=filters.year_to)
    found = dict(uses.values("power").annotate(n=Sum("value")).values_list("power", "n"))
    return [(str(p.label), found.get(p.code, 0)) for p in POWERS]


def filter_choices() -> dict[str, Any]:
    """What the staff filters offer."""
    return {
        "years": sorted(set(SummaryCount.objects.values_list("year", flat=True).distinct())),
        "districts": [(d.pk, _name(d)) for d in District.objects.all()],
        "agencies": [(a.pk, _name(a)) for a in Agency.objects.filter(active=True)],
        "offence_groups": [(c, str(label)) for c, label in OFFENCE_GROUPS],
        "rules": [(r.code, _name(r)) for r in DeadlineRule.objects.all()],
    }
