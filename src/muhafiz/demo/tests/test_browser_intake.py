"""The demo's intake walked in a real browser, in English and in Urdu (issue 13): the helpline
officer records a call from the nav; the Lahore child-protection officer finds the demo's web
report, helpline call and CyberTipline referral in the district queue, replies to the reporter
and opens the referral's cluster; the reporter reads the reply with the receipt printed by
`seed_demo`; the Lahore investigator's alerts name the referral that matched the case.
Screenshots: DATA_DIR/screenshots/intake-demo-*."""

from __future__ import annotations

import re
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from muhafiz.accounts.models import User
from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.cases.models import Alert, AlertKind
from muhafiz.demo.intake import DEMO_TIP_ID
from muhafiz.intake.models import Channel, Report

pytestmark = needs_chromium
LANGUAGES = ["en", "ur"]


@pytest.fixture
def demo(flushable_audit: None, settings: Any) -> Iterator[str]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    out = StringIO()
    call_command("seed_demo", stdout=out)
    yield out.getvalue()


def open_home(browser: Any, live_server: Any, username: str, language: str) -> Any:
    page = page_as(browser, live_server, User.objects.get(username=username))
    page.goto(f"{live_server.url}/")
    if language == "ur":
        page.locator('[data-testid="language-ur"]').click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("dir") == "rtl"
    return page


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_helpline_officer_records_a_call_from_the_nav(
    live_server: Any, browser: Any, demo: str, language: str
) -> None:
    page = open_home(browser, live_server, "helpline.1099", language)
    page.locator('.main-nav a[href="/intake/helpline/"]').click()
    page.wait_for_url("**/intake/helpline/")
    snap(page, f"intake-demo-helpline-{language}-1-form")
    form = page.locator("#helpline-form")
    form.locator('select[name="channel"]').select_option("helpline_1099")
    form.locator('select[name="caller_type"]').select_option("teacher")
    form.locator('select[name="district"]').select_option("KSR")
    form.locator('select[name="age_band"]').select_option("11-15")
    form.locator('select[name="concern"]').select_option("grooming")
    form.locator('textarea[name="account"]').fill("Synthetic walk: a teacher calls about chats.")
    form.locator('select[name="risk"]').select_option("medium")
    form.locator('select[name="helpline_referral"]').select_option("none")
    page.locator("#helpline-submit").click()
    page.wait_for_load_state()
    call = Report.objects.filter(channel=Channel.HELPLINE_1099).latest("received_at")
    assert call.account.startswith("Synthetic walk") and call.district is not None
    assert call.district.code == "KSR"
    snap(page, f"intake-demo-helpline-{language}-2-recorded")
    assert page.csp_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_cpo_works_the_lahore_queue_and_the_reporter_reads_the_reply(
    live_server: Any, browser: Any, demo: str, language: str
) -> None:
    web = Report.objects.get(channel=Channel.WEB)
    referral = Report.objects.get(cybertip__report_id_ncmec=DEMO_TIP_ID)
    page = open_home(browser, live_server, "cpo.lahore", language)
    page.locator('.main-nav a[href="/intake/"]').click()
    page.wait_for_url("**/intake/")
    queue = page.locator("#queue")
    for report in Report.objects.all():
        assert queue.locator(f'tr[data-reference="{report.reference}"]').count() == 1
    snap(page, f"intake-demo-cpo-{language}-1-queue")

    queue.locator(f'tr[data-reference="{web.reference}"] a').first.click()
    page.wait_for_url(f"**/intake/reports/{web.reference}/")
    assert "Synthetic demo" in page.locator("#report-account").inner_text()
    assert page.locator('#conversation p[data-from="staff"]').count() == 1
    page.locator('#reply-form textarea[name="body"]').fill("Synthetic walk: we visited the school.")
    page.locator("#reply-submit").click()
    page.wait_for_load_state()
    assert "we visited the school" in page.locator("#conversation").inner_text()
    snap(page, f"intake-demo-cpo-{language}-2-reply")

    page.goto(f"{live_server.url}/intake/")
    page.locator(f'#queue tr[data-reference="{referral.reference}"] a').first.click()
    page.wait_for_url(f"**/intake/reports/{referral.reference}/")
    assert DEMO_TIP_ID in page.locator("#report-account").inner_text()
    page.locator('a[href^="/intake/clusters/"]').first.click()
    page.wait_for_url("**/intake/clusters/*/")
    assert "203.0.113.10" in page.content()
    snap(page, f"intake-demo-cpo-{language}-3-cluster")
    assert page.csp_errors == []

    # The reporter comes back with the receipt the demo printed once, and reads both replies.
    found = re.search(r"receipt (\S+) and passphrase (\S+)", demo)
    assert found is not None
    visitor = browser.new_page()
    visitor.goto(f"{live_server.url}/report/follow-up/?lang={language}")
    visitor.locator('#follow-up-form input[name="receipt"]').fill(found.group(1))
    visitor.locator('#follow-up-form input[name="passphrase"]').fill(found.group(2))
    visitor.locator("#follow-up-submit").click()
    visitor.wait_for_load_state()
    assert "we visited the school" in visitor.locator("#conversation").inner_text()
    snap(visitor, f"intake-demo-reporter-{language}-reply")
    visitor.close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_investigator_is_told_the_referral_matched_the_case(
    live_server: Any, browser: Any, demo: str, language: str
) -> None:
    alert = Alert.objects.filter(
        kind=AlertKind.REPORT_MATCH, recipient__username="inv.lahore"
    ).first()
    assert alert is not None and DEMO_TIP_ID in alert.text()
    page = open_home(browser, live_server, "inv.lahore", language)
    page.goto(f"{live_server.url}/cases/alerts/")
    assert DEMO_TIP_ID in page.content()
    snap(page, f"intake-demo-investigator-{language}-alert")
    assert page.csp_errors == []
