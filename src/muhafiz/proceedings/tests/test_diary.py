"""Hearings (issue 15, item 7): the next hearing fixed on each case, adjournments counted, the
court diary per court and per prosecutor as a list, a week and an iCalendar file that carries
no victim identity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from muhafiz.cases.models import Case
from muhafiz.catalogue.models import Agency
from muhafiz.proceedings import actions
from muhafiz.proceedings.diary import week_start
from muhafiz.proceedings.models import CaseProgress, StageCode
from muhafiz.proceedings.tests.conftest import CaseFactory
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db


def _in_trial(make_case: CaseFactory, people: People, court: Agency) -> Case:
    now = timezone.now()
    case = make_case(now - timedelta(days=40))
    inv = people.lahore_investigator
    for code, days in (
        (StageCode.FIR_REGISTERED, 39),
        (StageCode.CHALLAN_SUBMITTED, 30),
    ):
        actions.record_stage_event(inv, case, code=code, occurred_at=now - timedelta(days=days))
    actions.record_stage_event(
        inv,
        case,
        code=StageCode.TRIAL_STARTED,
        occurred_at=now - timedelta(days=10),
        court=court,
        next_hearing_at=now - timedelta(days=3),
    )
    return case


def _next_hearing(days: int) -> datetime:
    return (timezone.localtime() + timedelta(days=days)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )


def test_an_adjournment_fixes_the_next_hearing_and_is_counted(
    make_case: CaseFactory, people: People, court: Agency
) -> None:
    case = _in_trial(make_case, people, court)
    for n in (1, 2):
        actions.record_stage_event(
            people.prosecutor,
            case,
            code=StageCode.ADJOURNMENT,
            occurred_at=timezone.now() - timedelta(days=3 - n),
            next_hearing_at=_next_hearing(n * 7),
        )
    progress = CaseProgress.objects.get(case=case)
    assert progress.adjournments == 2
    assert progress.next_hearing_at == _next_hearing(14)
    section = signed_in(people.lahore_investigator).get(f"/cases/{case.reference}/proceedings/")
    page = section.content.decode()
    assert 'data-adjournments="2"' in page
    assert _next_hearing(14).strftime("%Y-%m-%d %H:%M") in page


def test_an_adjournment_needs_its_next_date_after_it(
    make_case: CaseFactory, people: People, court: Agency
) -> None:
    case = _in_trial(make_case, people, court)
    with pytest.raises(ValidationError) as refused:
        actions.record_stage_event(
            people.prosecutor, case, code=StageCode.ADJOURNMENT, occurred_at=timezone.now()
        )
    assert "next_hearing_at" in refused.value.message_dict
    with pytest.raises(ValidationError):
        actions.record_stage_event(
            people.prosecutor,
            case,
            code=StageCode.ADJOURNMENT,
            occurred_at=timezone.now(),
            next_hearing_at=timezone.now() - timedelta(days=1),
        )
    with pytest.raises(ValidationError):  # an arrest fixes no hearing
        actions.record_stage_event(
            people.prosecutor,
            case,
            code=StageCode.FIR_REGISTERED,
            occurred_at=timezone.now(),
            next_hearing_at=_next_hearing(3),
        )


def test_the_diary_lists_per_prosecutor_and_per_court_and_shows_a_week(
    make_case: CaseFactory, people: People, court: Agency
) -> None:
    case = _in_trial(make_case, people, court)
    hearing = _next_hearing(2)
    actions.record_stage_event(
        people.prosecutor,
        case,
        code=StageCode.HEARING,
        occurred_at=timezone.now() - timedelta(hours=2),
        next_hearing_at=hearing,
    )
    other = _in_trial(make_case, people, court)  # its hearing is past: not in the coming list
    prosecutor = signed_in(people.prosecutor)
    mine = prosecutor.get("/proceedings/diary/").content.decode()  # a prosecutor's own diary
    assert f'data-hearing="{case.reference}"' in mine
    assert f'data-hearing="{other.reference}"' not in mine
    by_court = prosecutor.get("/proceedings/diary/", {"court": court.pk}).content.decode()
    assert f'data-hearing="{case.reference}"' in by_court
    monday = week_start(timezone.localtime(hearing).date())
    week = prosecutor.get(
        "/proceedings/diary/", {"view": "week", "week": monday.isoformat()}
    ).content.decode()
    day = week.split(f'data-day="{timezone.localtime(hearing).date():%Y-%m-%d}"')[1]
    assert f'data-hearing="{case.reference}"' in day.split("</section>")[0]
    # Another prosecutor's diary does not hold it; a Kasur investigator cannot see the case.
    from muhafiz.accounts.roles import Role
    from muhafiz.testing import make_user

    colleague = make_user("pros.colleague", Role.PROSECUTOR, district_code="LHR")
    assert (
        f'data-hearing="{case.reference}"'
        not in prosecutor.get("/proceedings/diary/", {"prosecutor": colleague.pk}).content.decode()
    )
    assert (
        f'data-hearing="{case.reference}"'
        not in signed_in(people.kasur_investigator).get("/proceedings/diary/").content.decode()
    )


def test_the_ics_file_holds_the_hearing_and_no_victim(
    make_case: CaseFactory, people: People, court: Agency
) -> None:
    from muhafiz.cases import actions as case_actions

    case = _in_trial(make_case, people, court)
    victim = case_actions.add_victim(
        people.lahore_investigator,
        case,
        case_actions.VictimIdentity(name="Zarmeena Diarytest", cnic="35202-7654321-8"),
        gender="girl",
    )
    actions.record_stage_event(
        people.prosecutor,
        case,
        code=StageCode.HEARING,
        occurred_at=timezone.now() - timedelta(hours=2),
        next_hearing_at=_next_hearing(2),
    )
    response = signed_in(people.prosecutor).get("/proceedings/diary.ics")
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert body.count("BEGIN:VEVENT") == 1
    assert f"SUMMARY:Hearing {case.reference}" in body
    start = _next_hearing(2).astimezone(UTC)
    assert f"DTSTART:{start:%Y%m%dT%H%M%SZ}" in body
    for secret in ("Zarmeena", "Diarytest", "35202", victim.pseudonym, "V-"):
        assert secret not in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
