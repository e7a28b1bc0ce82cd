"""The writes of the proceedings app: stage events, the clocks they start and stop, clock alerts.

`record_stage_event` validates the date against what the case already holds (nothing before the
report, a judgment only after the FIR and a trial, nothing in the future), writes the event, derives
the case's clocks from the deadline catalogue, and audits, all in one transaction. Alerts are
raised after commit. `evaluate_clocks` is the periodic job's write: it moves running clocks to
due-soon or missed in bulk and alerts each case's supervisors and prosecutors once per change.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record
from muhafiz.cases.actions import refuse_victim_identity
from muhafiz.cases.models import Accused, AlertKind, Case, CaseStatus, TeamMember, TeamRole
from muhafiz.catalogue.models import Agency, AgencyKind, DeadlineRule
from muhafiz.proceedings.clocks import (
    ALERT_STATES,
    ClockState,
    clock_state,
    deadline_for,
)
from muhafiz.proceedings.models import (
    MAX_PHYSICAL_REMAND_DAYS,
    PER_ACCUSED,
    REPEATABLE,
    STAGE_ORDER,
    WITHIN_STAGE,
    CaseProgress,
    Clock,
    Holiday,
    Outcome,
    StageCode,
    StageEvent,
)

log = logging.getLogger(__name__)

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
# A final challan also answers for the interim report that would otherwise be due.
ALSO_STOPS: dict[str, frozenset[str]] = {
    StageCode.CHALLAN_SUBMITTED: frozenset({StageCode.INTERIM_REPORT_SUBMITTED}),
}


# --- conditions of `DeadlineRule.applies_when` --------------------------------------------------


def _sexual_offence(case: Case, events: Sequence[StageEvent], now: datetime) -> bool:
    if case.has_fact("sexual_abuse"):
        return True
    return case.offences.filter(registrable=True).exists()


def _challan_incomplete(case: Case, events: Sequence[StageEvent], now: datetime) -> bool:
    """CrPC s.173: when the investigation is not complete within 14 days of the FIR, an interim
    report is due. "Incomplete" is the challan clock having run out before a challan came,
    judged from the dates recorded (a back-dated entry does not make it so)."""
    challans = [e.occurred_at for e in events if e.code == StageCode.CHALLAN_SUBMITTED]
    for clock in Clock.objects.filter(case=case, rule__end_event=StageCode.CHALLAN_SUBMITTED):
        answered = [at for at in challans if at >= clock.started_at]
        if (min(answered) if answered else now) > clock.due_at:
            return True
    return False


def _child_protection_custody(case: Case, events: Sequence[StageEvent], now: datetime) -> bool:
    return any(e.code == StageCode.CHILD_TAKEN_INTO_PROTECTION for e in events)


# Conditions the proceedings know of; anything else must be a fact recorded on the case.
DERIVED_CONDITIONS: dict[str, Callable[[Case, Sequence[StageEvent], datetime], bool]] = {
    "sexual_offence": _sexual_offence,
    "challan_incomplete": _challan_incomplete,
    "child_protection_custody": _child_protection_custody,
}


def condition_holds(
    case: Case, condition: str, events: Sequence[StageEvent], now: datetime
) -> bool:
    if not condition:
        return True
    derived = DERIVED_CONDITIONS.get(condition)
    if derived is not None:
        return derived(case, events, now)
    has_fact = getattr(case, "has_fact", None)
    if has_fact is not None:
        return bool(has_fact(condition))
    return bool(getattr(case, condition, False))


def holiday_dates() -> frozenset[date]:
    return frozenset(Holiday.objects.values_list("date", flat=True))


# --- recording stage events ---------------------------------------------------------------------


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


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

    Idempotent: the cases app may call it when a case is opened, the clock job calls it for
    every case that has no proceedings yet, and recording any stage calls it first.
    """
    now = now or timezone.now()
    if StageEvent.objects.filter(case=case, code=StageCode.REPORT_RECEIVED).exists():
        return []
    _ensure_report_event(case, actor)
    changed = sync_case_clocks(case, now=now)
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
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> StageEvent:
    """Record one stage of a case's proceedings, or raise ValidationError and write nothing."""
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
    refuse_victim_identity(case, sentence=sentence, note=note)
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
        recorded_by=actor if _is_user(actor) else None,
    )
    _advance_progress(case, event)
    changed = sync_case_clocks(case, now=now)
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
        clocks_changed=[c.pk for c in changed],
    )
    _alert_after_commit([c.pk for c in changed])
    return event


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


def _end_codes(rule: DeadlineRule) -> frozenset[str]:
    return frozenset(code.strip() for code in rule.end_event.split("|") if code.strip())


def _stops(event: StageEvent, clock: Clock, end_codes: frozenset[str]) -> bool:
    if event.occurred_at < clock.started_at:
        return False
    if event.code not in end_codes and not (ALSO_STOPS.get(event.code, frozenset()) & end_codes):
        return False
    # A per-accused clock stops for that accused only; a case-wide event stops every clock.
    return not event.accused_id or not clock.accused_id or event.accused_id == clock.accused_id


def sync_case_clocks(case: Case, *, now: datetime) -> list[Clock]:
    """Derive the case's clocks from its events: start those whose start event happened (and
    whose condition holds), stop those whose end event happened. Returns the clocks it changed.

    Call inside the transaction of the write that changed the case; the cases app calls it (via
    `refresh_clocks`) when a fact that a rule's condition names changes.
    """
    events = list(StageEvent.objects.filter(case=case).order_by("occurred_at", "pk"))
    rules = list(DeadlineRule.objects.filter(active=True))
    clocks = list(Clock.objects.filter(case=case).select_related("rule"))
    started = {(c.rule_id, c.start_event_id) for c in clocks}
    holidays: frozenset[date] | None = None
    changed: list[Clock] = []

    for rule in rules:
        starts = [e for e in events if e.code == rule.start_event]
        if not starts or not condition_holds(case, rule.applies_when, events, now):
            continue
        for start in starts:
            if (rule.pk, start.pk) in started:
                continue
            # A repeated start event (physical remand extended is a different code) starts a
            # new clock only once the previous clock of that rule for that accused has stopped.
            if any(
                c.rule_id == rule.pk and c.accused_id == start.accused_id and c.stopped_at is None
                for c in clocks
            ):
                continue
            if rule.unit == "business_days" and holidays is None:
                holidays = holiday_dates()
            deadline = deadline_for(
                start.occurred_at,
                rule.amount,
                rule.unit,
                rule.due_soon_fraction,
                holidays or frozenset(),
            )
            clock = Clock(
                case=case,
                rule=rule,
                accused_id=start.accused_id,
                started_at=start.occurred_at,
                due_at=deadline.due_at,
                due_soon_at=deadline.due_soon_at,
                start_event=start,
            )
            clock.state = clock_state(
                due_at=clock.due_at, due_soon_at=clock.due_soon_at, stopped_at=None, now=now
            )
            if clock.state == ClockState.MISSED:
                clock.missed_at = now
            clock.save()
            clocks.append(clock)
            started.add((rule.pk, start.pk))
            changed.append(clock)

    for clock in clocks:
        if clock.stopped_at is not None:
            continue
        end_codes = _end_codes(clock.rule)
        ending = next((e for e in events if _stops(e, clock, end_codes)), None)
        if ending is None:
            continue
        clock.stopped_at = ending.occurred_at
        clock.end_event = ending
        clock.state = clock_state(
            due_at=clock.due_at,
            due_soon_at=clock.due_soon_at,
            stopped_at=ending.occurred_at,
            now=now,
        )
        if clock.state == ClockState.MET_LATE and clock.missed_at is None:
            clock.missed_at = clock.due_at
        clock.save(update_fields=["stopped_at", "end_event", "state", "missed_at"])
        if clock not in changed:
            changed.append(clock)
    return changed


@transaction.atomic
def refresh_clocks(
    actor: Any, case: Case, *, now: datetime | None = None, request: HttpRequest | None = None
) -> list[Clock]:
    """Re-derive a case's clocks after one of its facts changed (e.g. a child found missing)."""
    now = now or timezone.now()
    changed = sync_case_clocks(case, now=now)
    if changed:
        record(
            actor,
            "proceedings.clocks.refresh",
            case,
            request=request,
            clocks_changed=[c.pk for c in changed],
        )
        _alert_after_commit([c.pk for c in changed])
    return changed


# --- the clock job ------------------------------------------------------------------------------

CHUNK = 5000


@dataclass
class Evaluation:
    """What one run of the clock job did."""

    started: int = 0  # cases whose proceedings the job opened
    due_soon: int = 0
    missed: int = 0
    alerted_clocks: int = 0
    alerts: int = 0
    conditions_rechecked: int = 0
    seconds: float = 0.0


def evaluate_clocks(*, now: datetime | None = None) -> Evaluation:
    """Evaluate every running clock at `now`: one indexed query per transition, bulk updates.

    Then open proceedings for cases that have none yet, start clocks whose condition became true
    because another clock ran out (the interim report when the challan is late), and alert.
    Safe to run twice or concurrently: alerts are raised once per clock and state.
    """
    started_at = timezone.now()
    now = now or started_at
    result = Evaluation()
    # Clocks of closed cases stand still: nobody is to be alerted about a closed case.
    running = Clock.objects.filter(stopped_at__isnull=True, case__status=CaseStatus.OPEN)

    with transaction.atomic():
        # One UPDATE per transition, each reading only the running-clock indexes.
        result.missed = (
            running.filter(due_at__lt=now)
            .exclude(state=ClockState.MISSED)
            .update(state=ClockState.MISSED, missed_at=now)
        )
        result.due_soon = running.filter(
            state=ClockState.PENDING, due_soon_at__lte=now, due_at__gte=now
        ).update(state=ClockState.DUE_SOON)
        if result.missed or result.due_soon:
            record(
                None,
                "proceedings.clocks.evaluate",
                now=now.isoformat(),
                missed=result.missed,
                due_soon=result.due_soon,
            )

    result.started = _open_missing_proceedings(now)
    if result.missed:
        result.conditions_rechecked = _recheck_derived_conditions(now)
    result.alerted_clocks, result.alerts = raise_clock_alerts()
    result.seconds = (timezone.now() - started_at).total_seconds()
    return result


def _open_missing_proceedings(now: datetime) -> int:
    """Cases opened without their report recorded as a stage (the cases app need not call us)."""
    pending = Case.objects.filter(status=CaseStatus.OPEN, progress__isnull=True).values_list(
        "pk", flat=True
    )
    count = 0
    for case in Case.objects.filter(pk__in=list(pending[:CHUNK])):
        start_proceedings(None, case, now=now)
        count += 1
    return count


def _recheck_derived_conditions(now: datetime) -> int:
    """A challan clock that ran out (in this run) makes the interim-report rule apply."""
    case_ids = set(
        Clock.objects.filter(
            missed_at=now, rule__end_event=StageCode.CHALLAN_SUBMITTED
        ).values_list("case_id", flat=True)
    )
    interim_rules = list(
        DeadlineRule.objects.filter(active=True, applies_when="challan_incomplete").values_list(
            "pk", flat=True
        )
    )
    if not interim_rules:
        return 0
    # Only cases whose interim-report clock has not been derived yet.
    have = set(
        Clock.objects.filter(case_id__in=case_ids, rule_id__in=interim_rules).values_list(
            "case_id", flat=True
        )
    )
    case_ids -= have
    for case in Case.objects.filter(pk__in=case_ids):
        refresh_clocks(None, case, now=now)
    return len(case_ids)


ALERT_RECIPIENT_ROLES = (TeamRole.SUPERVISOR, TeamRole.PROSECUTOR)


@dataclass(frozen=True, slots=True)
class _ClockNotice:
    """What an alert about one clock says, read as plain values (a backlog can be 100,000s)."""

    clock_id: int
    state: str
    case_id: int
    reference: str
    rule_name: str
    due_at: datetime
    accused_label: str | None

    @property
    def dedupe_key(self) -> str:
        return f"clock:{self.clock_id}:{self.state}"

    @property
    def kind(self) -> str:
        missed = self.state == ClockState.MISSED
        return AlertKind.CLOCK_MISSED if missed else AlertKind.CLOCK_DUE_SOON

    def message(self) -> str:
        if self.state == ClockState.MISSED:
            text = _("Deadline missed: %(rule)s in case %(case)s was due %(due)s.")
        else:
            text = _("Deadline nearly due: %(rule)s in case %(case)s is due %(due)s.")
        message = text % {
            "rule": self.rule_name,
            "case": self.reference,
            "due": _local(self.due_at),
        }
        if self.accused_label:
            message += " " + _("Accused: %(accused)s.") % {"accused": self.accused_label}
        return message[:500]


ALERT_BATCH = 5000


def raise_clock_alerts(clock_ids: Sequence[int] | None = None) -> tuple[int, int]:
    """Alert the supervisors and prosecutors of each case whose clock changed to due-soon or
    missed and has not been alerted for that state yet. Returns (clocks, alerts)."""
    pending: QuerySet[Clock] = Clock.objects.filter(state__in=list(ALERT_STATES)).exclude(
        alerted_state=F("state")
    )
    if clock_ids is not None:
        pending = pending.filter(pk__in=list(clock_ids))
    elif connection.vendor == "postgresql" and pending.count() > BULK_ALERTS_FROM:
        return _raise_backlog_alerts_in_sql()
    notices = [
        _ClockNotice(*row)
        for row in pending.order_by("pk").values_list(
            "pk", "state", "case_id", "case__reference", "rule__name", "due_at", "accused__label"
        )
    ]
    if not notices:
        return 0, 0
    alerts = 0
    for batch_start in range(0, len(notices), ALERT_BATCH):
        batch = notices[batch_start : batch_start + ALERT_BATCH]
        recipients: dict[int, set[int]] = defaultdict(set)
        for case_id, user_id in TeamMember.objects.filter(
            case_id__in={n.case_id for n in batch}, team_role__in=ALERT_RECIPIENT_ROLES
        ).values_list("case_id", "user_id"):
            recipients[case_id].add(user_id)
        wanted = [(n, user_id) for n in batch for user_id in sorted(recipients[n.case_id])]
        with transaction.atomic():
            if len(wanted) <= BULK_ALERTS_FROM:
                _raise_alerts_one_by_one(wanted)
            else:
                _raise_alerts_in_bulk(wanted)
            by_state: dict[str, list[int]] = defaultdict(list)
            for notice in batch:
                by_state[notice.state].append(notice.clock_id)
            for state, ids in by_state.items():
                Clock.objects.filter(pk__in=ids, state=state).update(alerted_state=state)
        alerts += len(wanted)
    return len(notices), alerts


# Above this many alerts in one batch (a first run over a backlog) they are inserted in bulk.
BULK_ALERTS_FROM = 200


def _raise_backlog_alerts_in_sql() -> tuple[int, int]:
    """A backlog (the first run, or after an outage): mark every unalerted clock alerted and
    insert its alerts in one PostgreSQL statement, so the two cannot part. The same rows, keys
    and idempotence (`ON CONFLICT DO NOTHING` on recipient and dedupe key) as `raise_alert`."""
    from muhafiz.cases.models import Alert

    missed = _("Deadline missed: %(rule)s in case %(case)s was due %(due)s.")
    due_soon = _("Deadline nearly due: %(rule)s in case %(case)s is due %(due)s.")
    accused = " " + _("Accused: %(accused)s.")
    sql = f"""
        WITH changed AS (
            UPDATE {Clock._meta.db_table} SET alerted_state = state
            WHERE state IN ('missed', 'due_soon') AND alerted_state <> state
            RETURNING id, state, case_id, rule_id, due_at, accused_id
        ), counted AS (SELECT count(*) AS n FROM changed),
        inserted AS (
            INSERT INTO {Alert._meta.db_table}
                (recipient_id, case_id, kind, message, dedupe_key, created_at)
            SELECT DISTINCT ON (tm.user_id, k.id) tm.user_id, k.case_id,
                CASE k.state WHEN 'missed' THEN %(kind_missed)s ELSE %(kind_due_soon)s END,
                left(
                    replace(replace(replace(
                        CASE k.state WHEN 'missed' THEN %(missed)s ELSE %(due_soon)s END,
                        '%%(rule)s', r.name), '%%(case)s', c.reference),
                        '%%(due)s',
                        to_char(k.due_at AT TIME ZONE %(tz)s, 'YYYY-MM-DD HH24:MI'))
                    || CASE WHEN a.label IS NULL THEN ''
                       ELSE replace(%(accused)s, '%%(accused)s', a.label) END,
                    500),
                'clock:' || k.id || ':' || k.state,
                now()
            FROM changed k
            JOIN cases_case c ON c.id = k.case_id
            JOIN catalogue_deadlinerule r ON r.id = k.rule_id
            LEFT JOIN cases_accused a ON a.id = k.accused_id
            JOIN cases_teammember tm ON tm.case_id = k.case_id
                AND tm.team_role IN ('supervisor', 'prosecutor')
            ON CONFLICT (recipient_id, dedupe_key) DO NOTHING
            RETURNING 1
        )
        SELECT (SELECT n FROM counted), (SELECT count(*) FROM inserted)
    """  # noqa: S608 - table names come from model metadata; every value is a parameter
    params = {
        "kind_missed": AlertKind.CLOCK_MISSED.value,
        "kind_due_soon": AlertKind.CLOCK_DUE_SOON.value,
        "missed": str(missed),
        "due_soon": str(due_soon),
        "accused": accused,
        "tz": settings.TIME_ZONE,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        clocks, alerts = cursor.fetchone()
    return int(clocks), int(alerts)


def _raise_alerts_one_by_one(wanted: Sequence[tuple[_ClockNotice, int]]) -> None:
    from muhafiz.accounts.models import User

    cases = Case.objects.in_bulk({n.case_id for n, _user in wanted})
    users = User.objects.in_bulk({user_id for _n, user_id in wanted})
    for notice, user_id in wanted:
        _raise_alert(
            cases[notice.case_id], users[user_id], notice.kind, notice.message(), notice.dedupe_key
        )


def _raise_alerts_in_bulk(wanted: Sequence[tuple[_ClockNotice, int]]) -> None:
    """The same idempotent insert as `cases.actions.raise_alert` (one row per recipient and
    dedupe key; an existing row wins), done as one statement per thousand alerts.

    The cases app offers only the one-by-one `raise_alert`; a backlog of thousands of missed
    clocks would take minutes that way. Replace with a bulk `raise_alerts` there when it exists.
    """
    from muhafiz.cases.models import Alert

    messages: dict[int, str] = {}
    rows = []
    for notice, user_id in wanted:
        if notice.clock_id not in messages:
            messages[notice.clock_id] = notice.message()
        rows.append(
            Alert(
                recipient_id=user_id,
                case_id=notice.case_id,
                kind=notice.kind,
                message=messages[notice.clock_id],
                dedupe_key=notice.dedupe_key,
            )
        )
    Alert.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def _raise_alert(case: Case, recipient: Any, kind: str, message: str, dedupe_key: str) -> None:
    from muhafiz.cases.actions import raise_alert

    raise_alert(case, recipient, kind, message, dedupe_key)


def _alert_after_commit(clock_ids: list[int]) -> None:
    if clock_ids:
        transaction.on_commit(lambda: raise_clock_alerts(clock_ids))


def remand_days_granted(case: Case, accused: Accused) -> int:
    total = StageEvent.objects.filter(
        case=case,
        accused=accused,
        code__in=[StageCode.PHYSICAL_REMAND_STARTED, StageCode.PHYSICAL_REMAND_EXTENDED],
    ).aggregate(total=Sum("remand_days"))["total"]
    return int(total or 0)
