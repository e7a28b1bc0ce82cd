"""The case pages speak Urdu, right to left, with the app's own translations."""

from __future__ import annotations

from django.conf import settings

from muhafiz.cases.models import Case
from muhafiz.testing import People, signed_in


def test_case_page_in_urdu_reads_right_to_left(people: People, lahore_case: Case) -> None:
    client = signed_in(people.lahore_investigator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get(f"/cases/{lahore_case.reference}/").content.decode()
    assert 'dir="rtl"' in html
    for urdu in ("درج شدہ حقائق", "متاثرہ کی عمر 18 سال سے کم", "حقائق کے مطابق تجویز کردہ دفعات"):
        assert urdu in html
    listing = client.get("/cases/").content.decode()
    assert "مقدمات" in listing


def test_errors_are_translated_too(people: People, lahore_case: Case) -> None:
    client = signed_in(people.lahore_investigator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    response = client.post(
        "/cases/new/",
        {
            "district": "LHR",
            "agency": "PB-POLICE",
            "police_station": lahore_case.police_station_id,
            "fir_number": lahore_case.fir_number,
            "reported_at": "2026-11-01T10:00",
        },
    )
    assert "پہلے ہی Model Town میں درج ہے" in response.content.decode()
