"""API routes of the proceedings app (mounted under /api/v1/proceedings).

No `from __future__ import annotations` here: django-ninja reads the annotations at import.

The same checks as the pages: a case's timeline needs CASE_VIEW on that case, recording a stage
CASE_EDIT on it, the dashboard STATS_VIEW (and shows only the caller's jurisdiction). Accused are
named by their label on the case (A1, A2), never by name.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from muhafiz.cases.models import Accused, Case
from muhafiz.cases.selectors import find_case, load_case
from muhafiz.catalogue.models import Agency, AgencyKind, PoliceStation
from muhafiz.core.api import api_requires
from muhafiz.core.limits import max_length
from muhafiz.core.permissions import Perm
from muhafiz.proceedings import actions, selectors
from muhafiz.proceedings.models import (
    ACCUSED_LABEL_LENGTH,
    COURT_CODE_LENGTH,
    MAX_PHYSICAL_REMAND_DAYS,
    NOTE_LENGTH,
    OUTCOME_LENGTH,
    SENTENCE_LENGTH,
    Clock,
    StageCode,
    StageEvent,
)

router = Router(tags=["proceedings"])


class StageEventIn(Schema):
    code: StageCode
    occurred_at: dt.datetime = Field(..., description="With its time zone, e.g. +05:00")
    accused: str = Field(
        "", max_length=ACCUSED_LABEL_LENGTH, description="The accused's label on the case (A1)"
    )
    remand_days: int | None = Field(None, ge=1, le=MAX_PHYSICAL_REMAND_DAYS)
    outcome: str = Field("", max_length=OUTCOME_LENGTH)
    sentence: str = Field("", max_length=SENTENCE_LENGTH)
    court: str = Field("", max_length=COURT_CODE_LENGTH, description="Agency code of the court")
    note: str = Field("", max_length=NOTE_LENGTH)
    fir_number: str = Field(
        "",
        max_length=max_length(Case, "fir_number"),
        description="With the FIR registration: written on the case",
    )
    police_station: int | None = Field(
        None, description="Where the FIR was registered (a catalogue police station's id)"
    )
    next_hearing_at: dt.datetime | None = Field(
        None, description="The next hearing the court fixed (trial start, hearing, adjournment)"
    )


class StageEventOut(Schema):
    id: int
    code: str
    occurred_at: dt.datetime
    accused: str
    remand_days: int | None
    outcome: str
    sentence: str
    court: str
    note: str
    next_hearing_at: dt.datetime | None = None

    @staticmethod
    def of(event: StageEvent) -> "StageEventOut":
        return StageEventOut(
            id=event.pk,
            code=event.code,
            occurred_at=event.occurred_at,
            accused=event.accused.label if event.accused else "",
            remand_days=event.remand_days,
            outcome=event.outcome,
            sentence=event.sentence,
            court=event.court.code if event.court else "",
            note=event.note,
            next_hearing_at=event.next_hearing_at,
        )


class ClockOut(Schema):
    id: int
    rule: str
    name: str
    accused: str
    started_at: dt.datetime
    due_at: dt.datetime
    due_soon_at: dt.datetime
    stopped_at: dt.datetime | None
    state: str
    rule_verified: bool

    @staticmethod
    def of(clock: Clock) -> "ClockOut":
        return ClockOut(
            id=clock.pk,
            rule=clock.rule.code,
            name=clock.rule.name,
            accused=clock.accused.label if clock.accused else "",
            started_at=clock.started_at,
            due_at=clock.due_at,
            due_soon_at=clock.due_soon_at,
            stopped_at=clock.stopped_at,
            state=clock.state,
            rule_verified=clock.rule.verified,
        )


class TimelineOut(Schema):
    case: str
    events: list[StageEventOut]
    clocks: list[ClockOut]


class OverdueRowOut(Schema):
    group: str
    label: str
    overdue: int
    due_soon: int


class DurationOut(Schema):
    rule: str
    stage: str
    count: int
    on_time: int
    median_days: float | None
    p90_days: float | None


class StalledOut(Schema):
    case: str
    district: str
    stage: str
    days: int


class DashboardOut(Schema):
    overdue: list[OverdueRowOut]
    durations: list[DurationOut]
    stalled: list[StalledOut]


def _timeline(reference: str, request: HttpRequest) -> TimelineOut:
    case = load_case(request.auth, reference, Perm.CASE_VIEW)  # type: ignore[attr-defined]
    timeline = selectors.case_timeline(case)
    return TimelineOut(
        case=case.reference,
        events=[StageEventOut.of(e) for e in timeline.events],
        clocks=[ClockOut.of(c) for c in timeline.clocks],
    )


@router.get("/cases/{reference}/timeline", response=TimelineOut)
@api_requires(Perm.CASE_VIEW)
def case_timeline(request: HttpRequest, reference: str) -> TimelineOut:
    """Every stage recorded on the case and every statutory clock: met, pending or missed."""
    return _timeline(reference, request)


@router.post("/cases/{reference}/stages", response={201: StageEventOut})
@api_requires(Perm.CASE_EDIT)
def record_stage(
    request: HttpRequest, reference: str, payload: StageEventIn
) -> Status[StageEventOut]:
    """Record a stage; impossible dates are refused (400) and nothing is written."""
    case = find_case(request.auth, reference)  # type: ignore[attr-defined]
    accused = (
        get_object_or_404(Accused, case=case, label=payload.accused) if payload.accused else None
    )
    court = None
    if payload.court:
        court = Agency.objects.filter(code=payload.court, kind=AgencyKind.COURT).first()
        if court is None:
            raise ValidationError({"court": ["Unknown court."]})
    event = actions.record_stage_event(
        request.auth,  # type: ignore[attr-defined]
        case,
        code=payload.code,
        occurred_at=payload.occurred_at,
        accused=accused,
        remand_days=payload.remand_days,
        outcome=payload.outcome,
        sentence=payload.sentence,
        court=court,
        note=payload.note,
        fir_number=payload.fir_number,
        police_station=(
            get_object_or_404(PoliceStation, pk=payload.police_station)
            if payload.police_station is not None
            else None
        ),
        next_hearing_at=payload.next_hearing_at,
        request=request,
    )
    return Status(201, StageEventOut.of(event))


@router.get("/dashboard", response=DashboardOut)
@api_requires(Perm.STATS_VIEW)
def dashboard(
    request: HttpRequest,
    district: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    stage: str = "",
) -> DashboardOut:
    """Overdue and nearly-due clocks per district, police station, prosecutor (as a staff
    number) and court; stage durations; cases stalled longest. No person's identity."""
    filters = selectors.DashboardFilter(district_id=district, since=since, until=until, stage=stage)
    board, _as_of = selectors.cached_dashboard(request.auth, filters)  # type: ignore[attr-defined]
    return DashboardOut(
        overdue=[
            OverdueRowOut(
                group=group,
                label=f"staff-{row.key}" if group == "prosecutor" else row.label,
                overdue=row.overdue,
                due_soon=row.due_soon,
            )
            for group, rows in board.overdue.items()
            for row in rows
        ],
        durations=[
            DurationOut(
                rule=d.rule_code,
                stage=d.stage,
                count=d.count,
                on_time=d.on_time,
                median_days=d.median_days,
                p90_days=d.p90_days,
            )
            for d in board.durations
        ],
        stalled=[
            StalledOut(case=s.reference, district=s.district, stage=s.stage_code, days=s.days)
            for s in board.stalled
        ],
    )
