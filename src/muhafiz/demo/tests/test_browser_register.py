"""The demo register in a real browser, in English and Urdu, from the home page with no typed
URL: the register officer finds the absconder and the rules (and opens a rule's change form);
the Lahore station officer finds the verification due and records the visit. Screenshots:
DATA_DIR/screenshots/register-demo-*."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from muhafiz.accounts.models import User
from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.register.models import Registrant

pytestmark = needs_chromium
LANGUAGES = ["en", "ur"]


@pytest.fixture
def demo(flushable_audit: None, settings: Any) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    call_command("seed_demo", stdout=StringIO())
    yield


def open_register(browser: Any, live_server: Any, username: str, language: str) -> Any:
    page = page_as(browser, live_server, User.objects.get(username=username))
    page.goto(f"{live_server.url}/")
    if language == "ur":
        page.locator('[data-testid="language-ur"]').click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("dir") == "rtl"
    page.locator('a[href="/register/"]').first.click()
    page.wait_for_url("**/register/")
    return page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_register_officer_finds_the_absconder_and_the_rules(
    live_server: Any, browser: Any, demo: None, language: str
) -> None:
    absconder = Registrant.objects.get(compliance="absconder")
    page = open_register(browser, live_server, "npb.register", language)
    snap(page, f"register-demo-officer-{language}-1-register")
    due = page.locator("#due-list").inner_text()
    assert absconder.code in due
    page.locator(f'#due-list li[data-kind="absconder"] a:has-text("{absconder.code}")').click()
    page.wait_for_url(f"**/register/registrants/{absconder.code}/")
    compliance = page.locator("#registrant-compliance").inner_text()
    assert compliance == ("Absconder" if language == "en" else "مفرور")
    assert "(synthetic)" in page.locator("#registrant-name").inner_text()
    snap(page, f"register-demo-officer-{language}-2-absconder")
    page.go_back()
    page.locator('a[href="/register/rules/"]').click()
    page.wait_for_url("**/register/rules/")
    page.locator("#edit-rule-uk-10-years").click()
    page.wait_for_url("**/register/rules/periods/uk-10-years/")
    assert page.locator("#rule-form").is_visible()
    snap(page, f"register-demo-officer-{language}-3-rule")
    assert page.csp_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_station_officer_records_the_verification_due(
    live_server: Any, browser: Any, demo: None, language: str
) -> None:
    due = Registrant.objects.get(compliance="compliant")
    page = open_register(browser, live_server, "station.lahore", language)
    snap(page, f"register-demo-station-{language}-1-register")
    page.locator(f'#due-list li[data-kind="verification_due"] a:has-text("{due.code}")').click()
    page.wait_for_url(f"**/register/registrants/{due.code}/")
    visited = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    page.locator("#visit_visited_at").fill(visited)
    page.locator("#visit_outcome").select_option("confirmed")
    page.locator("#visit_district").select_option("LHR")
    page.locator("#verification-submit").click()
    page.wait_for_url(f"**/register/registrants/{due.code}/")
    assert page.locator("#verification-list li").count() == 2
    snap(page, f"register-demo-station-{language}-2-visited")
    assert page.csp_errors == []
