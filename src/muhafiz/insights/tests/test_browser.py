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


# Each chart's texts: inside the chart's box, none over another (a pixel's tolerance), and
# each breakdown's row names written whole in its chart (they were cut at 18 letters).
CHART_TEXTS = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const texts = [...svg.querySelectorAll('text')].map(t => t.getBoundingClientRect())
    .filter(r => r.width > 0);
  const outside = texts.filter(r => r.left < box.left - 1 || r.right > box.right + 1
    || r.top < box.top - 1 || r.bottom > box.bottom + 1).length;
  let overlaps = 0;
  for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
    const a = texts[i], b = texts[j];
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 1 && h > 1) overlaps++;
  }
  return [outside, overlaps];
})"""
LABELS_WHOLE = """() => [...document.querySelectorAll('section.figure-pair')].flatMap(section => {
  const chart = [...section.querySelectorAll('svg .chart__label, svg .chart__legend')]
    .map(t => [...t.querySelectorAll('tspan')].map(s => s.textContent).join(' ') || t.textContent);
  const rows = [...section.querySelectorAll('tbody th[scope=row]')].map(th => th.textContent);
  return section.dataset.testid.startsWith('breakdown-')
    ? rows.filter(r => !chart.includes(r)) : [];
})"""


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "ur"])
def test_chart_labels_are_whole_inside_and_apart(
    live_server: Any, browser: Any, flushable_audit: None, world_committed: Recorded, language: str
) -> None:
    """The browser walk of session 9: in Urdu every chart's labels overlapped, the trend's
    legend was cut at the left edge, and long category names were cut in both languages."""
    refresh_summaries(SYSTEM)
    page = new_page(browser, height=1400)
    page.goto(f"{live_server.url}/statistics/")
    if language == "ur":
        page.get_by_test_id("language-ur").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("dir") == "rtl"
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 1400})
        snap(page, f"insights-charts-{language}-{width}")
        charts = page.evaluate(CHART_TEXTS)
        assert len(charts) >= 4
        assert charts == [[0, 0]] * len(charts), width
        assert page.evaluate(LABELS_WHOLE) == [], width
    page.context.close()
