"""With a controlled clock: a journey abroad the police learn of opens a clock before departure
(due the notice rule's 7 days ahead), missed → non-compliant, met by the travel notice; a check
request is a stage of the case's proceedings (its 48-hour clock starts and stops there); the
register's 15-minute job alerts once, to the right people, on a check past its 48 hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from muhafiz.core.permissions import SYSTEM
from muhafiz.proceedings.clocks import ClockState
from muhafiz.proceedings.models import Clock, StageEvent
from muhafiz.register import actions
from muhafiz.register.models import (
    CheckStatus,
    Compliance,
    Notification,
    Obligation,
    RegisterAlert,
)
from muhafiz.register.tests.conftest import RegisterPeople, add_accused, open_case
from muhafiz.testing import make_user, signed_in


def _travel_clock(rp: RegisterPeople, registrant: Any, now: dt.datetime) -> Obligation:
    departure = timezone.localdate(now) + dt.timedelta(days=20)
    return actions.record_change_detected(
        rp.station_officer, registrant, kind="travel", changed_on=departure, now=now
    )


def test_an_unnotified_journey_abroad_is_missed_seven_days_before_departure(
    rp: RegisterPeople, released_registrant: Any
) -> None:
    registrant = released_registrant
    now = timezone.now()
    clock = _travel_clock(rp, registrant, now)
    departure = timezone.localdate(now) + dt.timedelta(days=20)
    assert timezone.localdate(clock.due_at) == departure - dt.timedelta(days=7)
    assert clock.notice_kind == "travel" and clock.started_at == now
    # Twelve days on: nearly due, still compliant.
    actions.evaluate_compliance(SYSTEM, now=now + dt.timedelta(days=12))
    clock.refresh_from_db()
    assert clock.state == ClockState.DUE_SOON
    # The day after the deadline, no notice: missed, the registrant flagged.
    actions.evaluate_compliance(SYSTEM, now=clock.due_at + dt.timedelta(hours=1))
    clock.refresh_from_db()
    registrant.refresh_from_db()
    assert clock.state == ClockState.MISSED
    assert registrant.compliance == Compliance.NON_COMPLIANT
    # The notice comes late: the clock is met late and the flag cleared, the notice marked late.
    received = clock.due_at + dt.timedelta(days=2)
    notice = actions.record_notification(
        rp.station_officer,
        registrant,
        kind="travel",
        changed_on=departure,
        details="Umrah, 3 weeks",
        received_at=received,
        now=received,
    )
    clock.refresh_from_db()
    registrant.refresh_from_db()
    assert notice.late and clock.state == ClockState.MET_LATE
    assert registrant.compliance == Compliance.COMPLIANT


def test_a_journey_notified_in_time_meets_its_clock(
    rp: RegisterPeople, released_registrant: Any
) -> None:
    registrant = released_registrant
    now = timezone.now()
    clock = _travel_clock(rp, registrant, now)
    received = now + dt.timedelta(days=3)
    actions.record_notification(
        rp.station_officer,
        registrant,
        kind="travel",
        changed_on=clock.due_at.date() + dt.timedelta(days=7),
        details="Family visit",
        received_at=received,
        now=received,
    )
    clock.refresh_from_db()
    assert clock.state == ClockState.MET and not Notification.objects.get(kind="travel").late
    actions.evaluate_compliance(SYSTEM, now=now + dt.timedelta(days=30))
    registrant.refresh_from_db()
    assert registrant.compliance == Compliance.COMPLIANT


def test_a_journey_must_lie_ahead(rp: RegisterPeople, released_registrant: Any) -> None:
    now = timezone.now()
    for day in (timezone.localdate(now) - dt.timedelta(days=1), dt.date(2099, 1, 1)):
        with pytest.raises(ValidationError):
            actions.record_change_detected(
                rp.station_officer, released_registrant, kind="travel", changed_on=day, now=now
            )


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_the_station_officer_starts_a_travel_clock_from_the_page(
    rp: RegisterPeople, released_registrant: Any, lang: str
) -> None:
    police = signed_in(rp.station_officer)
    police.cookies["django_language"] = lang
    page = police.get(f"/register/registrants/{released_registrant.code}/")
    assert 'id="change-form"' in page.content.decode()
    departure = timezone.localdate() + dt.timedelta(days=15)
    response = police.post(
        f"/register/registrants/{released_registrant.code}/changes/",
        {"kind": "travel", "changed_on": departure.isoformat()},
    )
    assert response.status_code == 302
    assert Obligation.objects.filter(notice_kind="travel").count() == 1
    # A station officer of another district cannot.
    other = signed_in(rp.kasur_station_officer)
    refused = other.post(
        f"/register/registrants/{released_registrant.code}/changes/",
        {"kind": "travel", "changed_on": departure.isoformat()},
    )
    assert refused.status_code in {403, 404}


# --- checks on the case's timeline, and the overdue alert -----------------------------------------


@pytest.fixture
def check_case(rp: RegisterPeople) -> Any:
    case = open_case(rp.base, "915/2026", ["PPC 377A"], days_ago=3)
    return case, add_accused(rp.base, case)


def test_a_check_is_a_stage_of_the_case_and_its_48_hours_run_in_proceedings(
    rp: RegisterPeople, check_case: Any
) -> None:
    case, suspect = check_case
    now = timezone.now()
    check = actions.request_check(
        rp.lahore_investigator, case, suspect, reason="Suspect named in the FIR", now=now
    )
    requested = StageEvent.objects.get(case=case, code="register_check_requested")
    assert requested.accused_id == suspect.pk and requested.occurred_at == now
    clock = Clock.objects.get(case=case, rule__code="register_check_forwarded")
    assert clock.due_at == check.due_at and clock.stopped_at is None
    decided = now + dt.timedelta(hours=5)
    actions.decide_check(rp.prosecutor, check, approve=True, reason="Relevant", now=decided)
    forwarded = StageEvent.objects.get(case=case, code="register_check_forwarded")
    assert forwarded.accused_id == suspect.pk
    clock.refresh_from_db()
    assert clock.stopped_at == decided and clock.state == ClockState.MET


def test_a_refusal_stops_the_case_clock_too(rp: RegisterPeople, check_case: Any) -> None:
    case, suspect = check_case
    now = timezone.now()
    check = actions.request_check(rp.lahore_investigator, case, suspect, reason="FIR", now=now)
    actions.decide_check(
        rp.prosecutor, check, approve=False, reason="Not relevant", now=now + dt.timedelta(hours=1)
    )
    assert StageEvent.objects.filter(case=case, code="register_check_refused").count() == 1
    clock = Clock.objects.get(case=case, rule__code="register_check_forwarded")
    assert clock.stopped_at is not None and clock.state == ClockState.MET
    # A second request about the same accused keeps the first one's stages.
    again = actions.request_check(rp.lahore_investigator, case, suspect, reason="New facts")
    assert again.status == CheckStatus.REQUESTED
    assert StageEvent.objects.filter(case=case, code="register_check_requested").count() == 1


def test_a_check_needs_the_fir_on_the_case(rp: RegisterPeople) -> None:
    case = open_case(rp.base, "916/2026", ["PPC 377A"], days_ago=3, fir_stage=False)
    with pytest.raises(ValidationError):
        actions.request_check(
            rp.lahore_investigator, case, add_accused(rp.base, case), reason="FIR"
        )


def test_a_check_past_48_hours_alerts_the_district_prosecutors_and_the_requester_once(
    rp: RegisterPeople, check_case: Any
) -> None:
    case, suspect = check_case
    lahore_prosecutor_2 = make_user("pros.lahore2", "prosecutor", district_code="LHR")
    now = timezone.now()
    check = actions.request_check(rp.lahore_investigator, case, suspect, reason="FIR", now=now)
    early = actions.evaluate_register_clocks(SYSTEM, now=now + dt.timedelta(hours=47))
    assert early.checks == 0 and early.alerts == 0
    later = now + dt.timedelta(hours=49)
    run = actions.evaluate_register_clocks(SYSTEM, now=later)
    assert run.checks == 1
    alerted = set(
        RegisterAlert.objects.filter(kind="check_overdue").values_list("recipient", flat=True)
    )
    assert {rp.prosecutor.pk, lahore_prosecutor_2.pk, rp.lahore_investigator.pk} <= alerted
    assert rp.kasur_prosecutor.pk not in alerted
    assert rp.register_officer.pk not in alerted
    # Again (or through the command): nothing new.
    assert actions.evaluate_register_clocks(SYSTEM, now=later).alerts == 0
    call_command("run_register_clocks", now=later.isoformat())
    assert RegisterAlert.objects.filter(kind="check_overdue").count() == len(alerted)
    assert RegisterAlert.objects.filter(kind="check_overdue").first().link == (  # type: ignore[union-attr]
        f"/register/checks/{check.pk}/"
    )
