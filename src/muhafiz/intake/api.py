"""API routes of intake (mounted under /api/v1/intake): the queue, a report, the triage steps,
helpline calls, CyberTipline uploads and a cluster's IP capture events.

Handlers load through `intake.selectors` and write through `intake.actions`, as the pages do.
The public report has no API operation: it is a page that works without JavaScript.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, File, Router, Schema, Status, UploadedFile
from ninja.params import functions as params

from muhafiz.accounts.models import User
from muhafiz.cases.models import Case
from muhafiz.catalogue.models import Agency, District, PoliceStation
from muhafiz.core.api import MAX_OFFSET, api_requires
from muhafiz.core.limits import max_length
from muhafiz.core.permissions import Perm
from muhafiz.intake import actions, selectors
from muhafiz.intake.models import Report, ReportMessage, ReportState, ReportTransition

router = Router(tags=["intake"])


class IntakeReportSummaryOut(Schema):
    reference: str
    channel: str
    district: str | None
    concern: str
    state: str
    child_in_danger: bool
    received_at: dt.datetime
    due_at: dt.datetime | None
    overdue: bool
    assigned_to: str | None


class IntakeMessageOut(Schema):
    from_staff: bool
    body: str
    created_at: dt.datetime


class IntakeReportOut(IntakeReportSummaryOut):
    account: str = Field(description="The account as stored (a referral's summary in English)")
    account_in_words: str = Field(
        description="The account in the request's language (a referral's summary translated)"
    )
    links: list[str]
    age_band: str
    caller_type: str
    risk: str
    helpline_referral: str
    referred_to: str
    close_reason: str
    case: str | None
    cluster: int | None
    reporter_contact_left: bool
    messages: list[IntakeMessageOut]


class TipMatchOut(Schema):
    kind: str = Field(..., description="bank, evidence or accused")
    identifier_kind: str = Field(
        ..., description="the referral's identifier that matched: file_hash, screen_name, …"
    )
    value: str = Field(..., description="its value (empty for matches recorded before 2026-12)")
    case: str | None = Field(None, description="the case's reference")
    accused: str = Field("", description="the accused's label in the case (A1, A2, …)")
    scan: int | None = Field(None, description="the scan holding the file, if you may see it")
    bank: str = ""


class IntakeReportDetailOut(IntakeReportOut):
    matches: list[TipMatchOut] = Field(
        ..., description="a referral's matches in cases you may see and banks you may read"
    )
    matches_hidden_in_cases: int = Field(
        ..., description="matches in cases you may not see: counted, never described"
    )
    matches_hidden_in_banks: int = Field(
        ..., description="matches in hash banks whose matches you may not receive"
    )


def _limit(field: str, model: Any = Report) -> int:
    return max_length(model, field)


_DISTRICT = max_length(District, "code")
_NOTE = max_length(ReportTransition, "note")


class HelplineIn(Schema):
    channel: str = Field(..., max_length=_limit("channel"))
    caller_type: str = Field(..., max_length=_limit("caller_type"))
    district: str | None = Field(
        None, max_length=_DISTRICT, description="District code; none: national"
    )
    age_band: str = Field("unknown", max_length=_limit("age_band"))
    concern: str = Field(..., max_length=_limit("concern"))
    account: str = Field(..., min_length=1, max_length=_limit("account"))
    risk: str = Field(..., max_length=_limit("risk"))
    helpline_referral: str = Field("none", max_length=_limit("helpline_referral"))
    links: str = Field("", max_length=_limit("links"))
    caller_contact: str = Field("", max_length=_limit("reporter_contact"))


class ReportReferIn(Schema):
    referred_to: str = Field(..., max_length=_limit("referred_to"))
    note: str = Field("", max_length=_NOTE)


class ReportCloseIn(Schema):
    reason: str = Field(..., max_length=_limit("close_reason"))
    note: str = Field("", max_length=_NOTE)


class ReportAssignIn(Schema):
    username: str | None = Field(None, max_length=_limit("username", User))


class ReporterReplyIn(Schema):
    body: str = Field(..., min_length=1, max_length=_limit("body", ReportMessage))


class ReportRouteIn(Schema):
    district: str = Field(..., max_length=_DISTRICT)


class CaseFromReportIn(Schema):
    agency: str = Field(..., max_length=_limit("code", Agency))
    police_station: int | None = None
    fir_number: str = Field("", max_length=_limit("fir_number", Case))


class CaseFromReportOut(Schema):
    case: str


class IpCaptureEventOut(Schema):
    cybertipline_report: str
    ip_address: str
    event: str
    occurred_at: dt.datetime | None
    port: int | None
    possible_proxy: bool | None


def _who(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def summary_out(report: Report) -> IntakeReportSummaryOut:
    return IntakeReportSummaryOut(
        reference=report.reference,
        channel=report.channel,
        district=report.district.code if report.district is not None else None,
        concern=report.concern,
        state=report.state,
        child_in_danger=report.child_in_danger,
        received_at=report.received_at,
        due_at=report.due_at,
        overdue=selectors.is_overdue(report),
        assigned_to=report.assigned_to.username if report.assigned_to is not None else None,
    )


def report_out(report: Report) -> IntakeReportOut:
    cluster = selectors.cluster_of(report)
    return IntakeReportOut(
        **summary_out(report).dict(),
        account=report.account,
        account_in_words=report.account_in_words(),
        links=[line for line in report.links.splitlines() if line],
        age_band=report.age_band,
        caller_type=report.caller_type,
        risk=report.risk,
        helpline_referral=report.helpline_referral,
        referred_to=report.referred_to,
        close_reason=report.close_reason,
        case=report.case.reference if report.case is not None else None,
        cluster=cluster.pk if cluster else None,
        reporter_contact_left=bool(report.reporter_contact),
        messages=[
            IntakeMessageOut(from_staff=m.from_staff, body=m.body, created_at=m.created_at)
            for m in selectors.conversation(report)
        ],
    )


def report_detail_out(principal: Any, report: Report) -> IntakeReportDetailOut:
    """A report with its referral's matches as `principal` may see them."""
    found = selectors.referral_matches(principal, report)
    return IntakeReportDetailOut(
        **report_out(report).dict(),
        matches=[TipMatchOut(**vars(m)) for m in found.shown],
        matches_hidden_in_cases=found.hidden_in_cases,
        matches_hidden_in_banks=found.hidden_in_banks,
    )


def _district(code: str | None) -> District | None:
    return None if not code else get_object_or_404(District, code=code)


@router.get("/reports", response=list[IntakeReportSummaryOut], summary="The triage queue")
@api_requires(Perm.INTAKE_HANDLE)
def list_reports(  # noqa: PLR0917 - query parameters, named by ninja
    request: HttpRequest,
    state: str = "",
    district: str = "",
    national: bool = False,
    mine: bool = False,
    offset: int = params.Query(0, ge=0, le=MAX_OFFSET),
) -> Any:
    if state and state != "all" and state not in ReportState.values:
        raise ValidationError({"state": f"one of all, {', '.join(ReportState.values)}"})
    reports = selectors.queue(
        _who(request), state=state, district=district[:8], national=national, mine=mine
    )
    return [summary_out(r) for r in reports[offset : offset + 200]]


@router.post("/reports", response={201: IntakeReportOut}, summary="Record a helpline call")
@api_requires(Perm.INTAKE_RECORD)
def record_call(request: HttpRequest, payload: HelplineIn) -> Any:
    data = payload.dict()
    data["district"] = _district(data["district"])
    report = actions.record_helpline_call(_who(request), request=request, **data)
    return Status(201, report_out(report))


@router.get(
    "/reports/{reference}",
    response=IntakeReportDetailOut,
    summary="A report, with a CyberTipline referral's matches",
)
@api_requires(Perm.INTAKE_HANDLE)
def get_report(request: HttpRequest, reference: str) -> Any:
    return report_detail_out(_who(request), selectors.load_report(_who(request), reference))


@router.post("/reports/{reference}/screen", response=IntakeReportOut, summary="Start screening")
@api_requires(Perm.INTAKE_HANDLE)
def screen_report(request: HttpRequest, reference: str) -> Any:
    report = selectors.load_report(_who(request), reference)
    return report_out(actions.start_screening(_who(request), report, request=request))


@router.post("/reports/{reference}/refer", response=IntakeReportOut, summary="Refer a report")
@api_requires(Perm.INTAKE_HANDLE)
def refer(request: HttpRequest, reference: str, payload: ReportReferIn) -> Any:
    report = selectors.load_report(_who(request), reference)
    done = actions.refer_report(
        _who(request), report, payload.referred_to, payload.note, request=request
    )
    return report_out(done)


@router.post("/reports/{reference}/close", response=IntakeReportOut, summary="Close a report")
@api_requires(Perm.INTAKE_HANDLE)
def close(request: HttpRequest, reference: str, payload: ReportCloseIn) -> Any:
    report = selectors.load_report(_who(request), reference)
    done = actions.close_report(
        _who(request), report, payload.reason, payload.note, request=request
    )
    return report_out(done)


@router.post("/reports/{reference}/assign", response=IntakeReportOut, summary="Assign a report")
@api_requires(Perm.INTAKE_HANDLE)
def assign(request: HttpRequest, reference: str, payload: ReportAssignIn) -> Any:
    report = selectors.load_report(_who(request), reference)
    return report_out(
        actions.assign_report(_who(request), report, payload.username or "", request=request)
    )


@router.post("/reports/{reference}/route", response=IntakeReportOut, summary="Move to a district")
@api_requires(Perm.INTAKE_HANDLE)
def route(request: HttpRequest, reference: str, payload: ReportRouteIn) -> Any:
    report = selectors.load_report(_who(request), reference)
    district = get_object_or_404(District, code=payload.district)
    done = actions.move_report_to_district(_who(request), report, district, request=request)
    return report_out(done)


@router.post("/reports/{reference}/reply", response={201: IntakeMessageOut}, summary="Reply")
@api_requires(Perm.INTAKE_HANDLE)
def reply(request: HttpRequest, reference: str, payload: ReporterReplyIn) -> Any:
    report = selectors.load_report(_who(request), reference)
    message = actions.reply_to_reporter(_who(request), report, payload.body, request=request)
    return Status(
        201, IntakeMessageOut(from_staff=True, body=message.body, created_at=message.created_at)
    )


@router.post(
    "/reports/{reference}/open-case",
    response={201: CaseFromReportOut},
    summary="Open a case from this report",
)
@api_requires(Perm.INTAKE_HANDLE, Perm.CASE_CREATE)
def open_case(request: HttpRequest, reference: str, payload: CaseFromReportIn) -> Any:
    report = selectors.load_report(_who(request), reference)
    agency = get_object_or_404(Agency, code=payload.agency)
    station = (
        None
        if payload.police_station is None
        else get_object_or_404(PoliceStation, pk=payload.police_station)
    )
    case = actions.open_case_from_report(
        _who(request),
        report,
        agency=agency,
        police_station=station,
        fir_number=payload.fir_number,
        request=request,
    )
    return Status(201, CaseFromReportOut(case=case.reference))


@router.get(
    "/clusters/{cluster_id}/ip-events",
    response=list[IpCaptureEventOut],
    summary="A referral cluster's IP capture events (audited)",
)
@api_requires(Perm.INTAKE_HANDLE)
def cluster_ip_events(request: HttpRequest, cluster_id: int) -> Any:
    cluster = selectors.load_cluster(_who(request), cluster_id)
    events = list(selectors.cluster_ip_events(_who(request), cluster))
    actions.record_ip_export(_who(request), cluster, rows=len(events), request=request)
    return [
        IpCaptureEventOut(
            cybertipline_report=e.tip.report_id_ncmec,
            ip_address=e.ip_address,
            event=e.event_name,
            occurred_at=e.occurred_at,
            port=e.port,
            possible_proxy=e.possible_proxy,
        )
        for e in events
    ]


class CybertipImportOut(Schema):
    source: str
    imported: int
    already_imported: int
    refused: list[str]
    routed_to_districts: int
    national_queue: int
    matches: int
    alerts: int
    file_error: str


@router.post(
    "/cybertips",
    response=CybertipImportOut,
    summary="Upload a CyberTipline referral file (XML or CSV), imported as a stream",
)
@api_requires(Perm.INTAKE_HANDLE)
def upload_cybertips(request: HttpRequest, file: File[UploadedFile]) -> Any:
    stream = file.file
    if stream is None:
        raise ValidationError({"file": _("Send the file.")})
    result = actions.import_cybertips(_who(request), stream, name=file.name or "upload")
    return CybertipImportOut(**result.as_dict())
