"""The clock job's write (run by `tasks.evaluate_clocks_task` and `run_clocks`): move running
clocks to due-soon or missed in bulk, open proceedings the cases app's hook missed, and alert
each case's supervisors and prosecutors once per change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from muhafiz.audit.actions import record
from muhafiz.cases.models import Case, CaseStatus
from muhafiz.catalogue.models import DeadlineRule
from muhafiz.core.permissions import check_system
from muhafiz.proceedings import hooks
from muhafiz.proceedings.actions.clocks import raise_clock_alerts, refresh_clocks
from muhafiz.proceedings.actions.stages import start_proceedings
from muhafiz.proceedings.clocks import ClockState
from muhafiz.proceedings.models import Clock, StageCode

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


def evaluate_clocks(actor: Any, *, now: datetime | None = None) -> Evaluation:
    """Evaluate every running clock at `now`: one indexed query per transition, bulk updates.

    Then open proceedings for cases that have none yet, start clocks whose condition became true
    because another clock ran out (the interim report when the challan is late), and alert.
    Safe to run twice or concurrently: alerts are raised once per clock and state. The system
    runs it (`SYSTEM`); nobody else may.
    """
    check_system(actor)
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
                actor,
                "proceedings.clocks.evaluate",
                now=now.isoformat(),
                missed=result.missed,
                due_soon=result.due_soon,
            )

    result.started = _open_missing_proceedings(actor, now)
    if result.missed:
        result.conditions_rechecked = _recheck_derived_conditions(actor, now)
    result.alerted_clocks, result.alerts = raise_clock_alerts(actor)
    result.seconds = (timezone.now() - started_at).total_seconds()
    hooks.clocks_evaluated.send_on_commit(result.missed, result.due_soon)
    return result


def _open_missing_proceedings(actor: Any, now: datetime) -> int:
    """Cases opened without their report recorded as a stage (the cases app need not call us)."""
    pending = Case.objects.filter(status=CaseStatus.OPEN, progress__isnull=True).values_list(
        "pk", flat=True
    )
    count = 0
    for case in Case.objects.filter(pk__in=list(pending[:CHUNK])):
        start_proceedings(actor, case, now=now)
        count += 1
    return count


def _recheck_derived_conditions(actor: Any, now: datetime) -> int:
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
        refresh_clocks(actor, case, now=now)
    return len(case_ids)
