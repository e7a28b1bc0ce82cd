"""Vetting for child-facing employers: a yes/no answer about an applicant who consented, with
a receipt; the applicant (through the register office) sees every answer given about them."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import ObjectRef, record, record_read
from muhafiz.core import crypto
from muhafiz.core.identifiers import IdentifierError, format_cnic
from muhafiz.core.permissions import Perm, check_perm, principal_kind
from muhafiz.register.actions.organisations import organisation_of
from muhafiz.register.models import (
    APPLICANT_PURPOSE_MAX_LENGTH,
    CNIC_PURPOSE,
    OrganisationStatus,
    Registrant,
    RegistrantStatus,
    VettingAnswer,
    VettingRequest,
    cnic_digits,
)
from muhafiz.register.support import checked_text

# A consent older than this is stale: the employer asks the applicant again.
CONSENT_VALID_DAYS = 90
LISTED = (RegistrantStatus.PENDING, RegistrantStatus.ACTIVE)


def _cnic(raw: str) -> str:
    try:
        return cnic_digits(format_cnic(raw))
    except IdentifierError as exc:
        raise ValidationError({"applicant_cnic": str(exc)}) from None


def _purpose(value: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({"purpose": _("This field is required.")})
    if len(text) > APPLICANT_PURPOSE_MAX_LENGTH:
        limit = APPLICANT_PURPOSE_MAX_LENGTH
        raise ValidationError({"purpose": _("Keep it under %(n)d characters.") % {"n": limit}})
    return text


def vet_applicant(
    actor: Any,
    *,
    applicant_cnic: str,
    position: str,
    consent_reference: str,
    consent_given_on: date,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> VettingRequest:
    """Answer an employer's vetting question: yes/no only, and a receipt code naming the
    organisation. Needs the applicant's recorded consent (the form's reference and date) and an
    organisation approved by the register office that the asker belongs to."""
    check_perm(actor, Perm.REGISTER_VET, purpose=consent_reference or "")
    now = now or timezone.now()
    organisation = organisation_of(actor)
    if organisation is None or organisation.status != OrganisationStatus.APPROVED:
        raise PermissionDenied("register.vet: no organisation approved for vetting")
    position = checked_text(position, VettingRequest, "position")
    consent_reference = checked_text(consent_reference, VettingRequest, "consent_reference")
    digits = _cnic(applicant_cnic)
    today = timezone.localdate(now)
    if consent_given_on > today:
        raise ValidationError({"consent_given_on": _("This date is in the future.")})
    if consent_given_on < today - timedelta(days=CONSENT_VALID_DAYS):
        raise ValidationError(
            {
                "consent_given_on": _("The consent is older than %(n)d days: ask again.")
                % {"n": CONSENT_VALID_DAYS}
            }
        )
    candidates = crypto.blind_index_candidates(digits, CNIC_PURPOSE)
    listed = Registrant.objects.filter(cnic_index__in=candidates, status__in=LISTED).exists()
    with transaction.atomic():
        vetting = VettingRequest.objects.create(
            receipt=f"VET-{secrets.token_hex(4).upper()}-{secrets.token_hex(2).upper()}",
            organisation_ref=organisation,
            organisation=organisation.name,
            requested_by_user=actor if principal_kind(actor) == "user" else None,
            requested_by_client=actor if principal_kind(actor) == "client" else None,
            applicant_key=candidates[0],
            position=position,
            consent_reference=consent_reference,
            consent_given_on=consent_given_on,
            answer=VettingAnswer.EXISTS if listed else VettingAnswer.NONE,
            answered_at=now,
        )
        record(
            actor,
            "register.vetting_answered",
            vetting,
            request=request,
            reason=consent_reference,
            receipt=vetting.receipt,
            answer=vetting.answer,
            organisation=organisation.pk,
        )
    return vetting


@dataclass(frozen=True)
class VettingAnswerSeen:
    receipt: str
    organisation: str
    position: str
    answer: str
    answered_at: datetime


def answers_about_applicant(
    actor: Any, *, applicant_cnic: str, purpose: str, request: HttpRequest | None = None
) -> list[VettingAnswerSeen]:
    """Every vetting answer given about one applicant, for the applicant (who asks the register
    office, in person, with their CNIC). Audited before it is shown."""
    check_perm(actor, Perm.REGISTER_MANAGE)
    purpose = _purpose(purpose)
    digits = _cnic(applicant_cnic)
    candidates = crypto.blind_index_candidates(digits, CNIC_PURPOSE)
    rows = list(VettingRequest.objects.filter(applicant_key__in=candidates))
    record_read(
        actor,
        "register.vetting_answers_shown",
        ObjectRef("register.applicant", "-", "applicant"),
        reason=purpose,
        request=request,
        answers=len(rows),
    )
    return [
        VettingAnswerSeen(r.receipt, r.organisation, r.position, r.answer, r.answered_at)
        for r in rows
    ]
