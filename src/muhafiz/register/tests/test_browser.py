"""In headless Chromium: the register officer confirms a conviction entered from a judgment and
records the release; the Lahore police verify the registrant; the investigator (in Urdu, right
to left) asks to check a named accused of a new case; the District Public Prosecutor (in Urdu)
approves; the investigator sees the answer. Screenshots: DATA_DIR/screenshots/register-*.png."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.catalogue.models import Agency, AgencyKind
from muhafiz.proceedings.actions import record_stage_event
from muhafiz.register.models import CheckRequest, Registrant
from muhafiz.register.tests.conftest import add_accused, open_case, record_trial
from muhafiz.testing import People, make_people

pytestmark = needs_chromium


def _snap(page: Any, name: str) -> None:
    snap(page, f"register-{name}")


def _urdu(page: Any) -> None:
    page.locator('[data-testid="language-ur"]').click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"


@pytest.mark.django_db(transaction=True)
def test_release_verification_check_approval_and_answer(
    live_server: Any, browser: Any, flushable_audit: None, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    people: People = make_people()
    station = people.station_officer
    court = Agency.objects.get_or_create(
        code="TEST-SPECIAL-COURT-LHR",
        defaults={"name": "Special Court Lahore", "kind": AgencyKind.COURT},
    )[0]
    # The judgment recorded in proceedings (the hook runs at commit): a pending entry.
    old_case = open_case(people, "611/2025", ["PPC 377A"], days_ago=500)
    accused = add_accused(people, old_case)
    trial = record_trial(people, old_case)
    record_stage_event(
        people.lahore_investigator,
        old_case,
        code="judgment_delivered",
        occurred_at=trial + dt.timedelta(days=30),
        accused=accused,
        outcome="conviction",
        sentence="2 years rigorous imprisonment",
        court=court,
    )
    registrant = Registrant.objects.get()
    conviction = registrant.convictions.get()
    base = live_server.url

    # The register officer confirms the entry and records the release.
    office = page_as(browser, live_server, people.register_officer)
    office.goto(f"{base}/register/registrants/{registrant.code}/")
    office.locator(f"#confirm-submit-{conviction.pk}").click()
    office.wait_for_load_state()
    assert office.locator("#registrant-status").inner_text() == "Registered"
    released = timezone.localtime(conviction.convicted_at + dt.timedelta(days=60))
    form = office.locator("#release-form")
    form.get_by_label("Released from custody").fill(released.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Address on release").fill("House 1, Street 2, Sampletown")
    form.get_by_label("District of the address").select_option("LHR")
    office.locator("#release-submit").click()
    office.wait_for_load_state()
    assert office.locator("#registrant-released").inner_text() == released.strftime("%Y-%m-%d")
    assert office.locator('#obligation-list li[data-kind="initial"]').count() == 1
    _snap(office, "01-released")

    # The Lahore police verify the registrant in person.
    police = page_as(browser, live_server, station)
    police.goto(f"{base}/register/registrants/{registrant.code}/")
    form = police.locator("#verification-form")
    visited = released + dt.timedelta(days=1)
    form.get_by_label("Visited").fill(visited.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("Outcome").select_option("confirmed")
    police.locator("#visit_district").select_option("LHR")
    police.locator("#verification-submit").click()
    police.wait_for_load_state()
    assert police.locator('#obligation-list li[data-kind="initial"][data-state="met"]').count() == 1
    assert "verified by station.lahore" in police.locator("#address-list").inner_text()
    _snap(police, "02-verified")

    # A new case, a suspect with the same CNIC: the investigator asks, in Urdu.
    new_case = open_case(people, "612/2026", ["PPC 377A"], days_ago=2)
    add_accused(people, new_case)
    investigator = page_as(browser, live_server, people.lahore_investigator)
    investigator.goto(f"{base}/register/checks/new/")
    _urdu(investigator)
    investigator.locator("#id_case").fill(new_case.reference)
    investigator.locator("#id_accused").fill("A1")
    investigator.locator("#id_reason").fill("Suspect in FIR 612/2026")
    investigator.locator("#check-submit").click()
    investigator.wait_for_url(f"{base}/register/checks/*/")
    check = CheckRequest.objects.get()
    assert investigator.locator("#check-status").get_attribute("data-status") == "requested"
    assert investigator.locator("#result-submit").count() == 0  # nothing before approval
    _snap(investigator, "03-requested-ur")

    # The District Public Prosecutor approves, in Urdu.
    prosecutor = page_as(browser, live_server, people.prosecutor)
    prosecutor.goto(f"{base}/register/checks/{check.pk}/")
    _urdu(prosecutor)
    prosecutor.locator("#id_decision").select_option("approve")
    prosecutor.locator("#id_reason").fill("Relevant to the FIR")
    prosecutor.locator("#decision-submit").click()
    prosecutor.wait_for_load_state()
    assert prosecutor.locator("#check-status").get_attribute("data-status") == "approved"
    _snap(prosecutor, "04-approved-ur")

    # The investigator sees the limited answer.
    investigator.goto(f"{base}/register/checks/{check.pk}/")
    investigator.locator("#result-submit").click()
    investigator.locator("#result-found").wait_for()
    assert investigator.locator("#result-found").get_attribute("data-found") == "yes"
    assert investigator.locator("html").get_attribute("dir") == "rtl"
    assert old_case.reference in investigator.locator("#result-convictions").inner_text()
    assert "Sampletown" not in investigator.content()
    _snap(investigator, "05-answer-ur")
    for page in (office, police, investigator, prosecutor):
        assert page.csp_errors == []
        page.context.close()
