"""In headless Chromium, English and Urdu: an investigator finds a case by part of its FIR
number, by the accused's phone number, and pages through a list longer than one page.
Screenshots: DATA_DIR/screenshots/cases-search-*.png."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.cases import actions
from muhafiz.catalogue.models import Agency, PoliceStation
from muhafiz.testing import make_people

pytestmark = needs_chromium


@pytest.mark.parametrize("language", ["en", "ur"])
@pytest.mark.django_db(transaction=True)
def test_investigator_finds_a_case_by_part_of_its_fir_and_pages_the_list(
    live_server: Any, browser: Any, flushable_audit: None, settings: Any, language: str
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    people = make_people()
    me = people.lahore_investigator
    station = PoliceStation.objects.get_or_create(district=me.district, name="Model Town")[0]
    assert me.district is not None
    police = Agency.objects.get(code="PB-POLICE")
    base = timezone.now() - timedelta(days=5)
    cases = [
        actions.create_case(
            me,
            district=me.district,
            agency=police,
            police_station=station,
            fir_number=f"{700 + n}/2026",
            reported_at=base + timedelta(minutes=n),
        )
        for n in range(55)
    ]
    wanted = cases[17]  # FIR 717/2026
    actions.add_accused(me, wanted, actions.AccusedDetails(phones="0321 5550717"))

    page = page_as(browser, live_server, me)
    page.goto(f"{live_server.url}/")
    if language == "ur":
        page.locator('[data-testid="language-ur"]').click()
        page.wait_for_load_state()
    page.locator('nav a[href="/cases/"]').first.click()
    page.wait_for_url("**/cases/")
    assert page.locator("#case-table tbody tr").count() == 50
    page.locator('.pager a[rel="next"]').click()
    page.wait_for_url("**/cases/?page=2")
    assert page.locator("#case-table tbody tr").count() == 5

    page.locator("#case-search").fill("717/")
    page.locator("#case-search-submit").click()
    page.wait_for_url("**/cases/?q=717*")
    rows = page.locator("#case-table tbody tr")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-reference") == wanted.reference
    snap(page, f"cases-search-{language}-1-fir")

    page.locator("#case-search").fill("")
    page.get_by_label(
        "Accused CNIC, phone or handle" if language == "en" else "ملزم کا شناختی کارڈ، فون یا ہینڈل"
    ).fill("+92 321 5550717")
    page.locator("#case-search-submit").click()
    page.wait_for_url("**found=*")
    # The accused's phone is posted, never put in the address (access logs, history).
    assert "5550717" not in page.url and "identifier" not in page.url
    assert page.locator("#case-table tbody tr").count() == 1
    assert page.locator(f'tr[data-reference="{wanted.reference}"]').count() == 1
    snap(page, f"cases-search-{language}-2-phone")
    assert page.csp_errors == []
