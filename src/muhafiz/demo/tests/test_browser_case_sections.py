"""The case's sections in a real browser (issue 15, item 3), English and Urdu, on the demo's
synthetic cases: the investigator goes from home to one of their cases and walks every section
(overview, parties, proceedings and clocks, evidence and scans, links and network, referrals,
history) through the section bar alone, opens an evidence item and comes back to the case's
evidence from it. Only the home page is opened by address. Screenshots:
DATA_DIR/screenshots/sections-*."""

from __future__ import annotations

from typing import Any

import pytest

from muhafiz.browser_testing import needs_chromium, snap
from muhafiz.demo.tests.test_browser_roles import LANGUAGES, demo, open_home, reference

pytestmark = needs_chromium
__all__ = ["demo"]  # the fixture, shared with the per-role tests

# (section, the address under the case, something only that section shows)
WALK = [
    ("parties", "parties/", "#victim-list"),
    ("proceedings", "proceedings/", "#proceedings-timeline"),
    ("evidence", "evidence/", "#item-table"),
    ("links", "links/", "#links"),
    ("referrals", "referrals/", "#referral-list"),
    ("history", "history/", "#status-history"),
    ("overview", "", "#case-content"),
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_investigator_walks_every_section_of_a_case_without_typing_an_address(
    live_server: Any, browser: Any, demo: None, language: str
) -> None:
    ref = reference("LHR demo 1")
    page = open_home(browser, live_server, "inv.lahore", language)
    page.locator(f'#home-my-cases li[data-key="case-{ref}"] a').click()
    page.wait_for_url(f"**/cases/{ref}/")
    assert page.locator('#case-nav a[aria-current="page"]').get_attribute("data-section") == (
        "overview"
    )
    height = page.evaluate("document.documentElement.scrollHeight")
    for key, tail, marker in WALK:
        page.locator(f"#case-{key}-link").click()
        page.wait_for_url(f"{live_server.url}/cases/{ref}/{tail}")
        assert page.locator(marker).count() == 1, key
        current = page.locator('#case-nav a[aria-current="page"]')
        assert current.get_attribute("data-section") == key
        if language == "ur":
            assert page.locator("html").get_attribute("dir") == "rtl"
            assert current.inner_text().isascii() is False  # the label is in Urdu
        snap(page, f"sections-{language}-{key}")
    # The overview is no longer the whole case on one long page.
    assert height < 2500, height

    # From the evidence section to an item, and from the item back to the case's evidence.
    page.locator("#case-evidence-link").click()
    page.wait_for_url(f"**/cases/{ref}/evidence/")
    page.locator("#item-table a").first.click()
    page.wait_for_url("**/evidence/items/*/")
    assert page.locator("#case-nav").is_visible()
    snap(page, f"sections-{language}-item")
    page.locator("#item-back-to-evidence").click()
    page.wait_for_url(f"**/cases/{ref}/evidence/")
    assert page.csp_errors == []
