"""Due process and incidents: corrections and appeals (received → under review → decided, with
reasons), the harassment-incident log and disclosures outside the rules, and alerts read."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record
from muhafiz.catalogue.models import District
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import Perm, check_perm, user_pk
from muhafiz.register.actions.entries import (
    RemovalReason,
    _apply_rule,
    _refresh_period,
    remove_entry,
)
from muhafiz.register.models import (
    REVIEW_KINDS,
    ConvictionStatus,
    DueProcessKind,
    DueProcessRequest,
    DueProcessState,
    Incident,
    IncidentKind,
    PeriodRule,
    RegisterAlert,
    Registrant,
    RegistrantStatus,
)
from muhafiz.register.reviews import clean_record_blots, review_for
from muhafiz.register.support import reason_text, require_any, user_or_none

OPEN_STATES = (DueProcessState.RECEIVED, DueProcessState.UNDER_REVIEW)

THROUGH = ("register_officer", "counsel")


def submit_due_process(
    actor: Any,
    registrant: Registrant,
    *,
    kind: str,
    grounds: str,
    submitted_through: str,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> DueProcessRequest:
    """A registrant's correction request, appeal (against the entry or its tier) or review
    request (a right that opens with time: SORNA tier I reduction after 10 clean years, UK
    review of indefinite registration after 15 years), received through a register officer or
    their counsel. A review is refused before it opens, and gets its decision clock."""
    check_perm(actor, Perm.REGISTER_MANAGE)
    now = now or timezone.now()
    if registrant.status == RegistrantStatus.REMOVED:
        raise ValidationError(_("The entry is removed."))
    if kind not in DueProcessKind.values:
        raise ValidationError({"kind": _("Choose a correction or an appeal.")})
    if submitted_through not in THROUGH:
        raise ValidationError({"submitted_through": _("Through a register officer or counsel.")})
    grounds = reason_text(grounds, DueProcessRequest, "grounds")
    due_at = _review_due(registrant, kind, now) if kind in REVIEW_KINDS else None
    with transaction.atomic():
        item = DueProcessRequest.objects.create(
            registrant=registrant,
            kind=kind,
            grounds=grounds,
            submitted_through=submitted_through,
            received_at=now,
            due_at=due_at,
        )
        record(
            actor,
            "register.due_process_received",
            item,
            request=request,
            registrant=registrant.code,
            kind=kind,
            due_at=due_at.isoformat() if due_at else "",
        )
    return item


def _review_due(registrant: Registrant, kind: str, now: datetime) -> datetime:
    """Refuse a review that is not open yet (or not for this registration); else when it must
    be decided."""
    review = review_for(registrant, kind)
    if review is None:
        raise ValidationError({"kind": _("This review does not apply to this registration.")})
    if review.opens_on is None:
        raise ValidationError({"kind": _("Record the release first: the review counts from it.")})
    if timezone.localdate(now) < review.opens_on:
        raise ValidationError(
            {"kind": _("This review may be asked from %(date)s.") % {"date": review.opens_on}}
        )
    if DueProcessRequest.objects.filter(
        registrant=registrant, kind=kind, state__in=OPEN_STATES
    ).exists():
        raise ValidationError({"kind": _("A review of this kind is already open.")})
    if kind == DueProcessKind.TIER_REDUCTION:
        blots = clean_record_blots(registrant, since=review.clean_since)
        if blots:
            raise ValidationError(
                {"kind": _("The record is not clean: %(what)s.") % {"what": ", ".join(blots)}}
            )
    return now + timedelta(days=review.decision_days)


def start_review(
    actor: Any, item: DueProcessRequest, *, request: HttpRequest | None = None
) -> DueProcessRequest:
    check_perm(actor, Perm.REGISTER_MANAGE)
    if item.state != DueProcessState.RECEIVED:
        raise ValidationError(_("Only a received request goes under review."))
    with transaction.atomic():
        item.state = DueProcessState.UNDER_REVIEW
        item.save(update_fields=["state"])
        record(actor, "register.due_process_review", item, request=request)
    return item


def decide_due_process(
    actor: Any,
    item: DueProcessRequest,
    *,
    upheld: bool,
    reasons: str,
    corrected_name: str = "",
    corrected_aliases: str | None = None,
    new_rule: PeriodRule | None = None,
    request: HttpRequest | None = None,
) -> DueProcessRequest:
    """Decide with reasons. Upheld: a correction corrects the name or aliases; an appeal
    against the entry removes it (person details erased); an appeal against the tier applies
    the new rule to the registrant's convictions."""
    check_perm(actor, Perm.REGISTER_MANAGE)
    if item.state == DueProcessState.DECIDED:
        raise ValidationError(_("This request is already decided."))
    reasons = reason_text(reasons, DueProcessRequest, "reasons", model_field="decision_reasons")
    check_lengths(Registrant, {"corrected_name": corrected_name}, fields={"corrected_name": "name"})
    if upheld and item.kind == DueProcessKind.APPEAL_TIER and new_rule is None:
        raise ValidationError({"new_rule": _("Choose the rule that applies instead.")})
    registrant = item.registrant
    with transaction.atomic():
        item.state = DueProcessState.DECIDED
        item.upheld = upheld
        item.decision_reasons = reasons
        item.decided_at = timezone.now()
        item.decided_by = user_or_none(actor)
        item.save(update_fields=["state", "upheld", "decision_reasons", "decided_at", "decided_by"])
        record(
            actor,
            "register.due_process_decided",
            item,
            request=request,
            registrant=registrant.code,
            kind=item.kind,
            upheld=upheld,
        )
        if upheld and item.kind == DueProcessKind.CORRECTION:
            fields = []
            if corrected_name.strip():
                registrant.name = corrected_name.strip()
                fields += ["name", "name_index"]
            if corrected_aliases is not None:
                registrant.aliases = corrected_aliases.strip()
                fields.append("aliases")
            if fields:
                registrant.save(update_fields=fields)
                record(actor, "register.entry_corrected", registrant, fields=fields)
        elif upheld and item.kind == DueProcessKind.APPEAL_TIER and new_rule is not None:
            _apply_rule(actor, registrant, new_rule)
        elif upheld and item.kind == DueProcessKind.APPEAL_ENTRY:
            remove_entry(actor, registrant, reason=RemovalReason.APPEAL, request=request)
        elif upheld and item.kind == DueProcessKind.TIER_REDUCTION:
            _reduce_period(actor, registrant)
        elif upheld and item.kind == DueProcessKind.INDEFINITE_REVIEW:
            # Discharged from the notification requirements: the registration ends.
            remove_entry(actor, registrant, reason=RemovalReason.REVIEW, request=request)
    return item


def _reduce_period(actor: Any, registrant: Registrant) -> None:
    """A granted tier I reduction: each live conviction's period shortened by its rule's
    `review_reduction_months`; the end of registration follows."""
    reduced = 0
    for conviction in registrant.convictions.exclude(
        status=ConvictionStatus.SUSPENDED
    ).select_related("rule"):
        rule = conviction.rule
        if rule is None or not rule.review_reduction_months or conviction.period_months is None:
            continue
        conviction.period_months = max(conviction.period_months - rule.review_reduction_months, 0)
        conviction.save(update_fields=["period_months"])
        reduced += 1
    _refresh_period(registrant)
    record(
        actor,
        "register.period_reduced",
        registrant,
        convictions=reduced,
        period_ends_on=registrant.period_ends_on.isoformat() if registrant.period_ends_on else "",
    )


def record_incident(
    actor: Any,
    *,
    kind: str,
    occurred_on: date,
    description: str,
    registrant: Registrant | None = None,
    district: District | None = None,
    request: HttpRequest | None = None,
) -> Incident:
    """Log a report that a registrant was harassed because of registration, or a disclosure
    of register data outside the rules (register office and the police who verify)."""
    require_any(actor, {Perm.REGISTER_MANAGE, Perm.REGISTER_VERIFY})
    if user_pk(actor) is None:
        raise PermissionDenied("staff only")
    if kind not in IncidentKind.values:
        raise ValidationError({"kind": _("Choose the kind of incident.")})
    if occurred_on > timezone.localdate():
        raise ValidationError({"occurred_on": _("This date is in the future.")})
    description = reason_text(description, Incident, "description")
    with transaction.atomic():
        incident = Incident.objects.create(
            kind=kind,
            registrant_code=registrant.code if registrant else "",
            district=district or (registrant.district if registrant else None),
            occurred_on=occurred_on,
            description=description,
            recorded_by=actor,
        )
        record(
            actor,
            "register.incident_recorded",
            incident,
            request=request,
            kind=kind,
            registrant=incident.registrant_code,
        )
    return incident


def mark_alert_read(actor: Any, alert: RegisterAlert) -> RegisterAlert:
    """The recipient marks one of their register alerts read."""
    pk = user_pk(actor)
    if pk is None or not getattr(actor, "is_active", False) or alert.recipient_id != pk:
        raise PermissionDenied("not your alert")
    if alert.read_at is None:
        with transaction.atomic():
            alert.read_at = timezone.now()
            alert.save(update_fields=["read_at"])
            record(actor, "register.alert_read", alert)
    return alert
