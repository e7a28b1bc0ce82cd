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
