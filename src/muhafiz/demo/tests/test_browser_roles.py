"""Each role's daily task in a real browser, from its home page, with no typed URL, in English
and in Urdu, on the demo's synthetic cases (issue 15, must-show). Only the home page is opened
by address; everything else is reached by clicking. Screenshots: DATA_DIR/screenshots/daily-*.

- investigator: home → one of my cases → its evidence → back to the case
- prosecutor: home → a deadline → the case → record the hearing → see it in the court diary
- forensic examiner: home → an item held → its scan → the court report downloaded; the files
  table fits 1280 px and a phone
- child-protection officer: home → a referral → accept it
- auditor: home → the events of one case → one person's part in it → the CSV of that view
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from muhafiz.accounts.models import User
from muhafiz.audit.models import AuditEvent
from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.cases.models import Case, Referral
from muhafiz.demo.cases import MARKER
from muhafiz.proceedings.models import StageEvent

pytestmark = needs_chromium
LANGUAGES = ["en", "ur"]


@pytest.fixture
def demo(flushable_audit: None, settings: Any) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    call_command("seed_demo", stdout=StringIO())
    yield


def reference(key: str) -> str:
    return str(Case.objects.get(summary__startswith=f"{MARKER} ({key}).").reference)


def open_home(browser: Any, live_server: Any, username: str, language: str) -> Any:
    """The only typed address: the home page; Urdu is chosen with the page's own button."""
    page = page_as(browser, live_server, User.objects.get(username=username))
    page.goto(f"{live_server.url}/")
    if language == "ur":
        page.locator('[data-testid="language-ur"]').click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("#work-queue").is_visible()
    return page


def shot(page: Any, role: str, language: str, step: str) -> None:
    snap(page, f"daily-{role}-{language}-{step}")


@pytest.mark.parametrize("language", LANGUAGES)
def test_investigator_goes_from_home_to_a_case_its_evidence_and_back(
    live_server: Any, browser: Any, demo: None, language: str
) -> None:
    ref = reference("LHR demo 1")
    page = open_home(browser, live_server, "inv.lahore", language)
    shot(page, "investigator", language, "1-home")
    page.locator(f'#home-my-cases li[data-key="case-{ref}"] a').click()
    page.wait_for_url(f"**/cases/{ref}/")
    assert page.locator("#case-reference").inner_text() == ref
    assert page.locator("#case-nav").is_visible()
    shot(page, "investigator", language, "2-case")
    page.locator("#case-evidence-link").click()
    page.wait_for_url(f"**/cases/{ref}/evidence/")
    assert page.locator("#item-table").inner_text().count("E1") == 1
    shot(page, "investigator", language, "3-evidence")
    page.locator(f'a[href="/cases/{ref}/"]').first.click()
    page.wait_for_url(f"**/cases/{ref}/")
    assert page.locator("#case-reference").inner_text() == ref
    assert page.csp_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_prosecutor_goes_from_a_deadline_to_the_case_and_records_the_hearing(
    live_server: Any, browser: Any, demo: None, language: str
) -> None:
    ref = reference("LHR demo 1")
    page = open_home(browser, live_server, "pros.lahore", language)
    deadline = page.locator('#home-deadlines li[data-key^="clock-"]').filter(
        has=page.locator(f'a[href^="/cases/{ref}/"]')
    )
    assert deadline.count() >= 1
    shot(page, "prosecutor", language, "1-home")
    deadline.first.locator("a").first.click()
    # A deadline leads to the case's section "proceedings and clocks", where it is recorded.
    page.wait_for_url(f"**/cases/{ref}/proceedings/")
    assert page.locator("#proceedings-timeline").is_visible()
    assert page.locator("#case-nav").is_visible()
    shot(page, "prosecutor", language, "2-case")
    before = StageEvent.objects.filter(case__reference=ref, code="hearing").count()
    page.locator('select[name="code"]').select_option("hearing")
    when = timezone.localtime() - timedelta(hours=1)
    page.locator('input[name="occurred_at"]').fill(when.strftime("%Y-%m-%dT%H:%M"))
    # The court fixed the next hearing: it goes in the diary.
    following = (timezone.localtime() + timedelta(days=2)).replace(hour=10, minute=30)
    page.locator('input[name="next_hearing_at"]').fill(following.strftime("%Y-%m-%dT%H:%M"))
    page.locator('[data-testid="stage-form"] button[type="submit"]').click()
    page.wait_for_url(f"**/cases/{ref}/proceedings/")
    assert page.locator(".message--success").is_visible()
    assert StageEvent.objects.filter(case__reference=ref, code="hearing").count() == before + 1
    assert following.strftime("%Y-%m-%d %H:%M") in page.locator("#next-hearing").inner_text()
    shot(page, "prosecutor", language, "3-hearing-recorded")
    page.locator("#diary-link").click()
    page.wait_for_url("**/proceedings/diary/")
    row = page.locator(f'#diary-list tr[data-hearing="{ref}"]')
    assert row.count() == 1
    assert following.strftime("%Y-%m-%d %H:%M") in row.inner_text()
    shot(page, "prosecutor", language, "4-diary")
    assert page.csp_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_examiner_goes_from_an_item_held_to_its_scan_and_downloads_the_court_report(
    live_server: Any, browser: Any, demo: None, language: str
) -> None:
    ref = reference("LHR demo 1")
    page = open_home(browser, live_server, "forensic.punjab", language)
    shot(page, "examiner", language, "1-home")
    page.locator('#home-items-held li[data-key^="item-"] a').first.click()
    page.wait_for_url("**/evidence/items/*/")
    assert ref in page.locator("h1").inner_text()
    assert page.locator("#holder").inner_text().strip() != ""
    shot(page, "examiner", language, "2-item")
    page.locator("#item-scans a").first.click()
    page.wait_for_url("**/evidence/scans/*/")
    assert page.locator("#media-table .flag-mismatch").count() == 1  # budget.txt is a picture
    assert page.locator("#no-content").is_visible()  # an upload: hashes only, nothing to reveal
    assert page.locator("text=Reveal this preview").count() == 0
    shot(page, "examiner", language, "3-scan")
    with page.expect_download() as download:
        page.locator('#court-reports a[data-format="pdf"]').click()
    report = download.value
    assert report.suggested_filename.endswith(".pdf")
    assert Path(report.path()).read_bytes().startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="evidence.scan.report").count() == 1
    for width in (1280, 360):  # the files table fits: no sideways scroll on a desktop or a phone
        page.set_viewport_size({"width": width, "height": 800})
        fits = page.evaluate(
            """() => {
              const wrap = document.querySelector('#media-table').parentElement;
              return [document.documentElement.scrollWidth <= window.innerWidth,
                      wrap.scrollWidth <= wrap.clientWidth];
            }"""
        )
        wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                             || e.getBoundingClientRect().left < -1)
                .slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className + ' '
                                  + Math.round(e.getBoundingClientRect().width))"""
        )
        assert fits == [True, True], (width, fits, wide)
        shot(page, "examiner", language, f"4-files-{width}")
    assert page.csp_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_child_protection_officer_goes_from_home_to_a_referral_and_accepts_it(
    live_server: Any, browser: Any, demo: None, language: str
) -> None:
    referral = Referral.objects.get(officer__username="cpo.lahore")
    page = open_home(browser, live_server, "cpo.lahore", language)
    shot(page, "cpo", language, "1-home")
    page.locator(f'#home-referrals li[data-key="referral-{referral.pk}"] a').click()
    page.wait_for_url(f"**/cases/{referral.case.reference}/**")
    row = page.locator(f'#referral-list li[data-referral="{referral.pk}"]')
    assert row.is_visible()
    shot(page, "cpo", language, "2-referral")
    row.locator("form").first.locator("button").click()
    page.wait_for_load_state()
    referral.refresh_from_db()
    assert referral.status == "accepted"
    assert page.csp_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_auditor_goes_from_home_to_the_events_of_one_case(
    live_server: Any, browser: Any, demo: None, language: str
) -> None:
    ref = reference("LHR demo 2")
    page = open_home(browser, live_server, "auditor", language)
    shot(page, "auditor", language, "1-home")
    page.locator(f'#home-audit-cases li[data-key="audit-case-{ref}"] a').click()
    page.wait_for_url("**/audit/?case=*")
    table = page.locator("table").first.inner_text()
    assert ref in table
    # Each action by what happened, in the page's language; its code only marks the cell.
    assert {"en": "Stage recorded", "ur": "مرحلہ درج کیا گیا"}[language] in table
    assert "proceedings.stage.record" not in table
    stage_cell = page.locator('td[data-action="proceedings.stage.record"]')
    assert reference("KSR demo 1") not in table
    assert reference("LHR demo 1") not in table
    shot(page, "auditor", language, "2-case-events")
    # One person's part in the case: their name narrows the case's events to them.
    row = page.locator("tbody tr", has=stage_cell).first
    person = row.locator("a.actor").inner_text().strip()
    row.locator("a.actor").click()
    page.wait_for_url("**/audit/?*actor=*")
    assert f"case={ref}" in page.url
    names = [n.strip() for n in page.locator("tbody a.actor").all_inner_texts()]
    assert names and set(names) == {person}
    shot(page, "auditor", language, "3-case-events-of-one-person")
    # The same view as CSV, named in words; the download is audited with its filters.
    with page.expect_download() as download:
        page.locator('a[href^="/audit/export.csv"]').click()
    rows = list(csv.reader(StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == len(names) + 1
    assert {r[3] for r in rows[1:]} == {person}
    exported = AuditEvent.objects.filter(action="audit.export").latest("sequence")
    assert exported.details["case"] == ref and exported.details["actor"] == person
    assert page.csp_errors == []
