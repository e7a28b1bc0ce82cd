"""In a real browser, without signing in: the public dashboard in English, then in Urdu.

A visitor opens the statistics, walks from Pakistan to Punjab to Lahore, switches to Urdu (the
page turns right to left), downloads nothing but finds the open data and the dictionary, and
the charts carry their own title and description. No script runs on the page and the Content
Security Policy complains of nothing. Screenshots: DATA_DIR/screenshots/insights-*.png.
"""

from __future__ import annotations

from typing import Any

import pytest

from muhafiz.browser_testing import needs_chromium, new_page, snap
from muhafiz.core.permissions import SYSTEM
from muhafiz.insights.actions import refresh_summaries
from muhafiz.insights.tests.conftest import Recorded

pytestmark = needs_chromium


@pytest.fixture
def world_committed(world: Recorded) -> Recorded:
    return world


@pytest.mark.django_db(transaction=True)
def test_a_visitor_reads_the_dashboard_in_english_and_urdu(
    live_server: Any, browser: Any, flushable_audit: None, world_committed: Recorded
) -> None:
    refresh_summaries(SYSTEM)
    page = new_page(browser, height=1400)
    page.goto(f"{live_server.url}/statistics/")
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.locator("#area-name").get_attribute("data-area") == "PK"
    outcomes = page.locator('[data-table="outcomes"]')
    assert outcomes.locator('tr[data-area="PB"]').count() == 1
    charts = page.locator("svg.chart")
    assert charts.count() >= 4
    assert charts.first.get_attribute("role") == "img"
    assert charts.first.locator("title").text_content()
    snap(page, "insights-national-en")

    outcomes.get_by_role("link", name="Punjab").click()
    page.wait_for_load_state()
    assert page.locator("#area-name").get_attribute("data-area") == "PB"
    page.locator('[data-table="outcomes"]').get_by_role("link", name="Lahore").click()
    page.wait_for_load_state()
    assert page.locator("#area-name").get_attribute("data-area") == "LHR"
    figures = page.locator('[data-table="outcomes"] td.n').all_inner_texts()
    assert figures
    assert not [f for f in figures if f in {"1", "2", "3", "4"}]
    snap(page, "insights-lahore-en")

    page.get_by_test_id("language-ur").click()  # a link on the public page, not a form
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("#area-name").get_attribute("data-area") == "LHR"
    assert "لاہور" in page.locator("#area-name").inner_text()
    assert "موصول شدہ رپورٹیں" in page.locator('[data-table="outcomes"]').inner_text()
    assert "نگرانوں کی نگرانی" in page.content()
    snap(page, "insights-lahore-ur")
    # The area is chosen from a list of names in the page's language, not typed as a code.
    assert "لاہور" in page.locator('#area option[value="LHR"]').inner_text()
    page.locator("#area").select_option("KSR")
    page.locator("#area-form button").click()
    page.wait_for_load_state()
    assert page.locator("#area-name").get_attribute("data-area") == "KSR"
    assert page.locator("html").get_attribute("dir") == "rtl"

    page.get_by_test_id("dictionary").click()
    page.wait_for_load_state()
    assert "<5" in page.locator("#columns").inner_text()
    assert page.evaluate("document.scripts.length") <= 1  # the shell's htmx, nothing else
    assert page.csp_errors == []
    page.context.close()
