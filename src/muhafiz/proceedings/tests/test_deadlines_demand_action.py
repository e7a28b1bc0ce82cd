"""Deadlines that demand action (issue 15, item 6): a remand of N days runs an N-day clock, a
conviction changes the accused's status and the case's stage, every dashboard count opens the
cases behind it, prosecutors have the dashboard of their cases, and time left shows red or
amber wherever deadlines are listed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from muhafiz.cases.models import AccusedStatus, Case
from muhafiz.proceedings import actions
from muhafiz.proceedings.models import CaseProgress, Clock, StageCode
from muhafiz.proceedings.tests.conftest import START, CaseFactory, accused_on, end_of_day
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db


def _produced(case: Case, people: People) -> None:
    inv, a1 = people.lahore_investigator, accused_on(case)
    for code, hours in ((StageCode.ARRESTED, 1), (StageCode.PRODUCED_BEFORE_MAGISTRATE, 20)):
        actions.record_stage_event(
            inv, case, code=code, occurred_at=START + timedelta(hours=hours), accused=a1
        )


def test_a_remand_of_five_days_runs_a_five_day_clock_and_an_extension_adds_to_it(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START)
    _produced(case, people)
    a1 = accused_on(case)
    actions.record_stage_event(
        people.lahore_investigator,
        case,
        code=StageCode.PHYSICAL_REMAND_STARTED,
        occurred_at=START + timedelta(hours=21),  # Saturday 21 March, 13:00
        accused=a1,
        remand_days=5,
    )
    clock = Clock.objects.get(case=case, rule__code="physical_remand_total")
    assert clock.due_at == end_of_day(2026, 3, 26)  # 5 days, not the 15-day cap
    actions.record_stage_event(
        people.lahore_investigator,
        case,
        code=StageCode.PHYSICAL_REMAND_EXTENDED,
        occurred_at=START + timedelta(days=5),
        accused=a1,
        remand_days=3,
    )
    clock.refresh_from_db()
    assert clock.due_at == end_of_day(2026, 3, 29)  # 5 + 3 days


def test_a_judicial_remand_of_seven_days_runs_a_seven_day_clock(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START)
    _produced(case, people)
    actions.record_stage_event(
        people.lahore_investigator,
        case,
        code=StageCode.JUDICIAL_REMAND_ORDERED,
        occurred_at=START + timedelta(hours=21),
        accused=accused_on(case),
        remand_days=7,
    )
    clock = Clock.objects.get(case=case, rule__code="judicial_remand_period")
    assert clock.due_at == end_of_day(2026, 3, 28)


def test_a_conviction_makes_the_accused_convicted_and_moves_the_case_to_judgment(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START)
    inv = people.lahore_investigator
    for code, days in (
        (StageCode.FIR_REGISTERED, 0),
        (StageCode.CHALLAN_SUBMITTED, 5),
        (StageCode.TRIAL_STARTED, 20),
    ):
        actions.record_stage_event(inv, case, code=code, occurred_at=START + timedelta(days=days))
    a1, a2 = accused_on(case), accused_on(case, "A2")
    actions.record_stage_event(
        inv,
        case,
        code=StageCode.JUDGMENT_DELIVERED,
        occurred_at=START + timedelta(days=90),
        accused=a1,
        outcome="conviction",
        sentence="14 years",
    )
    actions.record_stage_event(
        inv,
        case,
        code=StageCode.JUDGMENT_DELIVERED,
        occurred_at=START + timedelta(days=90),
        accused=a2,
        outcome="acquittal",
    )
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.status, a2.status) == (AccusedStatus.CONVICTED, AccusedStatus.ACQUITTED)
    assert CaseProgress.objects.get(case=case).stage == StageCode.JUDGMENT_DELIVERED
    from muhafiz.audit.models import AuditEvent

    assert AuditEvent.objects.filter(action="accused.verdict").count() == 2


def test_the_accused_form_cannot_undo_a_verdict(make_case: CaseFactory, people: People) -> None:
    from muhafiz.cases import actions as case_actions

    case = make_case(timezone.now() - timedelta(days=2))
    a1 = accused_on(case)
    a1.status = AccusedStatus.CONVICTED
    a1.save(update_fields=["status"])
    case_actions.update_accused(
        people.lahore_investigator, a1, case_actions.AccusedDetails(name="Known Now")
    )
    a1.refresh_from_db()
    assert a1.status == AccusedStatus.CONVICTED


def _missed_case(make_case: CaseFactory) -> Case:
    # A missing child reported 5 hours ago with no FIR: the 2-hour FIR clock is missed.
    case = make_case(timezone.now() - timedelta(hours=5), missing_child=True)
    actions.start_proceedings(case.created_by, case)
    return case


def test_each_dashboard_count_opens_the_cases_behind_it(
    make_case: CaseFactory, people: People
) -> None:
    case = _missed_case(make_case)
    make_case(timezone.now() - timedelta(days=1))  # nothing due: not behind any count
    client = signed_in(people.lahore_supervisor)
    page = client.get("/proceedings/dashboard/").content.decode()
    links = [
        part.split('"', 1)[0].replace("&amp;", "&")
        for part in page.split('data-count="missed" href="')[1:]
    ]
    assert len(links) >= 3  # district, station, prosecutor (the case has no court yet)
    for link in links:
        listed = client.get(link).content.decode()
        assert f'data-reference="{case.reference}"' in listed
        assert listed.count('data-reference="') == 1
    stalled = client.get("/cases/?status=open&sort=stalled").content.decode()
    assert stalled.count('data-reference="') == 2


def test_a_prosecutor_has_the_dashboard_of_their_cases(
    make_case: CaseFactory, people: People
) -> None:
    case = _missed_case(make_case)
    client = signed_in(people.prosecutor)
    assert client.get("/proceedings/dashboard/").status_code == 403  # no statistics right
    home = client.get("/").content.decode()
    assert 'href="/proceedings/my-deadlines/"' in home
    page = client.get("/proceedings/my-deadlines/").content.decode()
    assert f'data-case="{case.reference}"' in page
    assert 'data-tone="missed"' in page and "badge--error" in page
    link = page.split('data-count="missed" href="')[1].split('"', 1)[0].replace("&amp;", "&")
    listed = client.get(link).content.decode()
    assert f'data-reference="{case.reference}"' in listed
    # Someone on no team sees no clock.
    assert (
        'data-case="'
        not in signed_in(people.kasur_investigator)
        .get("/proceedings/my-deadlines/")
        .content.decode()
    )


def test_the_case_timeline_shows_time_left_in_colour(
    make_case: CaseFactory, people: People
) -> None:
    case = _missed_case(make_case)
    page = signed_in(people.lahore_investigator).get(f"/cases/{case.reference}/proceedings/")
    body = page.content.decode()
    assert 'data-tone="missed"' in body
    assert "missed" in body.split('data-tone="missed"')[1][:60]
