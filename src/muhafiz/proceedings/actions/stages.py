"""Recording a case's stages: the report that opens its proceedings, then each stage event.

`record_stage_event` validates the date against what the case already holds (nothing before the
report, a judgment only after the FIR and a trial, nothing in the future), writes the event, derives
the case's clocks from the deadline catalogue, and audits, all in one transaction. Alerts are
raised after commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record
from muhafiz.cases.actions import record_verdict, refuse_victim_identity, update_case
from muhafiz.cases.models import Accused, Case
from muhafiz.catalogue.models import Agency, AgencyKind, PoliceStation
from muhafiz.core.permissions import Perm, check_perm
from muhafiz.proceedings import hooks
from muhafiz.proceedings.actions.clocks import _alert_after_commit, _local, _sync_case_clocks
from muhafiz.proceedings.models import (
    FIXES_NEXT_HEARING,
    MAX_PHYSICAL_REMAND_DAYS,
    PER_ACCUSED,
    REPEATABLE,
    STAGE_ORDER,
    WITHIN_STAGE,
    CaseProgress,
    Clock,
    Outcome,
    StageCode,
    StageEvent,
)

# A device clock a few minutes fast must not make a just-now event "in the future".
FUTURE_TOLERANCE = timedelta(minutes=5)
# Which earlier event each stage needs (any one of the alternatives), and for per-accused
# stages, whether that earlier event must concern the same accused.
PREREQUISITES: dict[str, tuple[tuple[str, ...], bool]] = {
    StageCode.PRODUCED_BEFORE_MAGISTRATE: ((StageCode.ARRESTED,), True),
    StageCode.PHYSICAL_REMAND_STARTED: ((StageCode.PRODUCED_BEFORE_MAGISTRATE,), True),
    StageCode.PHYSICAL_REMAND_EXTENDED: ((StageCode.PHYSICAL_REMAND_STARTED,), True),
    StageCode.PHYSICAL_REMAND_ENDED: ((StageCode.PHYSICAL_REMAND_STARTED,), True),
    StageCode.JUDICIAL_REMAND_ORDERED: ((StageCode.PRODUCED_BEFORE_MAGISTRATE,), True),
    StageCode.JUDICIAL_REMAND_REVIEWED: ((StageCode.JUDICIAL_REMAND_ORDERED,), True),
    StageCode.REGISTER_CHECK_REQUESTED: ((StageCode.FIR_REGISTERED,), False),
    StageCode.REGISTER_CHECK_FORWARDED: ((StageCode.REGISTER_CHECK_REQUESTED,), True),
    StageCode.REGISTER_CHECK_REFUSED: ((StageCode.REGISTER_CHECK_REQUESTED,), True),
    StageCode.INTERIM_REPORT_SUBMITTED: ((StageCode.FIR_REGISTERED,), False),
    StageCode.CHALLAN_SUBMITTED: ((StageCode.FIR_REGISTERED,), False),
    StageCode.SCRUTINY_RETURNED: (
        (StageCode.CHALLAN_SUBMITTED, StageCode.INTERIM_REPORT_SUBMITTED),
        False,
    ),
    StageCode.SCRUTINY_ACCEPTED: (
        (StageCode.CHALLAN_SUBMITTED, StageCode.INTERIM_REPORT_SUBMITTED),
        False,
    ),
    StageCode.TRIAL_STARTED: (
        (StageCode.CHALLAN_SUBMITTED, StageCode.INTERIM_REPORT_SUBMITTED),
        False,
    ),
    StageCode.HEARING: ((StageCode.TRIAL_STARTED,), False),
    StageCode.ADJOURNMENT: ((StageCode.TRIAL_STARTED,), False),
    StageCode.JUDGMENT_DELIVERED: ((StageCode.TRIAL_STARTED,), False),
    StageCode.APPEAL_FILED: ((StageCode.JUDGMENT_DELIVERED,), True),
    StageCode.APPEAL_DECIDED: ((StageCode.APPEAL_FILED,), True),
    StageCode.PRODUCED_BEFORE_CHILD_PROTECTION_COURT: (
        (StageCode.CHILD_TAKEN_INTO_PROTECTION,),
        False,
    ),
}
# Stages that need a registered FIR before them, whatever else they need.
NEEDS_FIR = frozenset(
    {
        StageCode.REGISTER_CHECK_REQUESTED,
        StageCode.INTERIM_REPORT_SUBMITTED,
        StageCode.CHALLAN_SUBMITTED,
        StageCode.SCRUTINY_RETURNED,
        StageCode.SCRUTINY_ACCEPTED,
        StageCode.TRIAL_STARTED,
        StageCode.HEARING,
        StageCode.ADJOURNMENT,
        StageCode.JUDGMENT_DELIVERED,
        StageCode.APPEAL_FILED,
        StageCode.APPEAL_DECIDED,
    }
)

# --- recording stage events ---------------------------------------------------------------------


def _id(obj: Accused | None) -> int | None:
    return obj.pk if obj is not None else None


def _is_user(actor: Any) -> bool:
    from muhafiz.accounts.models import User

    return isinstance(actor, User)


def _label(code: str) -> str:
    return str(StageCode(code).label)


def _validate(
    case: Case,
    events: Sequence[StageEvent],
    *,
    code: str,
    occurred_at: datetime,
    accused: Accused | None,
    remand_days: int | None,
    outcome: str,
    court: Agency | None,
    now: datetime,
) -> None:
    errors: dict[str, list[str]] = defaultdict(list)
    if code not in StageCode.values:
        raise ValidationError({"code": [_("Unknown stage.")]})
    if timezone.is_naive(occurred_at):
        raise ValidationError({"occurred_at": [_("Give the time with its time zone.")]})
    if occurred_at > now + FUTURE_TOLERANCE:
        errors["occurred_at"].append(_("This date is in the future."))
    if occurred_at < case.reported_at:
        errors["occurred_at"].append(
            _("%(stage)s cannot come before the report was received (%(when)s).")
            % {"stage": _label(code), "when": _local(case.reported_at)}
        )
    if code in PER_ACCUSED and accused is None:
        errors["accused"].append(_("Say which accused this concerns."))
    if accused is not None and accused.case_id != case.pk:
        errors["accused"].append(_("This accused is not on this case."))
    if code not in PER_ACCUSED and accused is not None:
        errors["accused"].append(_("This stage concerns the whole case, not one accused."))

    if code == StageCode.REPORT_RECEIVED:
        errors["code"].append(_("The report is recorded when the case is opened."))
    if code not in REPEATABLE and any(
        e.code == code and (code not in PER_ACCUSED or e.accused_id == _id(accused)) for e in events
    ):
        errors["code"].append(_("%(stage)s is already recorded.") % {"stage": _label(code)})

    if code in NEEDS_FIR:
        firs = [e for e in events if e.code == StageCode.FIR_REGISTERED]
        if not firs:
            errors["code"].append(
                _("%(stage)s needs a registered FIR first.") % {"stage": _label(code)}
            )
        elif occurred_at < firs[0].occurred_at:
            errors["occurred_at"].append(
                _("%(stage)s cannot come before the FIR (registered %(when)s).")
                % {"stage": _label(code), "when": _local(firs[0].occurred_at)}
            )
    needed = PREREQUISITES.get(code)
    if needed is not None:
        alternatives, same_accused = needed
        earlier = [
            e
            for e in events
            if e.code in alternatives and (not same_accused or e.accused_id == _id(accused))
        ]
        names = " / ".join(_label(c) for c in alternatives)
        if not earlier:
            errors["code"].append(
                _("%(stage)s needs %(needed)s first.") % {"stage": _label(code), "needed": names}
            )
        else:
            first = min(e.occurred_at for e in earlier)
            if occurred_at < first:
                errors["occurred_at"].append(
                    _("%(stage)s cannot come before %(needed)s (%(when)s).")
                    % {"stage": _label(code), "needed": names, "when": _local(first)}
                )
    # Dependents can only be recorded after what they need, so checking each new event
    # against its prerequisites keeps every case's dates in order; stages without a legal
    # dependency (a crisis-cell examination before the FIR, an arrest before it) may come in
    # any order.

    if code in {StageCode.PHYSICAL_REMAND_STARTED, StageCode.PHYSICAL_REMAND_EXTENDED}:
        if not remand_days:
            errors["remand_days"].append(_("Say for how many days remand was granted."))
        else:
            granted = sum(
                e.remand_days or 0
                for e in events
                if e.accused_id == _id(accused)
                and e.code
                in {StageCode.PHYSICAL_REMAND_STARTED, StageCode.PHYSICAL_REMAND_EXTENDED}
            )
            if granted + remand_days > MAX_PHYSICAL_REMAND_DAYS:
                errors["remand_days"].append(
                    _(
                        "Physical remand may total at most %(max)d days (CrPC s.167); "
                        "%(granted)d already granted."
                    )
                    % {"max": MAX_PHYSICAL_REMAND_DAYS, "granted": granted}
                )
    elif code == StageCode.JUDICIAL_REMAND_ORDERED:
        # CrPC s.344: judicial remand up to 15 days at a time; the days start the clock.
        if remand_days and remand_days > MAX_PHYSICAL_REMAND_DAYS:
            errors["remand_days"].append(
                _("Judicial remand is ordered for at most %(max)d days at a time (CrPC s.344).")
                % {"max": MAX_PHYSICAL_REMAND_DAYS}
            )
    elif remand_days:
        errors["remand_days"].append(_("Remand days belong to a remand order only."))

    if code == StageCode.JUDGMENT_DELIVERED and outcome not in {
        Outcome.CONVICTION,
        Outcome.ACQUITTAL,
    }:
        errors["outcome"].append(_("A judgment is a conviction or an acquittal."))
    elif code == StageCode.APPEAL_DECIDED and outcome not in {
        Outcome.APPEAL_ALLOWED,
        Outcome.APPEAL_DISMISSED,
    }:
        errors["outcome"].append(_("An appeal is allowed or dismissed."))
    elif outcome and code not in {StageCode.JUDGMENT_DELIVERED, StageCode.APPEAL_DECIDED}:
        errors["outcome"].append(_("Only a judgment or an appeal decision has an outcome."))
    if court is not None and court.kind != AgencyKind.COURT:
        errors["court"].append(_("Choose a court."))
    if errors:
        raise ValidationError(dict(errors))


def _ensure_report_event(case: Case, actor: Any) -> StageEvent:
    """The case's first event, the report, dated when the case says it was received."""
    event = StageEvent.objects.filter(case=case, code=StageCode.REPORT_RECEIVED).first()
    if event is not None:
        return event
    event = StageEvent.objects.create(
        case=case,
        code=StageCode.REPORT_RECEIVED,
        occurred_at=case.reported_at,
        recorded_by=actor if _is_user(actor) else None,
    )
    CaseProgress.objects.update_or_create(
        case=case,
        defaults={
            "stage": StageCode.REPORT_RECEIVED,
            "stage_since": case.reported_at,
            "last_event_at": case.reported_at,
        },
    )
    return event


@transaction.atomic
def start_proceedings(
    actor: Any, case: Case, *, now: datetime | None = None, request: HttpRequest | None = None
) -> list[Clock]:
    """Record the report as the case's first stage and start the clocks it starts.

    Idempotent: the cases app's hook runs it (as `SYSTEM`) when a case is opened, the clock job
    runs it for every case that has no proceedings yet.
    """
    check_perm(actor, Perm.CASE_EDIT, case)
    now = now or timezone.now()
    if StageEvent.objects.filter(case=case, code=StageCode.REPORT_RECEIVED).exists():
        return []
    _ensure_report_event(case, actor)
    changed = _sync_case_clocks(case, now=now)
    record(actor, "proceedings.start", case, request=request, clocks=len(changed))
    _alert_after_commit([c.pk for c in changed])
    return changed


@transaction.atomic
def record_stage_event(
    actor: Any,
    case: Case,
    *,
    code: str,
    occurred_at: datetime,
    accused: Accused | None = None,
    remand_days: int | None = None,
    outcome: str = "",
    sentence: str = "",
    court: Agency | None = None,
    note: str = "",
    fir_number: str = "",
    police_station: PoliceStation | None = None,
    next_hearing_at: datetime | None = None,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> StageEvent:
    """Record one stage of a case's proceedings, or raise ValidationError and write nothing.

    Recording the FIR with its number (and its police station, unless the case already names
    one) writes both on the case through the cases app's `update_case`, in the same transaction.
    """
    check_perm(actor, Perm.CASE_EDIT, case)
    now = now or timezone.now()
    # Lock the case row so two people recording at once cannot both pass the checks.
    case = Case.objects.select_for_update().get(pk=case.pk)
    _ensure_report_event(case, actor)
    events = list(StageEvent.objects.filter(case=case).order_by("occurred_at", "pk"))
    _validate(
        case,
        events,
        code=code,
        occurred_at=occurred_at,
        accused=accused,
        remand_days=remand_days,
        outcome=outcome,
        court=court,
        now=now,
    )
    if code == StageCode.JUDGMENT_DELIVERED and outcome == Outcome.CONVICTION and not sentence:
        raise ValidationError({"sentence": [_("Record the sentence of a conviction.")]})
    _validate_next_hearing(code, occurred_at, next_hearing_at)
    refuse_victim_identity(case, sentence=sentence, note=note)
    _fill_fir(
        actor,
        case,
        code=code,
        fir_number=fir_number.strip(),
        police_station=police_station,
        request=request,
    )
    event = StageEvent.objects.create(
        case=case,
        code=code,
        occurred_at=occurred_at,
        accused=accused,
        remand_days=remand_days,
        outcome=outcome,
        sentence=sentence.strip(),
        court=court,
        note=note.strip(),
        next_hearing_at=next_hearing_at,
        recorded_by=actor if _is_user(actor) else None,
    )
    _advance_progress(case, event)
    if code in FIXES_NEXT_HEARING:
        _update_hearings(case)
    if code == StageCode.JUDGMENT_DELIVERED and accused is not None:
        # The accused's status follows the judgment (the cases app's action, audited there).
        record_verdict(actor, accused, outcome, request=request)
    changed = _sync_case_clocks(case, now=now)
    record(
        actor,
        "proceedings.stage.record",
        case,
        request=request,
        stage=code,
        event_id=event.pk,
        occurred_at=occurred_at.isoformat(),
        accused=accused.label if accused else "",
        outcome=outcome,
        next_hearing_at=next_hearing_at.isoformat() if next_hearing_at else "",
        clocks_changed=[c.pk for c in changed],
    )
    _alert_after_commit([c.pk for c in changed])
    if code in {StageCode.JUDGMENT_DELIVERED, StageCode.APPEAL_DECIDED}:
        hooks.judgment_recorded.send_on_commit(event.pk)
    return event


def _validate_next_hearing(
    code: str, occurred_at: datetime, next_hearing_at: datetime | None
) -> None:
    if next_hearing_at is None:
        if code == StageCode.ADJOURNMENT:
            raise ValidationError(
                {"next_hearing_at": [_("Give the date the hearing was adjourned to.")]}
            )
        return
    if code not in FIXES_NEXT_HEARING:
        raise ValidationError(
            {
                "next_hearing_at": [
                    _("A next hearing is fixed at a trial's start, a hearing or an adjournment.")
                ]
            }
        )
    if timezone.is_naive(next_hearing_at):
        raise ValidationError({"next_hearing_at": [_("Give the time with its time zone.")]})
    if next_hearing_at <= occurred_at:
        raise ValidationError({"next_hearing_at": [_("The next hearing comes after this one.")]})


def _update_hearings(case: Case) -> None:
    """The case's next hearing (fixed by its latest event that fixed one) and its count of
    adjournments, kept on its progress row for the court diary. Inside the caller's
    transaction (the action that recorded or corrected an event)."""
    fixing = (
        StageEvent.objects.filter(case=case, next_hearing_at__isnull=False)
        .order_by("-occurred_at", "-pk")
        .values_list("next_hearing_at", flat=True)
        .first()
    )
    adjournments = StageEvent.objects.filter(case=case, code=StageCode.ADJOURNMENT).count()
    CaseProgress.objects.filter(case=case).update(next_hearing_at=fixing, adjournments=adjournments)


def _fill_fir(
    actor: Any,
    case: Case,
    *,
    code: str,
    fir_number: str,
    police_station: PoliceStation | None,
    request: HttpRequest | None,
) -> None:
    """Write the FIR number and station that come with the FIR stage onto the case."""
    if code != StageCode.FIR_REGISTERED:
        if fir_number or police_station is not None:
            raise ValidationError(
                {"fir_number": [_("An FIR number belongs to the FIR registration stage.")]}
            )
        return
    if not fir_number and police_station is None:
        return
    if not fir_number:
        raise ValidationError({"fir_number": [_("Give the FIR number with its police station.")]})
    station = police_station or case.police_station
    if station is None:
        raise ValidationError({"police_station": [_("An FIR number needs its police station.")]})
    # The case's own action validates the station's district and the number's uniqueness, and
    # audits the change (case.update).
    update_case(actor, case, fir_number=fir_number, police_station=station, request=request)


def _advance_progress(case: Case, event: StageEvent) -> None:
    progress, created = CaseProgress.objects.get_or_create(
        case=case,
        defaults={
            "stage": event.code,
            "stage_since": event.occurred_at,
            "last_event_at": event.occurred_at,
            "court": event.court,
        },
    )
    if created:
        return
    fields = []
    if event.occurred_at > progress.last_event_at:
        progress.last_event_at = event.occurred_at
        fields.append("last_event_at")
    if event.code not in WITHIN_STAGE and STAGE_ORDER.index(event.code) > STAGE_ORDER.index(
        progress.stage
    ):
        progress.stage = event.code
        progress.stage_since = event.occurred_at
        fields += ["stage", "stage_since"]
    if event.court is not None and event.court_id != progress.court_id:
        progress.court = event.court
        fields.append("court")
    if fields:
        progress.save(update_fields=fields)
