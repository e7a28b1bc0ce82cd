"""The stages page, the timeline partial and the API: same rights, same refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from muhafiz.proceedings import actions
from muhafiz.proceedings.models import StageCode, StageEvent
from muhafiz.proceedings.tests.conftest import START, CaseFactory, accused_on
from muhafiz.testing import People, signed_in


def test_lahore_team_sees_the_timeline_and_kasur_investigator_cannot_open_it(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START, missing_child=True)
    actions.start_proceedings(people.lahore_investigator, case, now=START)
    url = reverse("proceedings:case", args=[case.reference])
    page = signed_in(people.lahore_investigator).get(url)
    assert page.status_code == 200
    assert b'data-clock="fir_missing_child"' in page.content
    assert b'data-testid="stage-form"' in page.content
    assert signed_in(people.kasur_investigator).get(url).status_code == 404
    assert signed_in(people.analyst).get(url).status_code == 403  # no case right in the role
    api = f"/api/v1/proceedings/cases/{case.reference}/timeline"
    assert signed_in(people.kasur_investigator).get(api).status_code == 404
    body = signed_in(people.prosecutor).get(api).json()
    assert {c["rule"] for c in body["clocks"]} >= {"fir_missing_child", "zarra_informed"}


def test_an_auditor_cannot_open_a_cases_proceedings(make_case: CaseFactory, people: People) -> None:
    case = make_case(START)
    response = signed_in(people.auditor).get(reverse("proceedings:case", args=[case.reference]))
    assert response.status_code == 403


def test_recording_a_stage_through_the_page(make_case: CaseFactory, people: People) -> None:
    case = make_case(START)
    client = signed_in(people.lahore_investigator)
    url = reverse("proceedings:case", args=[case.reference])
    response = client.post(
        url, {"code": StageCode.FIR_REGISTERED, "occurred_at": "2026-03-20T17:30"}
    )
    assert response.status_code == 302
    event = StageEvent.objects.get(case=case, code=StageCode.FIR_REGISTERED)
    assert event.occurred_at == START + timedelta(minutes=90)


def test_an_impossible_date_on_the_page_is_explained_and_nothing_saved(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START)
    accused_on(case)
    client = signed_in(people.lahore_investigator)
    url = reverse("proceedings:case", args=[case.reference])
    response = client.post(
        url,
        {"code": StageCode.ARRESTED, "occurred_at": "2026-03-19T10:00", "accused": ""},
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "cannot come before the report was received" in text
    assert "Say which accused this concerns" in text
    assert not StageEvent.objects.filter(case=case, code=StageCode.ARRESTED).exists()


def test_api_records_a_stage_and_refuses_a_judgment_before_the_fir(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START)
    accused_on(case)
    client = signed_in(people.lahore_investigator)
    base = f"/api/v1/proceedings/cases/{case.reference}/stages"
    created = client.post(
        base,
        {"code": "fir_registered", "occurred_at": "2026-03-20T17:00:00+05:00"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    refused = client.post(
        base,
        {
            "code": "judgment_delivered",
            "occurred_at": "2026-03-20T16:30:00+05:00",
            "accused": "A1",
            "outcome": "acquittal",
        },
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert (
        "occurred_at" in refused.json()["error"]["details"]
        or "code" in refused.json()["error"]["details"]
    )
    assert not StageEvent.objects.filter(case=case, code="judgment_delivered").exists()
    outsider = signed_in(people.kasur_investigator).post(
        base,
        {"code": "hearing", "occurred_at": "2026-03-21T10:00:00+05:00"},
        content_type="application/json",
    )
    assert outsider.status_code == 404


def test_the_case_page_can_include_the_timeline_partial(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START)
    actions.record_stage_event(
        people.lahore_investigator, case, code=StageCode.FIR_REGISTERED, occurred_at=START
    )
    request = RequestFactory().get("/")
    request.user = people.lahore_supervisor
    html = Template('{% include "proceedings/timeline.html" %}').render(
        Context({"case": case, "request": request})
    )
    assert 'data-stage="fir_registered"' in html
    assert 'data-clock="challan_submitted"' in html
    # Someone without the case right gets nothing from the partial.
    request.user = people.child_protection_officer
    html = Template('{% include "proceedings/timeline.html" %}').render(
        Context({"case": case, "request": request})
    )
    assert "timeline" not in html


def test_the_stages_page_speaks_urdu(make_case: CaseFactory, people: People) -> None:
    case = make_case(START, missing_child=True)
    actions.start_proceedings(people.lahore_investigator, case, now=START)
    response = signed_in(people.lahore_investigator).get(
        reverse("proceedings:case", args=[case.reference]), HTTP_ACCEPT_LANGUAGE="ur"
    )
    text = response.content.decode()
    assert 'dir="rtl"' in text
    assert "کارروائی اور قانونی مدتیں" in text  # Proceedings and statutory deadlines
    assert "مرحلہ درج کریں" in text  # Record stage


def test_recording_the_fir_fills_the_cases_number_and_station(
    make_case: CaseFactory, people: People
) -> None:
    from muhafiz.audit.models import AuditEvent
    from muhafiz.catalogue.models import PoliceStation

    case = make_case(START, station="Model Town")
    case.police_station = None
    case.save(update_fields=["police_station"])
    gulberg = PoliceStation.objects.create(
        district=case.district, name="Gulberg", source="Notification"
    )
    client = signed_in(people.lahore_investigator)
    url = reverse("proceedings:case", args=[case.reference])
    form = client.get(url).content.decode()
    assert 'name="fir_number"' in form
    assert "Gulberg" in form
    response = client.post(
        url,
        {
            "code": StageCode.FIR_REGISTERED,
            "occurred_at": "2026-03-20T17:30",
            "fir_number": " 117/26 ",
            "police_station": gulberg.pk,
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.fir_number == "117/26"
    assert case.police_station_id == gulberg.pk
    audit = AuditEvent.objects.get(action="case.update", object_id=str(case.pk))
    assert audit.details["after"]["fir_number"] == "117/26"


def test_an_fir_number_that_cannot_stand_is_refused_and_nothing_saved(
    make_case: CaseFactory, people: People
) -> None:
    from django.core.exceptions import ValidationError

    first = make_case(START, station="Model Town")
    first.fir_number = "117/26"
    first.save(update_fields=["fir_number"])
    second = make_case(START, station="Model Town")
    investigator = people.lahore_investigator
    with pytest.raises(ValidationError) as clash:
        actions.record_stage_event(
            investigator,
            second,
            code=StageCode.FIR_REGISTERED,
            occurred_at=START + timedelta(hours=1),
            fir_number="117/26",
            now=START + timedelta(hours=2),
        )
    assert first.reference in " ".join(clash.value.messages)
    with pytest.raises(ValidationError) as wrong_stage:
        actions.record_stage_event(
            investigator,
            second,
            code=StageCode.MEDICO_LEGAL_EXAMINED,
            occurred_at=START + timedelta(hours=1),
            fir_number="118/26",
            now=START + timedelta(hours=2),
        )
    assert "fir_number" in wrong_stage.value.message_dict
    assert not StageEvent.objects.filter(case=second).exclude(code="report_received").exists()
    second.refresh_from_db()
    assert second.fir_number == ""


def test_the_api_records_the_fir_with_its_number(make_case: CaseFactory, people: People) -> None:
    case = make_case(START, station="Model Town")
    response = signed_in(people.lahore_investigator).post(
        f"/api/v1/proceedings/cases/{case.reference}/stages",
        {
            "code": "fir_registered",
            "occurred_at": "2026-03-20T17:30:00+05:00",
            "fir_number": "5/26",
            "police_station": case.police_station_id,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    case.refresh_from_db()
    assert case.fir_number == "5/26"
