"""Correcting the facts of a case's proceedings: a stage event corrected or voided with a reason,
the report's date corrected. Nothing is deleted: the old values stay in the event's revisions and
in the audit; the case's stage, next hearing and clocks are derived again from the facts as
corrected, and every event must still stand in order after the change (a judgment before the
trial's start is refused, as at recording).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record
from muhafiz.cases.actions import correct_reported_at, refuse_victim_identity
from muhafiz.cases.models import Case
from muhafiz.catalogue.models import Agency
from muhafiz.core.permissions import Perm, check_perm
from muhafiz.proceedings.actions.clocks import (
    _alert_after_commit,
    _clock_amount,
    _local,
    _sync_case_clocks,
)
from muhafiz.proceedings.actions.stages import (
    _is_user,
    _label,
    _update_hearings,
    _validate,
    _validate_next_hearing,
)
from muhafiz.proceedings.clocks import ClockState, clock_state, deadline_for
from muhafiz.proceedings.models import (
    STAGE_ORDER,
    WITHIN_STAGE,
    CaseProgress,
    Clock,
    StageCode,
    StageEvent,
    StageEventRevision,
)

# What a correction may change on an event; the stage itself and the accused are not corrected
# (void the entry and record the right one).
CORRECTABLE = (
    "occurred_at",
    "remand_days",
    "outcome",
    "sentence",
    "court",
    "next_hearing_at",
    "note",
)


def _snapshot(event: StageEvent) -> dict[str, Any]:
    return {
        "occurred_at": event.occurred_at.isoformat(),
        "remand_days": event.remand_days,
        "outcome": event.outcome,
        "sentence": event.sentence,
        "court": event.court.code if event.court else "",
        "next_hearing_at": event.next_hearing_at.isoformat() if event.next_hearing_at else "",
        "note": event.note,
    }


def _reason(reason: str, case: Case) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why this is corrected.")]})
    refuse_victim_identity(case, reason=reason)
    return reason[:500]


def _check_sequence(case: Case, now: datetime) -> None:
    """Every standing event must still be valid against the others, as when it was recorded."""
    events = list(
        StageEvent.objects.filter(case=case)
        .select_related("accused", "court")
        .order_by("occurred_at", "pk")
    )
    for event in events:
        if event.code == StageCode.REPORT_RECEIVED:
            continue
        others = [e for e in events if e.pk != event.pk]
        try:
            _validate(
                case,
                others,
                code=event.code,
                occurred_at=event.occurred_at,
                accused=event.accused,
                remand_days=event.remand_days,
                outcome=event.outcome,
                court=event.court,
                now=now,
            )
        except ValidationError as exc:
            problems = [m for messages in exc.message_dict.values() for m in messages]
            raise ValidationError(
                _("After this change, %(stage)s of %(when)s would not stand: %(why)s")
                % {
                    "stage": _label(event.code),
                    "when": _local(event.occurred_at),
                    "why": " ".join(problems),
                }
            ) from None


def _rebuild_progress(case: Case) -> None:
    events = list(StageEvent.objects.filter(case=case).order_by("occurred_at", "pk"))
    if not events:
        return
    moving = [e for e in events if e.code not in WITHIN_STAGE]
    current = max(moving, key=lambda e: (STAGE_ORDER.index(e.code), e.occurred_at))
    courts = [e for e in events if e.court_id]
    CaseProgress.objects.update_or_create(
        case=case,
        defaults={
            "stage": current.code,
            "stage_since": current.occurred_at,
            "last_event_at": events[-1].occurred_at,
            "court": courts[-1].court if courts else None,
        },
    )
    _update_hearings(case)


def _rederive_clocks(case: Case, now: datetime) -> list[Clock]:
    """Derive the case's clocks again from its standing events: a clock whose start was voided
    goes; the others restart from their (corrected) start and are stopped again by the events."""
    changed: list[Clock] = []
    for clock in Clock.objects.filter(case=case).select_related("rule", "start_event"):
        start = clock.start_event
        if start.voided_at is not None:
            clock.delete()
            continue
        events = list(StageEvent.objects.filter(case=case).order_by("occurred_at", "pk"))
        deadline = deadline_for(
            start.occurred_at,
            _clock_amount(clock.rule, start, events),
            clock.rule.unit,
            clock.rule.due_soon_fraction,
        )
        clock.started_at, clock.due_at, clock.due_soon_at = (
            start.occurred_at,
            deadline.due_at,
            deadline.due_soon_at,
        )
        clock.stopped_at, clock.end_event = None, None
        clock.state = clock_state(
            due_at=clock.due_at, due_soon_at=clock.due_soon_at, stopped_at=None, now=now
        )
        clock.missed_at = now if clock.state == ClockState.MISSED else None
        clock.save(
            update_fields=[
                "started_at",
                "due_at",
                "due_soon_at",
                "stopped_at",
                "end_event",
                "state",
                "missed_at",
            ]
        )
        changed.append(clock)
    # Stops them again where an end event stands, and starts any a corrected fact now starts.
    for clock in _sync_case_clocks(case, now=now):
        if clock not in changed:
            changed.append(clock)
    return changed


def _after_change(actor: Any, case: Case, now: datetime) -> list[Clock]:
    _check_sequence(case, now)
    _rebuild_progress(case)
    changed = _rederive_clocks(case, now)
    _alert_after_commit([c.pk for c in changed if c.pk is not None])
    return changed


@transaction.atomic
def correct_stage_event(
    actor: Any,
    event: StageEvent,
    *,
    reason: str,
    occurred_at: datetime | None = None,
    remand_days: int | None = None,
    outcome: str | None = None,
    sentence: str | None = None,
    court: Agency | str | None = "unchanged",
    next_hearing_at: datetime | str | None = "unchanged",
    note: str | None = None,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> StageEvent:
    """Correct what an event says (only the arguments given change), with a reason. The report's
    date is corrected on the case too. Refused, and nothing written, if any event would then be
    out of order."""
    case = event.case
    check_perm(actor, Perm.CASE_EDIT, case)
    now = now or timezone.now()
    case = Case.objects.select_for_update().get(pk=case.pk)
    event = StageEvent.objects.select_for_update().get(pk=event.pk)
    reason = _reason(reason, case)
    before = _snapshot(event)
    if occurred_at is not None:
        if timezone.is_naive(occurred_at):
            raise ValidationError({"occurred_at": [_("Give the time with its time zone.")]})
        event.occurred_at = occurred_at
    if remand_days is not None:
        event.remand_days = remand_days or None
    if outcome is not None:
        event.outcome = outcome
    if sentence is not None:
        event.sentence = sentence.strip()
    if not isinstance(court, str):
        event.court = court
    if not isinstance(next_hearing_at, str):
        event.next_hearing_at = next_hearing_at
    if note is not None:
        event.note = note.strip()
    refuse_victim_identity(case, sentence=event.sentence, note=event.note)
    _validate_next_hearing(event.code, event.occurred_at, event.next_hearing_at)
    after = _snapshot(event)
    fields = [name for name in CORRECTABLE if before.get(name) != after.get(name)]
    if not fields:
        raise ValidationError(_("Nothing was changed."))
    event.save(update_fields=fields)
    if event.code == StageCode.REPORT_RECEIVED and "occurred_at" in fields:
        correct_reported_at(actor, case, event.occurred_at, reason=reason, request=request)
        case.refresh_from_db()
    StageEventRevision.objects.create(
        event=event,
        action="correct",
        before={k: before[k] for k in fields},
        after={k: after[k] for k in fields},
        reason=reason,
        revised_by=actor if _is_user(actor) else None,
    )
    changed = _after_change(actor, case, now)
    record(
        actor,
        "proceedings.stage.correct",
        case,
        request=request,
        stage=event.code,
        event_id=event.pk,
        before={k: before[k] for k in fields},
        after={k: after[k] for k in fields},
        reason=reason,
        clocks_changed=len(changed),
    )
    return event


@transaction.atomic
def void_stage_event(
    actor: Any,
    event: StageEvent,
    *,
    reason: str,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> StageEvent:
    """Void an event recorded in error, with a reason: it stays in the history, no longer counts,
    and the clocks are derived again. The report cannot be voided (correct its date instead);
    an event that others need (the FIR under a challan) is refused until they are voided."""
    case = event.case
    check_perm(actor, Perm.CASE_EDIT, case)
    now = now or timezone.now()
    case = Case.objects.select_for_update().get(pk=case.pk)
    event = StageEvent.all_objects.select_for_update().get(pk=event.pk)
    reason = _reason(reason, case)
    if event.voided_at is not None:
        raise ValidationError(_("This entry is already voided."))
    if event.code == StageCode.REPORT_RECEIVED:
        raise ValidationError(_("The report cannot be voided; correct its date instead."))
    event.voided_at, event.void_reason = now, reason
    event.save(update_fields=["voided_at", "void_reason"])
    StageEventRevision.objects.create(
        event=event,
        action="void",
        before=_snapshot(event),
        after={},
        reason=reason,
        revised_by=actor if _is_user(actor) else None,
    )
    changed = _after_change(actor, case, now)
    record(
        actor,
        "proceedings.stage.void",
        case,
        request=request,
        stage=event.code,
        event_id=event.pk,
        occurred_at=event.occurred_at.isoformat(),
        reason=reason,
        clocks_changed=len(changed),
    )
    return event
