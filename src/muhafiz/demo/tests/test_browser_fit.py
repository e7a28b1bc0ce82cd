"""The cases list fits the screen (issue 15, item 14): on a 1280 px desktop and a 360 px phone,
English and Urdu, the page never scrolls sideways and the list's own box does not either."""

from __future__ import annotations

from typing import Any

import pytest

from muhafiz.browser_testing import needs_chromium, snap
from muhafiz.demo.tests.test_browser_roles import LANGUAGES, demo, open_home  # noqa: F401

pytestmark = needs_chromium

FITS = """() => {
  const wide = [...document.querySelectorAll('.table-wrap')]
    .filter(w => w.scrollWidth > w.clientWidth + 1).length;
  return [document.documentElement.scrollWidth <= window.innerWidth, wide];
}"""


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_cases_list_fits_a_desktop_and_a_phone(
    live_server: Any,
    browser: Any,
    demo: None,  # noqa: F811 - the fixture
    language: str,
) -> None:
    page = open_home(browser, live_server, "inv.lahore", language)
    page.locator('.main-nav a[href="/cases/"]').click()
    page.wait_for_url("**/cases/")
    for width in (1280, 360):
        page.set_viewport_size({"width": width, "height": 800})
        assert page.evaluate(FITS) == [True, 0], width
        snap(page, f"cases-list-{language}-{width}")
    assert page.csp_errors == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_rules_and_the_report_queue_fit_a_phone(
    live_server: Any,
    browser: Any,
    demo: None,  # noqa: F811 - the fixture
    language: str,
) -> None:
    """The browser walk of session 9 (item 5): at 390 px /register/rules/ scrolled 415 px
    sideways in Urdu and 611 px in English, /intake/ 92 and 280 px (its table had no scroll
    box of its own), and a report's deadline broke as "-2026 / 12-09 / 03:00"."""
    for username, path in (("npb.register", "/register/rules/"), ("cpo.lahore", "/intake/")):
        page = open_home(browser, live_server, username, language)
        page.set_viewport_size({"width": 390, "height": 800})
        page.goto(f"{live_server.url}{path}")
        assert page.evaluate(FITS)[0] is True, path
        snap(page, f"fit-{path.strip('/').replace('/', '-')}-{language}-390")
        page.context.close()
    page = open_home(browser, live_server, "cpo.lahore", language)
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(f"{live_server.url}/intake/")
    due = page.locator("#queue .when").first
    assert due.evaluate("e => getComputedStyle(e).whiteSpace") == "nowrap"
    assert due.evaluate("e => e.getClientRects().length") == 1  # one line, not three
    page.context.close()
