"""The public pages and the staff pages: Urdu first, no JavaScript, small, nothing in URLs;
page and API refuse and accept alike (a permission matrix with named people)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from muhafiz.intake.models import Report, ReportState
from muhafiz.intake.tests.conftest import CLIENT_ADDRESS, REPORTER_CONTACT
from muhafiz.testing import People, signed_in

VIA = ["page", "api"]


def _submit(client: Client, **extra: Any) -> Any:
    data = {
        "lang": "ur",
        "concern": "sexual_abuse",
        "account": "A teacher touches a pupil.",
        "district": "LHR",
        "age_band": "11-15",
        "reporter_contact": REPORTER_CONTACT,
        "website": "",
        **extra,
    }
    return client.post("/report/", data, REMOTE_ADDR=CLIENT_ADDRESS)


@pytest.mark.django_db
def test_the_public_page_is_urdu_first_small_without_script_or_upload(client: Client) -> None:
    response = client.get("/report/", REMOTE_ADDR=CLIENT_ADDRESS)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ur" dir="rtl">' in html
    assert "<script" not in html
    assert 'type="file"' not in html and "multipart" not in html
    assert len(response.content) < 100_000
    assert "بچوں" in html  # Urdu text, not English
    css = client.get("/static/intake/public.css")
    assert css.status_code in (200, 404)  # served by the static files app in development
    english = client.get("/report/?lang=en").content.decode()
    assert '<html lang="en" dir="ltr">' in english and "Do not send pictures" in english
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_a_report_through_the_page_gives_a_receipt_and_no_session(
    client: Client, people: People
) -> None:
    response = _submit(client)
    assert response.status_code == 200, response.content.decode()[:2000]
    html = response.content.decode()
    code = re.search(r'id="receipt-code">([A-Z0-9-]+)<', html)
    passphrase = re.search(r'id="receipt-passphrase">([a-z0-9-]+)<', html)
    assert code and passphrase
    report = Report.objects.get()
    assert report.receipt_code == code.group(1)
    assert "sessionid" not in response.cookies
    assert report.district is not None and report.district.code == "LHR"


@pytest.mark.django_db
def test_the_follow_up_page_shows_the_reply_and_takes_more_information(
    client: Client, people: People
) -> None:
    html = _submit(client).content.decode()
    code = re.search(r'id="receipt-code">([A-Z0-9-]+)<', html).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="receipt-passphrase">([a-z0-9-]+)<', html).group(1)  # type: ignore[union-attr]
    report = Report.objects.get()
    staff = signed_in(people.lahore_investigator)
    assert (
        staff.post(
            f"/intake/reports/{report.reference}/reply/",
            {"body": "Thank you; an officer will visit."},
        ).status_code
        == 302
    )
    page = client.post(
        "/report/follow-up/",
        {"receipt": code, "passphrase": secret, "lang": "ur"},
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    assert "Thank you; an officer will visit." in page.content.decode()
    more = client.post(
        "/report/follow-up/",
        {
            "receipt": code,
            "passphrase": secret,
            "lang": "ur",
            "information": "He drives a white car.",
        },
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    assert 'id="added"' in more.content.decode()
    staff_page = staff.get(f"/intake/reports/{report.reference}/").content.decode()
    assert "He drives a white car." in staff_page
    wrong = client.post(
        "/report/follow-up/",
        {"receipt": code, "passphrase": "nope", "lang": "ur"},
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    assert wrong.status_code == 403
    for _ in range(6):
        last = client.post(
            "/report/follow-up/",
            {"receipt": code, "passphrase": "nope", "lang": "ur"},
            REMOTE_ADDR=CLIENT_ADDRESS,
        )
    assert last.status_code == 429 and last["Retry-After"]


@pytest.mark.django_db
def test_the_helpline_officer_records_a_call_through_the_page(
    people: People, helpline_officer: Any
) -> None:
    client = signed_in(helpline_officer)
    assert client.get("/intake/helpline/").status_code == 200
    response = client.post(
        "/intake/helpline/",
        {
            "channel": "helpline_1121",
            "caller_type": "teacher",
            "district": "LHR",
            "age_band": "6-10",
            "concern": "sexual_abuse",
            "account": "Pupil disclosed abuse by a relative.",
            "risk": "high",
            "helpline_referral": "child_protection",
            "links": "",
            "caller_contact": "",
        },
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.channel, report.risk, report.recorded_by) == (
        "helpline_1121",
        "high",
        helpline_officer,
    )
    # The helpline officer records; the queue is not theirs.
    assert client.get("/intake/").status_code == 403
    assert client.get(f"/intake/reports/{report.reference}/").status_code == 403


def _report(client: Client) -> Report:
    _submit(client)
    return Report.objects.latest("pk")


def _screen(via: str, person: Any, report: Report) -> int:
    client = signed_in(person)
    if via == "page":
        response = client.post(f"/intake/reports/{report.reference}/screen/")
        return 200 if response.status_code == 302 else response.status_code
    return client.post(f"/api/v1/intake/reports/{report.reference}/screen").status_code


@pytest.mark.django_db
@pytest.mark.parametrize("via", VIA)
def test_lahore_staff_screen_a_lahore_report(via: str, client: Client, people: People) -> None:
    report = _report(client)
    assert _screen(via, people.lahore_investigator, report) == 200
    report.refresh_from_db()
    assert report.state == ReportState.SCREENING


@pytest.mark.django_db
@pytest.mark.parametrize("via", VIA)
def test_the_lahore_child_protection_officer_screens_a_lahore_report(
    via: str, client: Client, people: People
) -> None:
    assert _screen(via, people.child_protection_officer, _report(client)) == 200


@pytest.mark.django_db
@pytest.mark.parametrize("via", VIA)
def test_a_kasur_investigator_cannot_screen_a_lahore_report(
    via: str, client: Client, people: People
) -> None:
    assert _screen(via, people.kasur_investigator, _report(client)) == 403


@pytest.mark.django_db
@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize(
    "who", ["prosecutor", "analyst", "administrator", "forensic_examiner", "outsider"]
)
def test_people_outside_intake_cannot_screen(
    via: str, who: str, client: Client, people: People
) -> None:
    assert _screen(via, getattr(people, who), _report(client)) == 403


@pytest.mark.django_db
@pytest.mark.parametrize("via", VIA)
def test_open_a_case_from_a_report_page_and_api(via: str, client: Client, people: People) -> None:
    report = _report(client)
    staff = signed_in(people.lahore_investigator)
    if via == "page":
        response = staff.post(
            f"/intake/reports/{report.reference}/open-case/", {"agency": "PB-POLICE"}
        )
        assert response.status_code == 302 and response["Location"].startswith("/cases/LHR-")
    else:
        response = staff.post(
            f"/api/v1/intake/reports/{report.reference}/open-case",
            {"agency": "PB-POLICE"},
            content_type="application/json",
        )
        assert response.status_code == 201
    report.refresh_from_db()
    assert report.case is not None and report.state == ReportState.CASE_OPENED
    cpo = signed_in(people.child_protection_officer)
    other = _report(client)
    if via == "page":
        assert (
            cpo.post(
                f"/intake/reports/{other.reference}/open-case/", {"agency": "PB-POLICE"}
            ).status_code
            == 403
        )
    else:
        assert (
            cpo.post(
                f"/api/v1/intake/reports/{other.reference}/open-case",
                {"agency": "PB-POLICE"},
                content_type="application/json",
            ).status_code
            == 403
        )


@pytest.mark.django_db
def test_the_queue_lists_urgent_first_and_the_api_agrees(client: Client, people: People) -> None:
    _submit(client)
    _submit(client, child_in_danger="on")
    staff = signed_in(people.lahore_investigator)
    api = staff.get("/api/v1/intake/reports").json()
    assert [r["child_in_danger"] for r in api] == [True, False]
    page = staff.get("/intake/").content.decode()
    references = re.findall(r'data-reference="([^"]+)"', page)
    assert references == [r["reference"] for r in api]
    assert signed_in(people.kasur_investigator).get("/api/v1/intake/reports").json() == []
