"""The district triage queue: screen, assign, refer, close and reopen a report, reply to the
reporter, and open a case from a report (through cases' actions, never its tables)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.accounts.selectors import staff_named
from muhafiz.audit.actions import record
from muhafiz.catalogue.models import Agency, District, PoliceStation
from muhafiz.core.permissions import Perm, check_perm, has_perm, user_pk
from muhafiz.intake.actions._common import Place, _clean_text, _user_or_none
from muhafiz.intake.models import (
    CONCERN_FACTS,
    NEXT_STATES,
    CloseReason,
    ReferredTo,
    Report,
    ReportMessage,
    ReportState,
    ReportTransition,
)


def _move(
    actor: Any,
    report: Report,
    to: str,
    *,
    note: str = "",
    fields: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
    **details: Any,
) -> Report:
    """Move `report` to state `to` (under a row lock), write the transition and the audit."""
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if to not in NEXT_STATES.get(locked.state, frozenset()):
            raise ValidationError(
                _("A report that is %(state)s cannot become %(to)s.")
                % {
                    "state": ReportState(locked.state).label,
                    "to": ReportState(to).label,
                }
            )
        changes = {"state": to, **(fields or {})}
        if locked.screened_at is None and to != ReportState.NEW:
            changes["screened_at"] = timezone.now()
        for name, value in changes.items():
            setattr(report, name, value)
        report.save(update_fields=list(changes))
        ReportTransition.objects.create(
            report=report, from_state=locked.state, to_state=to, note=note, by=_user_or_none(actor)
        )
        record(
            actor,
            f"intake.report.{to}",
            report,
            request=request,
            from_state=locked.state,
            **details,
        )
    return report


def start_screening(actor: Any, report: Report, *, request: HttpRequest | None = None) -> Report:
    """Take a new report (or a referred or closed one back) into screening."""
    check_perm(actor, Perm.INTAKE_HANDLE, report)
    return _move(actor, report, ReportState.SCREENING, request=request)


def refer_report(
    actor: Any, report: Report, to: str, note: str = "", *, request: HttpRequest | None = None
) -> Report:
    """Refer a screened report to the police (SSOIU) or to child protection."""
    check_perm(actor, Perm.INTAKE_HANDLE, report)
    if to not in ReferredTo.values:
        raise ValidationError({"referred_to": _("Choose police or child protection.")})
    note = _clean_text(note, ReportTransition, "note")
    return _move(
        actor,
        report,
        ReportState.REFERRED,
        note=note,
        fields={"referred_to": to},
        request=request,
        referred_to=to,
    )


def close_report(
    actor: Any, report: Report, reason: str, note: str = "", *, request: HttpRequest | None = None
) -> Report:
    """Close a report with a reason from the list."""
    check_perm(actor, Perm.INTAKE_HANDLE, report)
    if reason not in CloseReason.values:
        raise ValidationError({"reason": _("Choose a reason from the list.")})
    note = _clean_text(note, ReportTransition, "note")
    return _move(
        actor,
        report,
        ReportState.CLOSED,
        note=note,
        fields={"close_reason": reason},
        request=request,
        reason=reason,
    )


def assign_report(
    actor: Any, report: Report, person: Any | None, *, request: HttpRequest | None = None
) -> Report:
    """Give the report to a person who handles this queue (None or "": unassign). `person` may
    be a username, looked up after the permission check; a name that holds nobody gets the
    answer of a person who does not handle the queue, so no answer tells which names exist."""
    check_perm(actor, Perm.INTAKE_HANDLE, report)
    if isinstance(person, str):
        named = person.strip()
        person = staff_named(named) if named else None
        if named and person is None:
            raise ValidationError({"assigned_to": _("That person does not handle this queue.")})
    if person is not None and not has_perm(person, Perm.INTAKE_HANDLE, report):
        raise ValidationError({"assigned_to": _("That person does not handle this queue.")})
    with transaction.atomic():
        report.assigned_to = person
        report.save(update_fields=["assigned_to"])
        record(actor, "intake.report.assign", report, request=request, to=user_pk(person))
    return report


def move_report_to_district(
    actor: Any, report: Report, district: District, *, request: HttpRequest | None = None
) -> Report:
    """Route a report of the national queue (or a wrongly placed one) to a district's queue."""
    check_perm(actor, Perm.INTAKE_HANDLE, report)
    check_perm(actor, Perm.INTAKE_HANDLE, Place(district))
    with transaction.atomic():
        before = report.district.code if report.district is not None else ""
        report.district = district
        report.assigned_to = None
        report.save(update_fields=["district", "assigned_to"])
        record(
            actor,
            "intake.report.route",
            report,
            request=request,
            before=before,
            after=district.code,
        )
    return report


def reply_to_reporter(
    actor: Any, report: Report, text: str, *, request: HttpRequest | None = None
) -> ReportMessage:
    """A staff reply the public reporter reads with their receipt code and passphrase."""
    check_perm(actor, Perm.INTAKE_HANDLE, report)
    if not report.receipt_code:
        raise ValidationError(_("Only a public web report can be answered here."))
    body = _clean_text(text, ReportMessage, "body", required=True)
    with transaction.atomic():
        message = ReportMessage.objects.create(
            report=report, from_staff=True, author=_user_or_none(actor), body=body
        )
        record(actor, "intake.report.reply", report, request=request, message=message.pk)
    return message


def open_case_from_report(
    actor: Any,
    report: Report,
    *,
    agency: Agency,
    police_station: PoliceStation | None = None,
    fir_number: str = "",
    summary: str | None = None,
    request: HttpRequest | None = None,
) -> Any:
    """Open a case from the report through `cases.actions.create_case`: the district, the
    time received, the facts implied by what the report is about and the account as summary
    are carried over; the report is linked to the case and becomes *case opened*."""
    from muhafiz.cases import actions as cases
    from muhafiz.cases.models import Case
    from muhafiz.core.limits import max_length

    check_perm(actor, Perm.INTAKE_HANDLE, report)
    district = report.district
    if district is None:
        raise ValidationError(_("Route the report to a district before opening a case."))
    if report.case_id is not None:
        raise ValidationError(_("A case was already opened from this report."))
    if not report.is_open:
        raise ValidationError(_("Reopen the report before opening a case from it."))
    text = report.account if summary is None else summary
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        if locked.case_id is not None:
            raise ValidationError(_("A case was already opened from this report."))
        case = cases.create_case(
            actor,
            district=district,
            agency=agency,
            police_station=police_station,
            fir_number=fir_number,
            reported_at=report.received_at,
            summary=text[: max_length(Case, "summary")],
            facts=CONCERN_FACTS.get(report.concern, ()),
            request=request,
        )
        from_state = locked.state
        report.case = case
        report.state = ReportState.CASE_OPENED
        report.screened_at = report.screened_at or timezone.now()
        report.save(update_fields=["case", "state", "screened_at"])
        ReportTransition.objects.create(
            report=report,
            from_state=from_state,
            to_state=ReportState.CASE_OPENED,
            note=case.reference,
            by=_user_or_none(actor),
        )
        record(
            actor,
            "intake.report.case_opened",
            report,
            request=request,
            case=case.reference,
            from_state=from_state,
        )
    return case
