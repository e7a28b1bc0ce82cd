"""The public dashboard and the staff statistics speak Urdu, right to left."""

from __future__ import annotations

from django.conf import settings
from django.test import Client

from muhafiz.core.permissions import SYSTEM
from muhafiz.insights.actions import refresh_summaries
from muhafiz.insights.tests.conftest import Recorded
from muhafiz.testing import People, signed_in


def test_the_public_dashboard_reads_right_to_left_in_urdu(world: Recorded, client: Client) -> None:
    refresh_summaries(SYSTEM)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get("/statistics/?area=PB").content.decode()
    assert 'dir="rtl"' in html
    for urdu in ("موصول شدہ رپورٹیں", "درج شدہ ایف آئی آر", "نگرانوں کی نگرانی", "پنجاب", "لاہور"):
        assert urdu in html
    dictionary = client.get("/statistics/data.json").content.decode()
    assert "رضامندی" in dictionary


def test_staff_statistics_in_urdu(world: Recorded, people: People) -> None:
    refresh_summaries(SYSTEM)
    client = signed_in(people.analyst)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get("/statistics/staff/").content.decode()
    assert 'dir="rtl"' in html
    assert "ہر ضلع" in html


def test_the_urdu_dashboard_isolates_age_ranges_and_the_small_count_mark(
    world: Recorded, client: Client
) -> None:
    """In a right-to-left line "11–15" shows as "15–11" and "<5" as "5>" ("more than 5")
    unless each is isolated left to right (LRI ... PDI), in the tables, the charts and the
    note that explains the mark (the browser walk of session 9)."""
    refresh_summaries(SYSTEM)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get("/statistics/").content.decode()
    assert 'data-table="breakdown-age_band"' in html
    for band in ("0–5", "6–10", "11–15", "16–18"):
        assert f'<th scope="row">\u2066{band}\u2069</th>' in html, band
        assert f">{band}<" not in html, band  # nowhere bare, the charts included
    assert "1 سے 4 کی تعداد \u2066<5\u2069 دکھائی" in html
