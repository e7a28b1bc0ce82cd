"""Each role's home page is its work queue, on the demo's own synthetic cases: deadlines with
the time left, unread alerts with a count in the navigation, items held, referrals, team-join
requests and the audit log's cases, each leading to the page where the work is done."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from muhafiz.accounts.models import User
from muhafiz.cases.models import Alert, Case
from muhafiz.demo.cases import MARKER
from muhafiz.testing import signed_in


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only


@pytest.fixture
def demo(db: None) -> None:
    call_command("seed_demo", stdout=StringIO())


def home_of(username: str, language: str = "en") -> tuple[Client, str]:
    client = signed_in(User.objects.get(username=username))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client, client.get("/").content.decode()


def panel(html: str, key: str) -> str:
    found = re.search(rf'<section class="queue-panel" id="home-{key}".*?</section>', html, re.S)
    assert found, f"no panel {key}"
    return found.group(0)


def reference(key: str) -> str:
    case = Case.objects.get(summary__startswith=f"{MARKER} ({key}).")
    return str(case.reference)


def test_the_investigators_home_lists_missed_deadlines_first_and_their_cases(demo: None) -> None:
    _client, html = home_of("inv.lahore")
    deadlines = panel(html, "deadlines")
    # LHR demo 2's final challan is overdue: red, with how long ago.
    missed = re.search(r'<li class="queue-row queue-row--missed".*?</li>', deadlines, re.S)
    assert missed
    assert reference("LHR demo 2") in missed.group(0)
    assert re.search(r"missed \d+ days? ago", missed.group(0))
    cases = panel(html, "my-cases")
    for key in ("LHR demo 1", "LHR demo 2", "LHR demo 3"):
        assert f'href="/cases/{reference(key)}/"' in cases
    assert reference("KSR demo 1") not in html  # another district's case
    assert "DEMO-101" in cases  # its FIR number


def test_unread_alerts_are_counted_in_the_navigation_and_marked_read_from_home(
    demo: None,
) -> None:
    prosecutor = User.objects.get(username="pros.lahore")
    unread = Alert.objects.filter(recipient=prosecutor, read_at__isnull=True)
    count = unread.count()
    assert count > 0
    client, html = home_of("pros.lahore")
    assert f'data-nav-count="{count}"' in html
    alerts = panel(html, "alerts")
    assert f'data-count="{count}"' in alerts
    first = unread.order_by("-created_at").first()
    assert first is not None
    response = client.post(f"/cases/alerts/{first.pk}/read/", {"next": "/"})
    assert response["Location"] == "/"
    after = client.get("/").content.decode()
    assert f'data-nav-count="{count - 1}"' in after or count == 1
    assert f'data-key="alert-{first.pk}"' not in after
    # Not a way off the site.
    second = unread.first()
    if second is not None:
        away = client.post(f"/cases/alerts/{second.pk}/read/", {"next": "//evil.example/"})
        assert away["Location"] == "/cases/alerts/"


def test_the_examiner_sees_the_items_they_hold(demo: None) -> None:
    _client, html = home_of("forensic.punjab")
    items = panel(html, "items-held")
    assert f"{reference('LHR demo 1')} · E1" in items
    assert 'href="/evidence/items/' in items


def test_the_child_protection_officer_sees_the_referral_named_to_them(demo: None) -> None:
    _client, html = home_of("cpo.lahore")
    referrals = panel(html, "referrals")
    assert reference("LHR demo 1") in referrals
    assert "Counselling" in referrals
    assert "Demo Child" not in html  # the code, never the name


def test_the_supervisor_decides_team_join_requests_from_home(demo: None) -> None:
    from muhafiz.cases import actions

    case = Case.objects.get(reference=reference("LHR demo 2"))
    cpo = User.objects.get(username="cpo.lahore")
    actions.request_team_join(cpo, case, "child_protection_officer", "The child needs support")
    _client, html = home_of("sup.lahore")
    requests = panel(html, "join-requests")
    assert case.reference in requests
    assert "cpo.lahore asks to join: The child needs support" in requests
    # The person who asked does not see it as theirs to decide.
    _client, own = home_of("cpo.lahore")
    assert 'id="home-join-requests"' not in own


def test_the_auditor_goes_from_home_to_the_events_of_one_case(demo: None) -> None:
    client, html = home_of("auditor")
    audit_cases = panel(html, "audit-cases")
    ref = reference("LHR demo 1")
    assert f"/audit/?case={ref}" in audit_cases
    events = client.get(f"/audit/?case={ref}").content.decode()
    assert "case.create" in events
    assert "evidence.item" in events or "evidence" in events
    assert reference("KSR demo 1") not in events


def test_the_home_pages_speak_urdu(demo: None) -> None:
    _client, html = home_of("inv.lahore", "ur")
    assert 'dir="rtl"' in html
    assert "دن پہلے" in panel(html, "deadlines")  # "… days ago"
    assert "میرے جاری مقدمات" in html  # "My open cases"


def test_the_register_officers_home_says_what_is_coming(demo: None) -> None:
    from muhafiz.core.home import REGISTER_SLOT_UID, home_panels

    _client, html = home_of("npb.register")
    assert any(uid == REGISTER_SLOT_UID for uid, _receiver in home_panels.receivers)
    register = panel(html, "register")
    assert 'href="/register/"' in register
    assert "does not open any part of the platform yet" not in html
