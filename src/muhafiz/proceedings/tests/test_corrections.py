"""Corrections without erasing (issue 15, item 5): a stage event corrected or voided with a
reason keeps its old value in its history and the audit, and the clocks follow the corrected
facts; the report's date too; an order that cannot be (a judgment before the trial) is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.proceedings import actions
from muhafiz.proceedings.models import CaseProgress, Clock, StageCode, StageEvent
from muhafiz.proceedings.tests.conftest import CaseFactory, accused_on, end_of_day
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db


def _case_with_fir(make_case: CaseFactory, people: People, fir_days: int = 10):  # type: ignore[no-untyped-def]
    now = timezone.now()
    case = make_case(now - timedelta(days=30))
    fir = actions.record_stage_event(
        people.lahore_investigator,
        case,
        code=StageCode.FIR_REGISTERED,
        occurred_at=now - timedelta(days=fir_days),
    )
    return case, fir


def test_correcting_the_fir_date_keeps_the_old_date_and_moves_the_challan_clock(
    make_case: CaseFactory, people: People
) -> None:
    case, fir = _case_with_fir(make_case, people, fir_days=10)
    clock = Clock.objects.get(case=case, rule__code="challan_submitted")
    old_due, old_at = clock.due_at, fir.occurred_at
    assert clock.state != "missed"
    corrected = timezone.now() - timedelta(days=20)  # the FIR was in fact 20 days ago
    actions.correct_stage_event(
        people.lahore_investigator, fir, occurred_at=corrected, reason="Typed the wrong month"
    )
    clock.refresh_from_db()
    assert clock.due_at < old_due
    assert clock.started_at == corrected
    assert clock.state == "missed"  # 14 days from 20 days ago: run out
    revision = fir.revisions.get()
    assert revision.before["occurred_at"] == old_at.isoformat()
    assert revision.after["occurred_at"] == corrected.isoformat()
    assert revision.reason == "Typed the wrong month"
    audit = AuditEvent.objects.get(action="proceedings.stage.correct")
    assert audit.details["before"]["occurred_at"] == old_at.isoformat()


def test_a_correction_needs_a_reason_and_a_change(make_case: CaseFactory, people: People) -> None:
    _case, fir = _case_with_fir(make_case, people)
    with pytest.raises(ValidationError):
        actions.correct_stage_event(
            people.lahore_investigator, fir, occurred_at=fir.occurred_at, reason=""
        )
    with pytest.raises(ValidationError):
        actions.correct_stage_event(
            people.lahore_investigator, fir, occurred_at=fir.occurred_at, reason="same"
        )


def test_voiding_a_stage_keeps_it_in_the_history_and_the_clock_runs_again(
    make_case: CaseFactory, people: People
) -> None:
    case, _fir = _case_with_fir(make_case, people)
    challan = actions.record_stage_event(
        people.lahore_investigator,
        case,
        code=StageCode.CHALLAN_SUBMITTED,
        occurred_at=timezone.now() - timedelta(days=2),
    )
    clock = Clock.objects.get(case=case, rule__code="challan_submitted")
    assert clock.stopped_at is not None
    actions.void_stage_event(
        people.lahore_investigator, challan, reason="Recorded on the wrong case"
    )
    clock.refresh_from_db()
    assert clock.stopped_at is None and clock.state in {"pending", "due_soon"}
    assert not StageEvent.objects.filter(pk=challan.pk).exists()  # no longer counts
    kept = StageEvent.all_objects.get(pk=challan.pk)  # but stays
    assert kept.voided_at is not None and kept.void_reason == "Recorded on the wrong case"
    assert CaseProgress.objects.get(case=case).stage == StageCode.FIR_REGISTERED
    assert AuditEvent.objects.filter(action="proceedings.stage.void").count() == 1
    # The FIR cannot be voided while... nothing needs it now: it can; but not twice the challan.
    with pytest.raises(ValidationError):
        actions.void_stage_event(people.lahore_investigator, kept, reason="again")


def test_an_event_others_need_cannot_be_voided(make_case: CaseFactory, people: People) -> None:
    case, fir = _case_with_fir(make_case, people)
    actions.record_stage_event(
        people.lahore_investigator,
        case,
        code=StageCode.CHALLAN_SUBMITTED,
        occurred_at=timezone.now() - timedelta(days=2),
    )
    with pytest.raises(ValidationError) as refused:
        actions.void_stage_event(people.lahore_investigator, fir, reason="wrong")
    assert "would not stand" in str(refused.value)
    assert StageEvent.objects.filter(pk=fir.pk).exists()


def test_a_judgment_cannot_be_moved_before_the_trial(
    make_case: CaseFactory, people: People
) -> None:
    now = timezone.now()
    case = make_case(now - timedelta(days=100))
    inv = people.lahore_investigator
    for code, days in (
        (StageCode.FIR_REGISTERED, 99),
        (StageCode.CHALLAN_SUBMITTED, 90),
        (StageCode.TRIAL_STARTED, 60),
    ):
        actions.record_stage_event(inv, case, code=code, occurred_at=now - timedelta(days=days))
    judgment = actions.record_stage_event(
        inv,
        case,
        code=StageCode.JUDGMENT_DELIVERED,
        occurred_at=now - timedelta(days=5),
        accused=accused_on(case),
        outcome="acquittal",
    )
    with pytest.raises(ValidationError) as refused:
        actions.correct_stage_event(
            inv, judgment, occurred_at=now - timedelta(days=70), reason="date from the order"
        )
    assert "Trial started" in str(refused.value)
    judgment.refresh_from_db()
    assert judgment.occurred_at == now - timedelta(days=5)
    assert not judgment.revisions.exists()


def test_correcting_the_report_date_moves_the_case_and_its_clocks(
    make_case: CaseFactory, people: People
) -> None:
    now = timezone.now()
    case = make_case(now - timedelta(hours=1), missing_child=True)
    actions.start_proceedings(people.lahore_investigator, case)
    report = StageEvent.objects.get(case=case, code=StageCode.REPORT_RECEIVED)
    clock = Clock.objects.get(case=case, rule__code="fir_missing_child")
    assert clock.state != "missed"
    earlier = now - timedelta(hours=5)  # the call came in five hours ago
    actions.correct_stage_event(
        people.lahore_investigator, report, occurred_at=earlier, reason="Helpline log time"
    )
    case.refresh_from_db()
    clock.refresh_from_db()
    assert case.reported_at == earlier
    assert clock.started_at == earlier and clock.state == "missed"
    assert AuditEvent.objects.filter(action="case.reported_at.correct").count() == 1


def test_a_remand_corrected_to_fewer_days_shortens_its_clock(
    make_case: CaseFactory, people: People
) -> None:
    from muhafiz.proceedings.tests.conftest import START

    case = make_case(START)
    inv, a1 = people.lahore_investigator, accused_on(case)
    for code, hours in ((StageCode.ARRESTED, 1), (StageCode.PRODUCED_BEFORE_MAGISTRATE, 20)):
        actions.record_stage_event(
            inv, case, code=code, occurred_at=START + timedelta(hours=hours), accused=a1
        )
    remand = actions.record_stage_event(
        inv,
        case,
        code=StageCode.PHYSICAL_REMAND_STARTED,
        occurred_at=START + timedelta(hours=21),
        accused=a1,
        remand_days=10,
    )
    actions.correct_stage_event(inv, remand, remand_days=4, reason="The order says 4 days")
    clock = Clock.objects.get(case=case, rule__code="physical_remand_total")
    assert clock.due_at == end_of_day(2026, 3, 25)


def test_the_correction_page_records_and_shows_the_history(
    make_case: CaseFactory, people: People
) -> None:
    case, fir = _case_with_fir(make_case, people)
    client = signed_in(people.lahore_investigator)
    url = f"/cases/{case.reference}/proceedings/events/{fir.pk}/"
    page = client.get(url)
    assert page.status_code == 200
    corrected = timezone.localtime() - timedelta(days=12)
    response = client.post(
        url,
        {
            "occurred_at": corrected.strftime("%Y-%m-%dT%H:%M"),
            "note": "",
            "reason": "FIR register shows the 12th day",
        },
    )
    assert response.status_code == 302
    history = client.get(url).content.decode()
    assert "FIR register shows the 12th day" in history
    # The old value is kept, shown in Pakistan time as every date on the pages, not raw UTC.
    assert timezone.localtime(fir.occurred_at).strftime("%Y-%m-%d %H:%M") in history
    assert fir.occurred_at.isoformat()[:16] not in history
    assert "occurred_at:" not in history  # the field in words, not its code
    # Someone outside the case cannot correct it.
    assert signed_in(people.kasur_investigator).post(url, {"reason": "x"}).status_code in {403, 404}
    # Voiding through the page.
    response = client.post(url + "void/", {"reason": "Wrong case"})
    assert response.status_code == 302
    assert StageEvent.all_objects.get(pk=fir.pk).voided_at is not None


def test_an_adult_birth_date_on_an_under_18_case_must_be_confirmed(people: People) -> None:
    import datetime as dt

    from muhafiz.cases import actions as case_actions
    from muhafiz.catalogue.models import Agency, District

    case = case_actions.create_case(
        people.lahore_investigator,
        district=District.objects.get(code="LHR"),
        agency=Agency.objects.get(code="PB-POLICE"),
        reported_at=timezone.now() - timedelta(days=1),
        facts={"victim_under_18"},
    )
    identity = case_actions.VictimIdentity(birth_date=dt.date(1990, 5, 1))
    with pytest.raises(ValidationError) as refused:
        case_actions.add_victim(people.lahore_investigator, case, identity)
    assert "confirmed" in refused.value.message_dict
    assert not case.victims.exists()
    confirmed = case_actions.VictimIdentity(birth_date=dt.date(1990, 5, 1), confirmed=True)
    assert case_actions.add_victim(people.lahore_investigator, case, confirmed).age_band


def test_an_item_seized_years_before_the_report_must_be_confirmed(people: People) -> None:
    from muhafiz.cases import actions as case_actions
    from muhafiz.catalogue.models import Agency, District
    from muhafiz.evidence import actions as evidence

    case = case_actions.create_case(
        people.lahore_investigator,
        district=District.objects.get(code="LHR"),
        agency=Agency.objects.get(code="PB-POLICE"),
        reported_at=timezone.now() - timedelta(days=1),
    )
    details = evidence.ItemDetails(
        kind="phone",
        seized_at=timezone.now() - timedelta(days=3 * 365),
        seized_place="Testpura",
        seized_by=people.lahore_investigator,
    )
    with pytest.raises(ValidationError) as refused:
        evidence.create_item(people.lahore_investigator, case, details)
    assert "confirmed" in refused.value.message_dict
    details.confirmed = True
    assert evidence.create_item(people.lahore_investigator, case, details).label == "E1"


def test_the_report_date_history_shows_old_and_new_dates_in_pakistan_time(
    make_case: CaseFactory, people: People
) -> None:
    """A report received at 02:30 Pakistan time is 21:30 the day before in UTC: the history
    must show the day and hour the officers know, not the stored UTC text."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    karachi = ZoneInfo("Asia/Karachi")
    old = dt.datetime(2026, 3, 10, 2, 30, tzinfo=karachi)
    new = dt.datetime(2026, 3, 9, 1, 15, tzinfo=karachi)
    case = make_case(old)
    actions.start_proceedings(people.lahore_investigator, case)
    report = StageEvent.objects.get(case=case, code=StageCode.REPORT_RECEIVED)
    actions.correct_stage_event(
        people.lahore_investigator, report, occurred_at=new, reason="Diary entry says the 9th"
    )
    page = signed_in(people.lahore_investigator).get(
        f"/cases/{case.reference}/proceedings/events/{report.pk}/"
    )
    history = page.content.decode().split('id="event-history"')[1].split("</section>")[0]
    assert "2026-03-10 02:30" in history  # old, Pakistan time
    assert "2026-03-09 01:15" in history  # new, Pakistan time
    assert "2026-03-09T21:30" not in history and "+00:00" not in history
    assert "When (Pakistan time)" in history  # the field in words, not its code
