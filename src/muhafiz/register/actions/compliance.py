"""Compliance: verification visits and notifications recorded by the police of the registrant's
district, changes the police found out about (which open a notification clock), and the daily
compliance job: clocks missed → non-compliant → after a grace, absconder (alerted once)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from muhafiz.accounts.models import User
from muhafiz.audit.actions import record
from muhafiz.catalogue.models import District, PoliceStation
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import Perm, check_perm, check_system
from muhafiz.proceedings.clocks import ClockState, clock_state
from muhafiz.register.actions.entries import _schedule_verification
from muhafiz.register.models import (
    Address,
    AlertKind,
    Compliance,
    HowReceived,
    NoticeKind,
    Notification,
    Obligation,
    ObligationKind,
    RegisterAlert,
    Registrant,
    RegistrantStatus,
    Verification,
    VerificationOutcome,
)
from muhafiz.register.support import (
    absconder_grace_days,
    advance_deadline,
    bulk_alerts,
    day_start,
    notice_deadline,
    notice_rule,
    open_obligation,
    people_covering,
    user_or_none,
)

FUTURE_TOLERANCE = timedelta(minutes=5)
# How far ahead a planned journey may be recorded.
TRAVEL_HORIZON = timedelta(days=366)


def _check_live(registrant: Registrant) -> None:
    if registrant.status != RegistrantStatus.ACTIVE or registrant.released_at is None:
        raise ValidationError(
            _("Only a registered person released from custody verifies and notifies.")
        )


def _check_when(moment: datetime, now: datetime, field: str) -> None:
    if timezone.is_naive(moment):
        raise ValidationError({field: _("Give the time with its time zone.")})
    if moment > now + FUTURE_TOLERANCE:
        raise ValidationError({field: _("This date is in the future.")})


def _meet(registrant: Registrant, kinds: set[str], when: datetime, notice_kind: str = "") -> int:
    """Stop the registrant's open clocks of `kinds` at `when` (met, or met late)."""
    met = 0
    open_ones = Obligation.objects.filter(
        registrant=registrant, kind__in=kinds, met_at__isnull=True
    )
    if notice_kind:
        open_ones = open_ones.filter(notice_kind=notice_kind)
    for obligation in open_ones:
        obligation.met_at = when
        obligation.state = clock_state(
            due_at=obligation.due_at, due_soon_at=obligation.due_soon_at, stopped_at=when, now=when
        )
        obligation.save(update_fields=["met_at", "state"])
        met += 1
    return met


def _recheck_compliance(registrant: Registrant) -> list[str]:
    """Back to compliant once no missed clock is open (a late verification clears a flag)."""
    if registrant.compliance == Compliance.COMPLIANT:
        return []
    missed_open = Obligation.objects.filter(
        registrant=registrant, met_at__isnull=True, state=ClockState.MISSED
    ).exists()
    if missed_open:
        return []
    registrant.compliance = Compliance.COMPLIANT
    registrant.non_compliant_since = None
    registrant.absconder_since = None
    return ["compliance", "non_compliant_since", "absconder_since"]


def record_verification(
    actor: Any,
    registrant: Registrant,
    *,
    visited_at: datetime,
    outcome: str,
    district: District,
    new_address: str = "",
    police_station: PoliceStation | None = None,
    photo_reference: str = "",
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> Verification:
    """An in-person verification by the police of the registrant's district. Found (at the
    registered or a new address): the initial registration and the due verification are met,
    the address is marked verified by this officer, the next visit is scheduled."""
    check_perm(actor, Perm.REGISTER_VERIFY, registrant)
    now = now or timezone.now()
    _check_live(registrant)
    _check_when(visited_at, now, "visited_at")
    if outcome not in VerificationOutcome.values:
        raise ValidationError({"outcome": _("Choose the outcome of the visit.")})
    if outcome == VerificationOutcome.MOVED and not new_address.strip():
        raise ValidationError({"new_address": _("Give the new address.")})
    if police_station is not None and police_station.district_id != district.pk:
        raise ValidationError({"police_station": _("The police station is not in the district.")})
    check_lengths(Verification, {"photo_reference": photo_reference})
    check_lengths(Address, {"new_address": new_address}, fields={"new_address": "address"})
    with transaction.atomic():
        visit = Verification.objects.create(
            registrant=registrant,
            visited_at=visited_at,
            officer=user_or_none(actor),
            outcome=outcome,
            district=district,
            photo_reference=photo_reference.strip(),
        )
        met = 0
        fields: list[str] = []
        if outcome != VerificationOutcome.NOT_FOUND:
            day = timezone.localdate(visited_at)
            current = Address.objects.filter(registrant=registrant, until__isnull=True).first()
            if outcome == VerificationOutcome.MOVED or current is None:
                Address.objects.filter(registrant=registrant, until__isnull=True).update(until=day)
                current = Address.objects.create(
                    registrant=registrant,
                    address=new_address.strip() or "—",
                    district=district,
                    police_station=police_station,
                    since=day,
                    source="verification",
                )
            current.verified_at = visited_at
            current.verified_by = user_or_none(actor)
            current.save(update_fields=["verified_at", "verified_by"])
            met = _meet(
                registrant, {ObligationKind.INITIAL, ObligationKind.VERIFICATION}, visited_at
            )
            _schedule_verification(registrant, visited_at)
            registrant.district = district
            registrant.last_verified_at = visited_at
            fields = ["district", "last_verified_at", *_recheck_compliance(registrant)]
            registrant.save(update_fields=fields)
        record(
            actor,
            "register.verification_recorded",
            visit,
            request=request,
            registrant=registrant.code,
            outcome=outcome,
            district=district.code,
            clocks_met=met,
        )
    return visit


def _notification_due(kind: str, changed_on: date, *, now: datetime) -> datetime:
    start = day_start(changed_on)
    rule = notice_rule(kind, min(start, now))
    if rule is not None and rule.in_advance:
        return advance_deadline(rule, changed_on, now=now).due_at
    return notice_deadline(kind, start).due_at


def record_notification(
    actor: Any,
    registrant: Registrant,
    *,
    kind: str,
    changed_on: date,
    details: str,
    how: str = HowReceived.POLICE_STATION,
    received_at: datetime | None = None,
    new_address: str = "",
    district: District | None = None,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> Notification:
    """A change the registrant reported (or a journey abroad announced), received in person or
    at the police station; late when received after the notice rule's deadline. A new address
    moves the registrant to its district (unverified until a visit)."""
    check_perm(actor, Perm.REGISTER_VERIFY, registrant)
    now = now or timezone.now()
    received_at = received_at or now
    _check_live(registrant)
    _check_when(received_at, now, "received_at")
    if kind not in NoticeKind.values or kind == NoticeKind.INITIAL:
        raise ValidationError({"kind": _("Choose what changed.")})
    if how not in HowReceived.values:
        raise ValidationError({"how": _("Say how the notification was received.")})
    check_lengths(Notification, {"details": details})
    check_lengths(Address, {"new_address": new_address}, fields={"new_address": "address"})
    if kind == NoticeKind.ADDRESS and (not new_address.strip() or district is None):
        raise ValidationError({"new_address": _("Give the new address and its district.")})
    due_at = _notification_due(kind, changed_on, now=now)
    with transaction.atomic():
        notice = Notification.objects.create(
            registrant=registrant,
            kind=kind,
            details=details.strip(),
            changed_on=changed_on,
            received_at=received_at,
            how=how,
            received_by=user_or_none(actor),
            due_at=due_at,
            late=received_at > due_at,
        )
        if kind == NoticeKind.ADDRESS and district is not None:
            Address.objects.filter(registrant=registrant, until__isnull=True).update(
                until=changed_on
            )
            Address.objects.create(
                registrant=registrant,
                address=new_address.strip(),
                district=district,
                since=changed_on,
                source="notification",
            )
            registrant.district = district
            registrant.save(update_fields=["district"])
        met = _meet(registrant, {ObligationKind.NOTIFICATION}, received_at, notice_kind=kind)
        fields = _recheck_compliance(registrant)
        if fields:
            registrant.save(update_fields=fields)
        record(
            actor,
            "register.notification_recorded",
            notice,
            request=request,
            registrant=registrant.code,
            kind=kind,
            late=notice.late,
            clocks_met=met,
        )
    return notice


def record_change_detected(
    actor: Any,
    registrant: Registrant,
    *,
    kind: str,
    changed_on: date,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> Obligation:
    """The police learned of a change the registrant has not notified: a notification clock
    starts from the day of the change (missed at once if its deadline has passed). For foreign
    travel `changed_on` is the planned day of departure: the clock runs before it and is due
    the notice rule's days ahead of departure (UK SOA 2003 s.86: 7 days), met by the
    registrant's travel notice; unmet, the daily job marks it missed and the registrant
    non-compliant."""
    check_perm(actor, Perm.REGISTER_VERIFY, registrant)
    now = now or timezone.now()
    _check_live(registrant)
    if kind not in NoticeKind.values or kind == NoticeKind.INITIAL:
        raise ValidationError({"kind": _("Choose what changed.")})
    today = timezone.localdate(now)
    if kind == NoticeKind.TRAVEL:
        if changed_on < today:
            raise ValidationError({"changed_on": _("Give the planned day of departure.")})
        if changed_on > today + TRAVEL_HORIZON:
            raise ValidationError({"changed_on": _("The departure is more than a year away.")})
        rule = notice_rule(kind, now)
        if rule is None:
            raise ValidationError({"kind": _("No notice rule for foreign travel is in force.")})
        if registrant.notifications.filter(kind=NoticeKind.TRAVEL, changed_on=changed_on).exists():
            raise ValidationError({"changed_on": _("This journey was already notified.")})
        deadline = advance_deadline(rule, changed_on, now=now)
    else:
        if changed_on > today:
            raise ValidationError({"changed_on": _("This date is in the future.")})
        deadline = notice_deadline(kind, day_start(changed_on))
    with transaction.atomic():
        obligation = open_obligation(registrant, ObligationKind.NOTIFICATION, deadline, kind)
        record(
            actor,
            "register.change_detected",
            registrant,
            request=request,
            kind=kind,
            due_at=obligation.due_at.isoformat(),
        )
    return obligation


# --- the daily compliance job -------------------------------------------------------------------


@dataclass
class ComplianceRun:
    due_soon: int = 0
    missed: int = 0
    non_compliant: int = 0
    absconders: int = 0
    alerts: int = 0
    removal_due: int = 0
    judgments_caught: int = 0
    seconds: float = 0.0


def evaluate_compliance(actor: Any, *, now: datetime | None = None) -> ComplianceRun:
    """The daily job, set-based so it runs over a national register in seconds: open clocks
    past their deadline are missed; a registered person with a missed clock becomes
    non-compliant; non-compliant past the grace becomes an absconder, and the police of their
    district and the register officers are alerted once; ended periods are queued for removal;
    judgments the hook missed are caught up. Safe to run twice. SYSTEM only."""
    check_system(actor)
    started = time.monotonic()
    now = now or timezone.now()
    run = ComplianceRun()
    run.judgments_caught = _catch_up_judgments(actor)
    grace = timedelta(days=absconder_grace_days())
    open_clocks = Obligation.objects.filter(met_at__isnull=True)
    with transaction.atomic():
        run.missed = (
            open_clocks.filter(due_at__lt=now)
            .exclude(state=ClockState.MISSED)
            .update(state=ClockState.MISSED)
        )
        run.due_soon = open_clocks.filter(
            due_soon_at__lte=now, due_at__gte=now, state=ClockState.PENDING
        ).update(state=ClockState.DUE_SOON)
        missed = Obligation.objects.filter(
            registrant=OuterRef("pk"), met_at__isnull=True, state=ClockState.MISSED
        )
        run.non_compliant = (
            Registrant.objects.filter(
                status=RegistrantStatus.ACTIVE, compliance=Compliance.COMPLIANT
            )
            .filter(Exists(missed))
            .update(compliance=Compliance.NON_COMPLIANT, non_compliant_since=now)
        )
        fleeing = list(
            Registrant.objects.filter(
                status=RegistrantStatus.ACTIVE,
                compliance=Compliance.NON_COMPLIANT,
                non_compliant_since__lte=now - grace,
            )
            .select_related("district")
            .only("pk", "code", "district")
        )
        if fleeing:
            Registrant.objects.filter(pk__in=[r.pk for r in fleeing]).update(
                compliance=Compliance.ABSCONDER, absconder_since=now
            )
        run.absconders = len(fleeing)
        run.alerts = _absconder_alerts(fleeing)
        run.removal_due = Registrant.objects.filter(
            status=RegistrantStatus.ACTIVE,
            indefinite=False,
            removal_due=False,
            period_ends_on__lt=timezone.localdate(now),
        ).update(removal_due=True)
        run.seconds = time.monotonic() - started
        record(
            actor,
            "register.compliance_evaluated",
            missed=run.missed,
            due_soon=run.due_soon,
            non_compliant=run.non_compliant,
            absconders=run.absconders,
            alerts=run.alerts,
            removal_due=run.removal_due,
            judgments_caught=run.judgments_caught,
        )
    run.seconds = time.monotonic() - started
    return run


def _absconder_alerts(fleeing: list[Registrant]) -> int:
    """Alert the police of each absconder's district and the register officers covering it,
    once per person and registrant: recipients are read once per district, alerts written in
    bulk (a backlog of thousands of absconders is a few statements, not thousands)."""
    by_district: dict[int | None, list[Registrant]] = defaultdict(list)
    for registrant in fleeing:
        by_district[registrant.district_id].append(registrant)
    rows: list[RegisterAlert] = []
    for group in by_district.values():
        district = group[0].district
        recipients = set(
            User.objects.filter(
                people_covering(Perm.REGISTER_VERIFY, district)
                | people_covering(Perm.REGISTER_MANAGE, district)
            ).values_list("pk", flat=True)
        )
        for registrant in group:
            message = gettext_noop("%(code)s has not complied and is flagged as an absconder.")
            link = f"/register/registrants/{registrant.code}/"
            rows += [
                RegisterAlert(
                    recipient_id=pk,
                    kind=AlertKind.ABSCONDER,
                    message=message,
                    params={"code": registrant.code},
                    link=link,
                    dedupe_key=f"absconder:{registrant.pk}",
                )
                for pk in recipients
            ]
    return bulk_alerts(rows)


def _catch_up_judgments(actor: Any) -> int:
    """Convictions for listed offences (at trial, or on the prosecution's appeal against an
    acquittal) and appeals allowed whose hook call was lost (a crash after commit)."""
    from django.db.models import Q

    from muhafiz.proceedings.models import Outcome, StageCode, StageEvent
    from muhafiz.register.actions.entries import record_judgment
    from muhafiz.register.models import HandledJudgment

    missing = (
        StageEvent.objects.filter(
            Q(code=StageCode.JUDGMENT_DELIVERED, outcome=Outcome.CONVICTION)
            | Q(code=StageCode.APPEAL_DECIDED, outcome=Outcome.APPEAL_ALLOWED),
            accused__isnull=False,
            case__offences__registrable=True,
        )
        .exclude(pk__in=HandledJudgment.objects.values("event_id"))
        .values_list("pk", flat=True)
        .distinct()
    )
    caught = 0
    for event_id in list(missing[:1000]):
        if record_judgment(actor, event_id) is not None:
            caught += 1
    return caught
