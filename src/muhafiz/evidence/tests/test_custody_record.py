"""The printable chain-of-custody record (issue 15): every hand-over with its time in Pakistan
and in UTC and room to sign; printing leaves the navigation and forms out, on it and on the case
summary, in English and in Urdu."""

from __future__ import annotations

import datetime as dt
import shutil
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.browser_testing import CHROMIUM, page_as, snap
from muhafiz.cases.models import Case
from muhafiz.evidence import actions
from muhafiz.evidence.models import EvidenceItem
from muhafiz.testing import People, signed_in

CHROMIUM_FOUND = shutil.which(CHROMIUM) is not None


def _handed_over(people: People, case: Case) -> EvidenceItem:
    seized = timezone.now() - dt.timedelta(days=3)
    item = actions.create_item(
        people.lahore_investigator,
        case,
        actions.ItemDetails(
            kind="phone",
            seized_at=seized,
            seized_place="House 12, Model Town",
            seized_by=people.lahore_investigator,
            seal_number="SEAL-LHR-0042",
        ),
    )
    actions.record_handover(
        people.lahore_investigator,
        item,
        from_user=people.lahore_investigator,
        to_user=people.forensic_examiner,
        at=seized.replace(hour=21, minute=30) + dt.timedelta(days=1),
        purpose="Forensic examination",
        seal_intact=True,
    )
    return item


@pytest.mark.django_db
def test_the_record_lists_each_hand_over_in_pakistan_time_and_utc(
    people: People, lahore_case: Case
) -> None:
    item = _handed_over(people, lahore_case)
    page = signed_in(people.lahore_investigator).get(f"/evidence/items/{item.pk}/")
    assert f'href="/evidence/items/{item.pk}/custody-record/"' in page.content.decode()
    record = signed_in(people.lahore_investigator).get(f"/evidence/items/{item.pk}/custody-record/")
    html = record.content.decode()
    event = item.custody.get(seq=2)
    local = timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M")
    utc = event.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M")
    assert local != utc and local in html and utc in html
    assert "SEAL-LHR-0042" in html and "Forensic examination" in html
    assert 'class="signature-block"' in html
    assert signed_in(people.kasur_investigator).get(
        f"/evidence/items/{item.pk}/custody-record/"
    ).status_code in {403, 404}


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM_FOUND, reason="Debian's chromium is not installed")
@pytest.mark.parametrize("language", ["en", "ur"])
@pytest.mark.django_db(transaction=True)
def test_printing_leaves_out_navigation_and_forms(  # noqa: PLR0917 - fixtures
    live_server: Any, browser: Any, flushable_audit: None, people: People, lahore_case: Case,
    language: str,
) -> None:  # fmt: skip
    item = _handed_over(people, lahore_case)
    page = page_as(browser, live_server, people.lahore_investigator)
    page.goto(f"{live_server.url}/")
    if language == "ur":
        page.locator('[data-testid="language-ur"]').click()
        page.wait_for_load_state()
    page.goto(f"{live_server.url}/evidence/items/{item.pk}/")
    page.locator("#custody-record-link").click()
    page.wait_for_url("**/custody-record/")
    page.emulate_media(media="print")
    assert not page.locator(".main-nav").is_visible()
    assert not page.locator(".site-footer").is_visible()
    assert page.locator("#custody-record").is_visible()
    assert page.locator(".signature-block").is_visible()
    snap(page, f"custody-record-print-{language}")
    page.emulate_media(media="screen")
    page.goto(f"{live_server.url}/cases/{lahore_case.reference}/")
    page.emulate_media(media="print")
    assert not page.locator(".main-nav").is_visible()
    assert page.locator("form").first.is_visible() is False
    assert page.locator("h1").is_visible()
    snap(page, f"case-summary-print-{language}")
    assert page.csp_errors == []
