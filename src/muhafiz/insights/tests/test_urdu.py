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
