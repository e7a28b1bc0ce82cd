"""The case pages speak Urdu, right to left, with the app's own translations."""

from __future__ import annotations

import datetime as dt

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


def test_catalogue_names_and_shipped_advice_are_in_urdu(people: People, lahore_case: Case) -> None:
    """Offence titles, the reasons behind suggested sections, deadline names and the police
    station come from the catalogue's Urdu names and the shipped rules' translations; the
    English stays on English pages (issue 15, item 13)."""
    from django.utils import timezone

    from muhafiz.catalogue.models import DeadlineRule, Offence
    from muhafiz.proceedings import actions as proceedings
    from muhafiz.proceedings.models import Clock, StageCode

    proceedings.record_stage_event(
        people.lahore_investigator,
        lahore_case,
        code=StageCode.FIR_REGISTERED,
        occurred_at=timezone.now() - dt.timedelta(days=1),
    )
    client = signed_in(people.lahore_investigator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get(f"/cases/{lahore_case.reference}/").content.decode()
    offence = Offence.objects.get(code="PPC 377A")
    assert offence.title_ur in html and offence.title not in html
    reason = "Filming or photographing a child in sexually explicit conduct is sexual abuse"
    assert reason not in html
    assert "بچے کی جنسی نوعیت کے عمل میں فلم یا تصویر بنانا جنسی استحصال ہے" in html
    station = lahore_case.police_station
    assert station is not None
    if station.name_ur:
        assert station.name_ur in html
    rules = DeadlineRule.objects.filter(
        pk__in=Clock.objects.filter(case=lahore_case).values("rule")
    )
    assert rules, "the case has running clocks"
    clocks = client.get(f"/cases/{lahore_case.reference}/proceedings/").content.decode()
    for rule in rules:
        assert rule.name_ur in clocks and rule.name not in clocks

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(f"/cases/{lahore_case.reference}/").content.decode()
    assert offence.title in english and reason in english
    english_clocks = client.get(f"/cases/{lahore_case.reference}/proceedings/").content.decode()
    assert all(rule.name in english_clocks for rule in rules)
