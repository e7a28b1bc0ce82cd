"""No dropdown of an intake form starts on a real answer: a call recorded with only the account
typed must be refused, never saved as "the child, age 0–5, sexual abuse, low risk" because nobody
changed the defaults (those facts feed triage and public statistics)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from muhafiz.intake.models import Report
from muhafiz.intake.tests.conftest import CLIENT_ADDRESS
from muhafiz.testing import People, signed_in

CHOOSE = {"en": "— choose —", "ur": "— منتخب کریں —"}
REQUIRED = {"en": "This field is required.", "ur": "یہ خانہ ضروری ہے۔"}
HELPLINE_SELECTS = ("channel", "caller_type", "age_band", "concern", "risk", "helpline_referral")


def _in(client: Client, lang: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return client


def _selected(html: str, name: str) -> list[str]:
    """The values of the options that start selected in the select called `name`."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, name
    return re.findall(r'<option value="([^"]*)"[^>]*selected', select.group(1))


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "ur"])
def test_every_helpline_dropdown_starts_blank_and_must_be_chosen(
    people: People, helpline_officer: Any, lang: str
) -> None:
    client = _in(signed_in(helpline_officer), lang)
    html = client.get("/intake/helpline/").content.decode()
    for name in HELPLINE_SELECTS:
        assert _selected(html, name) == [""], name
    assert CHOOSE[lang] in html
    # Not known is an answer to choose, not a default: age has "unknown", the caller "did not say".
    assert 'value="unknown"' in html and 'value="anonymous"' in html

    response = client.post("/intake/helpline/", {"account": "A caller spoke of a child at risk."})
    assert response.status_code == 200
    assert not Report.objects.exists()
    page = response.content.decode()
    assert page.count(REQUIRED[lang]) == len(HELPLINE_SELECTS)
    # The account typed is kept for the second try.
    assert "A caller spoke of a child at risk." in page


@pytest.mark.django_db
def test_an_unknown_age_chosen_on_purpose_is_recorded_as_unknown(
    people: People, helpline_officer: Any
) -> None:
    response = signed_in(helpline_officer).post(
        "/intake/helpline/",
        {
            "channel": "helpline_1099",
            "caller_type": "anonymous",
            "age_band": "unknown",
            "concern": "other",
            "account": "The caller would not say the child's age.",
            "risk": "medium",
            "helpline_referral": "none",
        },
    )
    assert response.status_code == 302
    report = Report.objects.get()
    assert (report.age_band, report.risk, report.caller_type) == ("unknown", "medium", "anonymous")


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "ur"])
def test_referring_or_closing_a_report_needs_a_chosen_answer(
    people: People, client: Client, lang: str
) -> None:
    client.post(
        "/report/",
        {
            "lang": "ur",
            "concern": "sexual_abuse",
            "account": "A teacher touches a pupil.",
            "district": "LHR",
            "age_band": "11-15",
            "website": "",
        },
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    report = Report.objects.get()
    staff = _in(signed_in(people.lahore_investigator), lang)
    html = staff.get(f"/intake/reports/{report.reference}/").content.decode()
    assert _selected(html, "referred_to") == [""]
    assert _selected(html, "reason") == [""]
    for action in ("refer", "close"):
        response = staff.post(f"/intake/reports/{report.reference}/{action}/", {"note": ""})
        assert response.status_code == 302
        page = staff.get(response["Location"]).content.decode()
        assert REQUIRED[lang] in page, action
        report.refresh_from_db()
        assert (report.state, report.referred_to, report.close_reason) == ("new", "", ""), action


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "ur"])
def test_the_public_form_starts_on_unknown_age_and_no_concern(client: Client, lang: str) -> None:
    html = client.get(f"/report/?lang={lang}", REMOTE_ADDR=CLIENT_ADDRESS).content.decode()
    assert _selected(html, "age_band") == ["unknown"]
    assert 'name="concern"' in html and not re.search(r'name="concern"[^>]*checked', html)


@pytest.mark.django_db
def test_the_helpline_work_item_is_named_in_urdu(people: People, helpline_officer: Any) -> None:
    html = _in(signed_in(helpline_officer), "ur").get("/").content.decode()
    assert "Helpline call" not in html
    assert "ہیلپ لائن کال" in html
