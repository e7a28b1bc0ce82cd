"""A case's statutory clocks: derived from its stage events and the deadline catalogue, and the
alerts raised when one comes due or is missed (through the cases app's bulk alert action)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_noop

from muhafiz.audit.actions import record
from muhafiz.cases.actions import TeamNotice, raise_team_alerts
from muhafiz.cases.models import AlertKind, Case, TeamRole
from muhafiz.catalogue.models import DeadlineRule
from muhafiz.core.permissions import SYSTEM, Perm, check_perm, check_system
from muhafiz.core.words import moment, names
from muhafiz.proceedings.clocks import ALERT_STATES, ClockState, clock_state, deadline_for
from muhafiz.proceedings.models import Clock, Holiday, StageCode, StageEvent

# A final challan also answers for the interim report that would otherwise be due.
ALSO_STOPS: dict[str, frozenset[str]] = {
    StageCode.CHALLAN_SUBMITTED: frozenset({StageCode.INTERIM_REPORT_SUBMITTED}),
    # The prosecutor's refusal is the decision the 48 hours wait for, as a forwarding is.
    StageCode.REGISTER_CHECK_REFUSED: frozenset({StageCode.REGISTER_CHECK_FORWARDED}),
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


def _condition_holds(
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


def _local(when: datetime) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")


def _holiday_dates() -> frozenset[date]:
    return frozenset(Holiday.objects.values_list("date", flat=True))


# --- deriving a case's clocks -------------------------------------------------------------------


def _end_codes(rule: DeadlineRule) -> frozenset[str]:
    return frozenset(code.strip() for code in rule.end_event.split("|") if code.strip())


def _stops(event: StageEvent, clock: Clock, end_codes: frozenset[str]) -> bool:
    if event.occurred_at < clock.started_at:
        return False
    if event.code not in end_codes and not (ALSO_STOPS.get(event.code, frozenset()) & end_codes):
        return False
    # A per-accused clock stops for that accused only; a case-wide event stops every clock.
    return not event.accused_id or not clock.accused_id or event.accused_id == clock.accused_id


# Remand orders: the clock they start runs for the days the court granted (capped by the rule's
# limit, CrPC s.167's 15 days), and an extension of the same accused's physical remand adds its
# days to the running clock.
REMAND_EXTENSIONS: dict[str, str] = {
    StageCode.PHYSICAL_REMAND_STARTED: StageCode.PHYSICAL_REMAND_EXTENDED,
}


def _clock_amount(rule: DeadlineRule, start: StageEvent, events: Sequence[StageEvent]) -> int:
    """The clock's limit in the rule's unit: the rule's, or the remand days granted."""
    if not start.remand_days or rule.unit != "days":
        return int(rule.amount)
    granted = start.remand_days
    extension = REMAND_EXTENSIONS.get(start.code)
    if extension:
        granted += sum(
            e.remand_days or 0
            for e in events
            if e.code == extension
            and e.accused_id == start.accused_id
            and e.occurred_at >= start.occurred_at
        )
    return min(int(rule.amount), granted)


def _extend_running(clock: Clock, events: Sequence[StageEvent], now: datetime) -> bool:
    """Move a running remand clock's deadline to the days granted so far; True if it moved."""
    amount = _clock_amount(clock.rule, clock.start_event, events)
    deadline = deadline_for(clock.started_at, amount, clock.rule.unit, clock.rule.due_soon_fraction)
    if deadline.due_at == clock.due_at:
        return False
    clock.due_at, clock.due_soon_at = deadline.due_at, deadline.due_soon_at
    clock.state = clock_state(
        due_at=clock.due_at, due_soon_at=clock.due_soon_at, stopped_at=None, now=now
    )
    clock.missed_at = now if clock.state == ClockState.MISSED else None
    clock.save(update_fields=["due_at", "due_soon_at", "state", "missed_at"])
    return True


def _sync_case_clocks(case: Case, *, now: datetime) -> list[Clock]:
    """Derive the case's clocks from its events: start those whose start event happened (and
    whose condition holds), stop those whose end event happened. Returns the clocks it changed.

    Runs inside the transaction of the action that changed the case (`start_proceedings`,
    `record_stage_event`, `refresh_clocks`), which checked the permission.
    """
    events = list(StageEvent.objects.filter(case=case).order_by("occurred_at", "pk"))
    rules = list(DeadlineRule.objects.filter(active=True))
    clocks = list(Clock.objects.filter(case=case).select_related("rule", "start_event"))
    started = {(c.rule_id, c.start_event_id) for c in clocks}
    holidays: frozenset[date] | None = None
    changed: list[Clock] = []

    for rule in rules:
        starts = [e for e in events if e.code == rule.start_event]
        if not starts or not _condition_holds(case, rule.applies_when, events, now):
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
                holidays = _holiday_dates()
            deadline = deadline_for(
                start.occurred_at,
                _clock_amount(rule, start, events),
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
        if clock.start_event.remand_days and _extend_running(clock, events, now):
            changed.append(clock)
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
    """Re-derive a case's clocks after one of its facts changed (e.g. a child found missing).

    The cases app's hook runs it as `SYSTEM` after a case's facts change; the clock job too.
    """
    check_perm(actor, Perm.CASE_EDIT, case)
    now = now or timezone.now()
    changed = _sync_case_clocks(case, now=now)
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


ALERT_RECIPIENT_ROLES = (TeamRole.SUPERVISOR, TeamRole.PROSECUTOR)


@dataclass(frozen=True, slots=True)
class _ClockNotice:
    """What an alert about one clock says, read as plain values (a backlog can be 100,000s)."""

    clock_id: int
    state: str
    case_id: int
    reference: str
    rule_name: str
    rule_name_ur: str
    due_at: datetime
    accused_label: str | None

    @property
    def dedupe_key(self) -> str:
        return f"clock:{self.clock_id}:{self.state}"

    @property
    def kind(self) -> str:
        missed = self.state == ClockState.MISSED
        return AlertKind.CLOCK_MISSED if missed else AlertKind.CLOCK_DUE_SOON

    def words(self) -> tuple[str, dict[str, Any]]:
        """The alert's untranslated text and values (core.words), put into the reader's
        language when it is read."""
        missed = self.state == ClockState.MISSED
        if self.accused_label:
            text = (
                gettext_noop(
                    "Deadline missed: %(rule)s in case %(case)s was due %(due)s. "
                    "Accused: %(accused)s."
                )
                if missed
                else gettext_noop(
                    "Deadline nearly due: %(rule)s in case %(case)s is due %(due)s. "
                    "Accused: %(accused)s."
                )
            )
        elif missed:
            text = gettext_noop("Deadline missed: %(rule)s in case %(case)s was due %(due)s.")
        else:
            text = gettext_noop("Deadline nearly due: %(rule)s in case %(case)s is due %(due)s.")
        params: dict[str, Any] = {
            "rule": names(self.rule_name, self.rule_name_ur),
            "case": self.reference,
            "due": moment(self.due_at),
        }
        if self.accused_label:
            params["accused"] = self.accused_label
        return text, params


def _team_notice(notice: _ClockNotice) -> TeamNotice:
    message, params = notice.words()
    return TeamNotice(notice.case_id, notice.kind, message, notice.dedupe_key, params)


ALERT_BATCH = 5000


def raise_clock_alerts(actor: Any, clock_ids: Sequence[int] | None = None) -> tuple[int, int]:
    """Alert the supervisors and prosecutors of each case whose clock changed to due-soon or
    missed and has not been alerted for that state yet. Returns (clocks, new alerts).

    The system's write (after a stage is recorded, and the clock job's): each batch raises its
    alerts through the cases app's bulk alert action and marks its clocks alerted in the same
    transaction, so the two cannot part; safe to run twice or concurrently.
    """
    check_system(actor)
    pending: QuerySet[Clock] = Clock.objects.filter(state__in=list(ALERT_STATES)).exclude(
        alerted_state=F("state")
    )
    if clock_ids is not None:
        pending = pending.filter(pk__in=list(clock_ids))
    notices = [
        _ClockNotice(*row)
        for row in pending.order_by("pk").values_list(
            "pk",
            "state",
            "case_id",
            "case__reference",
            "rule__name",
            "rule__name_ur",
            "due_at",
            "accused__label",
        )
    ]
    alerts = 0
    for batch_start in range(0, len(notices), ALERT_BATCH):
        batch = notices[batch_start : batch_start + ALERT_BATCH]
        with transaction.atomic():
            alerts += raise_team_alerts(
                actor,
                [_team_notice(n) for n in batch],
                ALERT_RECIPIENT_ROLES,
            )
            by_state: dict[str, list[int]] = {}
            for notice in batch:
                by_state.setdefault(notice.state, []).append(notice.clock_id)
            for state, ids in by_state.items():
                Clock.objects.filter(pk__in=ids, state=state).update(alerted_state=state)
    return len(notices), alerts


def _alert_after_commit(clock_ids: list[int]) -> None:
    if clock_ids:
        transaction.on_commit(lambda: raise_clock_alerts(SYSTEM, clock_ids))
