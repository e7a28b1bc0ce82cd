"""Case-bound checks, the only search of the register there is: an investigator on a case's
team asks about a named accused of that case; the District Public Prosecutor of the case's
district approves or refuses within 48 hours (Punjab SOP, 22 Aug 2024); on approval the check
runs once, by blind index, and its limited answer is kept with the request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from muhafiz.audit.actions import record, record_read
from muhafiz.cases.actions import refuse_victim_identity
from muhafiz.cases.models import Accused, Case, IdentifierKind
from muhafiz.catalogue.models import DeadlineRule
from muhafiz.core.fields import blind_index_q
from muhafiz.core.permissions import (
    SYSTEM,
    Perm,
    check_perm,
    is_team_member,
    same_principal,
    user_pk,
)
from muhafiz.proceedings.actions import record_stage_event
from muhafiz.proceedings.clocks import deadline_for
from muhafiz.proceedings.models import StageCode, StageEvent
from muhafiz.register.models import (
    AlertKind,
    CheckRequest,
    CheckStatus,
    ConvictionStatus,
    Registrant,
    RegistrantIdentifier,
    RegistrantStatus,
)
from muhafiz.register.support import (
    alert_covering,
    holidays,
    raise_alerts,
    reason_text,
)

# The catalogue's rule for the prosecutor's 48 hours (catalogue/fixtures/deadlines.json).
CHECK_RULE = "register_check_forwarded"
FOUND_STATUSES = (RegistrantStatus.PENDING, RegistrantStatus.ACTIVE)


def _deadline(start: datetime) -> datetime:
    rule = DeadlineRule.objects.filter(code=CHECK_RULE, active=True).first()
    amount, unit = (rule.amount, rule.unit) if rule is not None else (48, "hours")
    return deadline_for(start, amount, unit, 0.75, holidays()).due_at


def request_check(
    actor: Any,
    case: Case,
    accused: Accused,
    *,
    reason: str,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> CheckRequest:
    """An investigator on the case team asks to check accused `accused` of `case`."""
    check_perm(actor, Perm.REGISTER_REQUEST, case, purpose=reason or "-")
    if not is_team_member(actor, case.access_scope()):
        raise PermissionDenied("register.request: not on the case team")
    if accused.case_id != case.pk:
        raise ValidationError({"accused": _("Only an accused of this case can be checked.")})
    reason = reason_text(reason, CheckRequest)
    refuse_victim_identity(case, reason=reason)
    if not StageEvent.objects.filter(case=case, code=StageCode.FIR_REGISTERED).exists():
        raise ValidationError(
            {
                "case": _(
                    "A check is asked about a suspect named in a registered FIR (Punjab SOP): "
                    "record the FIR in the case's proceedings first."
                )
            }
        )
    now = now or timezone.now()
    with transaction.atomic():
        check = CheckRequest.objects.create(
            case=case,
            accused=accused,
            reason=reason,
            requested_by=actor,
            requested_at=now,
            due_at=_deadline(now),
        )
        record(
            actor,
            "register.check_requested",
            check,
            request=request,
            reason=reason,
            case=case.reference,
            accused=accused.label,
            due_at=check.due_at.isoformat(),
        )
        _on_timeline(check, StageCode.REGISTER_CHECK_REQUESTED, now, "requested")
        alert_covering(
            Perm.REGISTER_APPROVE,
            case.district,
            AlertKind.CHECK_REQUESTED,
            gettext_noop("A register check in %(case)s awaits your decision."),
            params={"case": case.reference},
            link=f"/register/checks/{check.pk}/",
            dedupe_key=f"check:{check.pk}",
        )
    return check


def decide_check(
    actor: Any,
    check: CheckRequest,
    *,
    approve: bool,
    reason: str,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> CheckRequest:
    """The District Public Prosecutor of the case's district approves (the check runs now and
    its answer is kept with the request) or refuses, with a reason."""
    check_perm(actor, Perm.REGISTER_APPROVE, check, purpose=reason or "-")
    if same_principal(actor, check.requested_by):
        raise PermissionDenied("register.approve: not one's own request")
    reason = reason_text(reason, CheckRequest, model_field="decision_reason")
    refuse_victim_identity(check.case, reason=reason)
    now = now or timezone.now()
    with transaction.atomic():
        check = CheckRequest.objects.select_for_update().get(pk=check.pk)
        if check.status != CheckStatus.REQUESTED:
            raise ValidationError(_("This request is already decided."))
        check.status = CheckStatus.APPROVED if approve else CheckStatus.REFUSED
        check.decided_by = actor
        check.decided_at = now
        check.decision_reason = reason
        if approve:
            check.result = _run_lookup(check.accused, now)
        check.save(
            update_fields=["status", "decided_by", "decided_at", "decision_reason", "result"]
        )
        _on_timeline(
            check,
            StageCode.REGISTER_CHECK_FORWARDED if approve else StageCode.REGISTER_CHECK_REFUSED,
            now,
            "approved" if approve else "refused",
        )
        outcome: dict[str, Any] = {"found": bool(check.result["found"])} if check.result else {}
        record(
            actor,
            "register.check_approved" if approve else "register.check_refused",
            check,
            request=request,
            reason=reason,
            case=check.case.reference,
            late=now > check.due_at,
            **outcome,
        )
        raise_alerts(
            [check.requested_by_id],
            AlertKind.CHECK_DECIDED,
            gettext_noop("Your register check in %(case)s was decided."),
            params={"case": check.case.reference},
            link=f"/register/checks/{check.pk}/",
            dedupe_key=f"decided:{check.pk}",
        )
    return check


def _on_timeline(check: CheckRequest, code: str, now: datetime, what: str) -> None:
    """The check's step as a stage event of the case (proceedings' own action, as the system:
    the register already checked and audits the person), which starts or stops the case's
    48-hour clock `register_check_forwarded`. A second request about the same accused keeps
    the first one's events (each stage happens once per accused)."""
    if StageEvent.objects.filter(case=check.case, code=code, accused=check.accused).exists():
        return
    if (
        code != StageCode.REGISTER_CHECK_REQUESTED
        and not StageEvent.objects.filter(
            case=check.case, code=StageCode.REGISTER_CHECK_REQUESTED, accused=check.accused
        ).exists()
    ):
        return  # asked before checks reached the timeline: nothing to close
    record_stage_event(
        SYSTEM,
        check.case,
        code=code,
        occurred_at=now,
        accused=check.accused,
        note=f"register check {check.pk} {what}",
        now=now,
    )


def view_check_result(
    actor: Any, check: CheckRequest, *, request: HttpRequest | None = None
) -> dict[str, Any]:
    """The requester reads the kept answer of an approved check (audited before it is shown)."""
    check_perm(actor, Perm.REGISTER_REQUEST, check, purpose=check.reason)
    if user_pk(actor) != check.requested_by_id:
        raise PermissionDenied("register.request: only the requester reads the answer")
    if check.status != CheckStatus.APPROVED or check.result is None:
        raise ValidationError(_("The prosecutor has not approved this check."))
    record_read(
        actor,
        "register.check_result_viewed",
        check,
        reason=check.reason,
        request=request,
        case=check.case.reference,
    )
    return dict(check.result)


def _run_lookup(accused: Accused, now: datetime) -> dict[str, Any]:
    """The check itself, for one accused: by CNIC's blind index, then phone, then the exact
    name as secondary keys. Returns the limited answer: found or not, and if found the
    convictions, the compliance status and the last verified district, never an address."""
    identifiers = list(accused.identifiers.all())
    registrant: Registrant | None = None
    match_by = ""
    live = Registrant.objects.filter(status__in=FOUND_STATUSES)
    for ident in identifiers:
        if ident.kind == IdentifierKind.CNIC:
            registrant = live.filter(blind_index_q(Registrant, "cnic_index", ident.value)).first()
            if registrant is not None:
                match_by = "cnic"
                break
    if registrant is None:
        for ident in identifiers:
            if ident.kind != IdentifierKind.PHONE:
                continue
            hit = (
                RegistrantIdentifier.objects.filter(
                    blind_index_q(RegistrantIdentifier, "value_index", ident.value),
                    kind=IdentifierKind.PHONE,
                    registrant__status__in=FOUND_STATUSES,
                )
                .select_related("registrant")
                .first()
            )
            if hit is not None:
                registrant, match_by = hit.registrant, "phone"
                break
    if registrant is None and accused.name.strip():
        registrant = live.filter(blind_index_q(Registrant, "name_index", accused.name)).first()
        match_by = "name" if registrant is not None else ""
    checked_at = now.isoformat()
    if registrant is None:
        return {"found": False, "checked_at": checked_at}
    return {"found": True, "checked_at": checked_at, **_limited_record(registrant, match_by)}


def _limited_record(registrant: Registrant, match_by: str) -> dict[str, Any]:
    convictions = [
        {
            "case": c.case.reference,
            "court": c.court.name if c.court else "",
            "convicted_on": timezone.localdate(c.convicted_at).isoformat(),
            "sections": list(c.offence_codes),
            "sentence": c.sentence,
            "tier": c.tier,
        }
        for c in registrant.convictions.select_related("case", "court").exclude(
            status=ConvictionStatus.SUSPENDED
        )
    ]
    verified = (
        registrant.addresses.filter(verified_at__isnull=False)
        .select_related("district")
        .order_by("-verified_at")
        .first()
    )
    return {
        "match_by": match_by,
        "registrant": registrant.code,
        "convictions": convictions,
        "compliance": registrant.compliance,
        "last_verified_district": verified.district.name if verified else None,
    }
