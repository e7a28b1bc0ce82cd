"""API routes of the register (mounted under /api/v1/register).

Like the pages: objects are loaded through `register.selectors` and written through
`register.actions`. Registrant data leaves only through the register office's and the
district police's registrant record, or as the limited answer of an approved check
(`POST /checks/{id}/result`, audited). Vetting answers carry yes/no and a receipt, nothing else.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status

from muhafiz.cases.models import CNIC_MAX_LENGTH, Accused, Case
from muhafiz.cases.selectors import load_case
from muhafiz.catalogue.models import District
from muhafiz.core.api import api_requires, api_signed_in
from muhafiz.core.limits import max_length
from muhafiz.core.permissions import Perm
from muhafiz.register import actions, selectors
from muhafiz.register.models import (
    Address,
    CheckRequest,
    Notification,
    Registrant,
    Verification,
    VettingRequest,
)

router = Router(tags=["register"])

_ADDRESS = max_length(Address, "address")
_DISTRICT = max_length(District, "code")


def _who(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


# --- schemas ------------------------------------------------------------------------------------


class CheckIn(Schema):
    case: str = Field(
        ...,
        max_length=max_length(Case, "reference"),
        description="Case reference, e.g. LHR-2026-0001",
    )
    accused: str = Field(
        ...,
        max_length=max_length(Accused, "label"),
        description="The accused's label on the case (A1)",
    )
    reason: str = Field(..., min_length=1, max_length=max_length(CheckRequest, "reason"))


class CheckOut(Schema):
    id: int
    case: str
    accused: str
    status: str
    requested_at: dt.datetime
    due_at: dt.datetime
    decided_at: dt.datetime | None
    decision_reason: str


class DecisionIn(Schema):
    approve: bool
    reason: str = Field(..., min_length=1, max_length=max_length(CheckRequest, "decision_reason"))


class ConvictionSummary(Schema):
    case: str
    court: str
    convicted_on: str
    sections: list[str]
    sentence: str
    tier: str


class ResultOut(Schema):
    """The limited answer of an approved check: never a name, CNIC or address."""

    found: bool
    checked_at: str
    match_by: str | None = None
    registrant: str | None = None
    convictions: list[ConvictionSummary] = Field(default_factory=list)
    compliance: str | None = None
    last_verified_district: str | None = None


class VettingIn(Schema):
    """The asking organisation is the caller's (approved by the register office)."""

    position: str = Field(..., min_length=1, max_length=max_length(VettingRequest, "position"))
    applicant_cnic: str = Field(..., max_length=CNIC_MAX_LENGTH)
    consent_reference: str = Field(
        ..., min_length=1, max_length=max_length(VettingRequest, "consent_reference")
    )
    consent_given_on: dt.date


class VettingOut(Schema):
    receipt: str
    answer: str
    organisation: str


class AddressOut(Schema):
    address: str
    district: str
    since: dt.date
    until: dt.date | None
    verified_at: dt.datetime | None
    verified_by: str | None


class RegistrantOut(Schema):
    code: str
    status: str
    compliance: str
    name: str
    cnic: str
    district: str | None
    released_at: dt.datetime | None
    period_ends_on: dt.date | None
    indefinite: bool
    flags: list[str]
    addresses: list[AddressOut]


class VerificationIn(Schema):
    visited_at: dt.datetime
    outcome: str = Field(..., max_length=max_length(Verification, "outcome"))
    district: str = Field(..., max_length=_DISTRICT)
    new_address: str = Field("", max_length=_ADDRESS)
    photo_reference: str = Field("", max_length=max_length(Verification, "photo_reference"))


class NotificationIn(Schema):
    kind: str = Field(..., max_length=max_length(Notification, "kind"))
    changed_on: dt.date
    how: str = Field("police_station", max_length=max_length(Notification, "how"))
    details: str = Field("", max_length=max_length(Notification, "details"))
    new_address: str = Field("", max_length=_ADDRESS)
    district: str | None = Field(None, max_length=_DISTRICT)


class CreatedOut(Schema):
    id: int


class DueOut(Schema):
    kind: str
    label: str
    due_at: dt.datetime | None
    link: str


def check_out(check: CheckRequest) -> CheckOut:
    return CheckOut(
        id=check.pk,
        case=check.case.reference,
        accused=check.accused.label,
        status=check.status,
        requested_at=check.requested_at,
        due_at=check.due_at,
        decided_at=check.decided_at,
        decision_reason=check.decision_reason,
    )


def registrant_out(registrant: Registrant) -> RegistrantOut:
    record = selectors.registrant_record(registrant)
    return RegistrantOut(
        code=registrant.code,
        status=registrant.status,
        compliance=registrant.compliance,
        name=registrant.name,
        cnic=registrant.cnic,
        district=registrant.district.code if registrant.district else None,
        released_at=registrant.released_at,
        period_ends_on=registrant.period_ends_on,
        indefinite=registrant.indefinite,
        flags=record.flags,
        addresses=[
            AddressOut(
                address=a.address,
                district=a.district.code,
                since=a.since,
                until=a.until,
                verified_at=a.verified_at,
                verified_by=a.verified_by.username if a.verified_by else None,
            )
            for a in record.addresses
        ],
    )


# --- checks -------------------------------------------------------------------------------------


@router.post("/checks", response={201: CheckOut}, summary="Ask to check a named accused")
@api_requires(Perm.REGISTER_REQUEST)
def request_check(request: HttpRequest, payload: CheckIn) -> Any:
    case = load_case(_who(request), payload.case.strip().upper(), Perm.CASE_VIEW)
    accused = Accused.objects.filter(case=case, label=payload.accused.strip().upper()).first()
    if accused is None:
        raise ValidationError({"accused": ["This case has no accused with that label."]})
    check = actions.request_check(
        _who(request), case, accused, reason=payload.reason, request=request
    )
    return Status(201, check_out(check))


@router.get("/checks", response=list[CheckOut], summary="The caller's checks (or to decide)")
@api_signed_in
def list_checks(request: HttpRequest) -> Any:
    return [check_out(c) for c in selectors.checks_for(_who(request))[:200]]


@router.get("/checks/{check_id}", response=CheckOut, summary="One check's state")
@api_signed_in
def get_check(request: HttpRequest, check_id: int) -> Any:
    return check_out(selectors.load_check(_who(request), check_id))


@router.post("/checks/{check_id}/decision", response=CheckOut, summary="Approve or refuse")
@api_requires(Perm.REGISTER_APPROVE)
def decide_check(request: HttpRequest, check_id: int, payload: DecisionIn) -> Any:
    check = selectors.load_check(_who(request), check_id)
    check = actions.decide_check(
        _who(request), check, approve=payload.approve, reason=payload.reason, request=request
    )
    return check_out(check)


@router.post(
    "/checks/{check_id}/result", response=ResultOut, summary="The answer of an approved check"
)
@api_requires(Perm.REGISTER_REQUEST)
def check_result(request: HttpRequest, check_id: int) -> Any:
    check = selectors.load_check(_who(request), check_id)
    return ResultOut(**actions.view_check_result(_who(request), check, request=request))


# --- vetting ------------------------------------------------------------------------------------


@router.post("/vetting", response={201: VettingOut}, summary="Yes/no vetting of an applicant")
@api_requires(Perm.REGISTER_VET)
def vet(request: HttpRequest, payload: VettingIn) -> Any:
    answer = actions.vet_applicant(_who(request), request=request, **payload.dict())
    return Status(
        201,
        VettingOut(receipt=answer.receipt, answer=answer.answer, organisation=answer.organisation),
    )


# --- registrants (register office, police of the district) -------------------------------------


@router.get("/registrants/{code}", response=RegistrantOut, summary="A registrant's record")
@api_signed_in
def get_registrant(request: HttpRequest, code: str) -> Any:
    return registrant_out(selectors.load_registrant(_who(request), code))


@router.post(
    "/registrants/{code}/verifications",
    response={201: CreatedOut},
    summary="Record a verification visit",
)
@api_requires(Perm.REGISTER_VERIFY)
def add_verification(request: HttpRequest, code: str, payload: VerificationIn) -> Any:
    registrant = selectors.load_registrant(_who(request), code)
    visit = actions.record_verification(
        _who(request),
        registrant,
        visited_at=payload.visited_at,
        outcome=payload.outcome,
        district=get_object_or_404(District, code=payload.district),
        new_address=payload.new_address,
        photo_reference=payload.photo_reference,
        request=request,
    )
    return Status(201, CreatedOut(id=visit.pk))


@router.post(
    "/registrants/{code}/notifications",
    response={201: CreatedOut},
    summary="Record a notification of a change",
)
@api_requires(Perm.REGISTER_VERIFY)
def add_notification(request: HttpRequest, code: str, payload: NotificationIn) -> Any:
    registrant = selectors.load_registrant(_who(request), code)
    district = get_object_or_404(District, code=payload.district) if payload.district else None
    notice = actions.record_notification(
        _who(request),
        registrant,
        kind=payload.kind,
        changed_on=payload.changed_on,
        details=payload.details,
        how=payload.how,
        new_address=payload.new_address,
        district=district,
        request=request,
    )
    return Status(201, CreatedOut(id=notice.pk))


@router.get("/due", response=list[DueOut], summary="What the register asks of the caller now")
@api_signed_in
def due(request: HttpRequest) -> Any:
    return [DueOut(**vars(item)) for item in selectors.due_for(_who(request))]
