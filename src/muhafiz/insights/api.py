"""API routes of the insights app (mounted under /api/v1/statistics), read only.

No `from __future__ import annotations` here: django-ninja reads the annotations at import.

The published figures are public by rule, like the dashboard and its open-data files: they are
the same suppressed cells (`<5`, `x`), read from the published tables. The staff statistics need
STATS_VIEW and stay within the caller's jurisdiction (`selectors.staff_statistics`); they are
unsuppressed but hold no identity. Nothing here writes; the refresh is the job's or the
administrator's page.
"""

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from muhafiz.core.api import api_public, api_requires
from muhafiz.core.limits import max_length
from muhafiz.core.permissions import Perm
from muhafiz.insights import selectors
from muhafiz.insights.measures import OFFENCE_GROUPS
from muhafiz.insights.models import PublishedCell, SummaryCount, SummaryDuration

router = Router(tags=["statistics"])

FIRST_YEAR, LAST_YEAR = 1900, 2999
LAST_ID = 2**31 - 1


class CellOut(Schema):
    year: int
    area_code: str
    area_name: str
    area_level: str
    measure: str
    dimension: str
    category: str
    value: str = Field(..., description="A count, '<5' (1 to 4) or 'x' (withheld)")


class StageDurationOut(Schema):
    year: int
    area_code: str
    rule_code: str
    median_days: float | None
    p90_days: float | None
    met_percent: int | None


class PublishedOut(Schema):
    generated_at: dt.datetime | None = Field(..., description="When the figures were computed")
    cells: list[CellOut]
    stage_durations: list[StageDurationOut]


class PublishedQuery(Schema):
    area: str = Field(
        "",
        max_length=max_length(PublishedCell, "area"),
        description="PK, a province code or a district code",
    )
    year: int | None = Field(None, ge=FIRST_YEAR, le=LAST_YEAR)
    measure: str = Field(
        "",
        max_length=max_length(PublishedCell, "measure"),
        description="See the data dictionary's measures",
    )


@router.get("/published", response=PublishedOut, auth=None)
@api_public
def published(request: HttpRequest, query: Query[PublishedQuery]) -> PublishedOut:
    """The public dashboard's figures as published (small counts suppressed), optionally for
    one area, year or measure; what the open-data files hold. No sign-in."""
    cells, durations = selectors.open_data(
        area=query.area.upper(), year=query.year, measure=query.measure
    )
    refresh = selectors.latest_refresh()
    return PublishedOut(
        generated_at=refresh.finished_at if refresh else None,
        cells=[CellOut(**c) for c in cells],
        stage_durations=[StageDurationOut(**d) for d in durations],
    )


@router.get("/dictionary", response=dict[str, Any], auth=None)
@api_public
def dictionary(request: HttpRequest) -> dict[str, Any]:
    """What every column, measure, dimension and mark of the published figures means."""
    return selectors.data_dictionary()


class StaffQuery(Schema):
    year_from: int | None = Field(None, ge=FIRST_YEAR, le=LAST_YEAR)
    year_to: int | None = Field(None, ge=FIRST_YEAR, le=LAST_YEAR)
    district: int | None = Field(None, ge=1, le=LAST_ID, description="A catalogue district's id")
    agency: int | None = Field(None, ge=1, le=LAST_ID, description="A catalogue agency's id")
    offence_group: str = Field(
        "",
        max_length=max_length(SummaryCount, "offence_group"),
        description="An offence group's code",
    )
    stage: str = Field(
        "",
        max_length=max_length(SummaryDuration, "rule_code"),
        description="A deadline rule's code (durations)",
    )


class YearCountsOut(Schema):
    year: int
    counts: dict[str, int]


class DistrictCountsOut(Schema):
    district: str
    counts: dict[str, int]


class CategoryOut(Schema):
    category: str
    count: int


class BreakdownOut(Schema):
    title: str
    rows: list[CategoryOut]


class StaffStageOut(Schema):
    rule_code: str
    name: str
    clocks: int
    median_days: float | None
    p90_days: float | None
    met_percent: int | None


class PowerOut(Schema):
    power: str
    count: int


class StaffOut(Schema):
    by_year: list[YearCountsOut]
    by_district: list[DistrictCountsOut]
    breakdowns: list[BreakdownOut]
    stages: list[StaffStageOut]
    powers: list[PowerOut]


@router.get("/staff", response=StaffOut)
@api_requires(Perm.STATS_VIEW)
def staff(request: HttpRequest, query: Query[StaffQuery]) -> StaffOut:
    """The same figures unsuppressed, within the caller's jurisdiction, narrowed by period,
    district, agency, offence group and stage; counts per measure code. No identity."""
    groups = {code for code, _label in OFFENCE_GROUPS}
    filters = selectors.StaffFilter(
        year_from=query.year_from,
        year_to=query.year_to,
        district_id=query.district,
        agency_id=query.agency,
        offence_group=query.offence_group if query.offence_group in groups else "",
        rule_code=query.stage,
    )
    stats = selectors.staff_statistics(request.auth, filters)  # type: ignore[attr-defined]
    codes = [code for code, _label in stats.measures]
    return StaffOut(
        by_year=[
            YearCountsOut(year=y, counts=dict(zip(codes, v, strict=True))) for y, v in stats.by_year
        ],
        by_district=[
            DistrictCountsOut(district=d, counts=dict(zip(codes, v, strict=True)))
            for d, v in stats.by_district
        ],
        breakdowns=[
            BreakdownOut(title=t, rows=[CategoryOut(category=c, count=n) for c, n in rows])
            for t, rows in stats.breakdowns
        ],
        stages=[
            StaffStageOut(
                rule_code=r, name=n, clocks=c, median_days=m, p90_days=p, met_percent=share
            )
            for r, n, c, m, p, share in stats.stages
        ],
        powers=[PowerOut(power=label, count=n) for label, n in stats.powers],
    )
