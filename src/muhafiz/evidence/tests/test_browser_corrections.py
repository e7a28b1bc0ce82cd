"""In headless Chromium, English and Urdu: the forensic examiner holding a phone corrects the time
of the hand-over to them from the item's page, with a reason; the item's history keeps the old
time (in Pakistan time) and a correction that would put the hand-over before the seizure is
refused on the page. Screenshots: DATA_DIR/screenshots/evidence-correct-*.png."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.cases import actions as case_actions
from muhafiz.catalogue.models import Agency
from muhafiz.evidence import actions
from muhafiz.evidence.models import CustodyEvent
from muhafiz.testing import make_people

pytestmark = needs_chromium


@pytest.mark.parametrize("language", ["en", "ur"])
@pytest.mark.django_db(transaction=True)
def test_examiner_corrects_a_hand_over_and_the_history_keeps_the_old_time(
    live_server: Any, browser: Any, flushable_audit: None, settings: Any, language: str
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    people = make_people()
    me = people.lahore_investigator
    assert me.district is not None
    case = case_actions.create_case(
        me,
        district=me.district,
        agency=Agency.objects.get(code="PB-POLICE"),
        reported_at=timezone.now() - dt.timedelta(days=5),
    )
    case_actions.add_team_member(
        people.lahore_supervisor, case, people.forensic_examiner, "forensic_examiner"
    )
    now = timezone.now().replace(second=0, microsecond=0)
    item = actions.create_item(
        me,
        case,
        actions.ItemDetails(
            kind="phone",
            seized_at=now - dt.timedelta(days=3),
            seized_place="Model Town",
            seized_by=me,
        ),
    )
    handed = actions.record_handover(
        me,
        item,
        from_user=me,
        to_user=people.forensic_examiner,
        at=now - dt.timedelta(days=2),
        purpose="forensic_examination",
        seal_intact=True,
    )

    page = page_as(browser, live_server, people.forensic_examiner)
    page.goto(f"{live_server.url}/")
    if language == "ur":
        page.locator('[data-testid="language-ur"]').click()
        page.wait_for_load_state()
    page.goto(f"{live_server.url}/evidence/items/{item.pk}/")
    page.locator(f'a[data-correct-seq="{handed.seq}"]').click()
    page.wait_for_url(f"**/evidence/items/{item.pk}/custody/{handed.seq}/")
    # Before the seizure: refused on the page, nothing written.
    too_early = timezone.localtime(now - dt.timedelta(days=4))
    page.locator('#correct-form input[name="at"]').fill(too_early.strftime("%Y-%m-%dT%H:%M"))
    page.locator('#correct-form input[name="reason"]').fill("Lab register")
    page.locator("#correct-submit").click()
    page.wait_for_load_state()
    assert page.locator("#form-errors").is_visible()
    assert CustodyEvent.objects.get(pk=handed.pk).at == handed.at
    snap(page, f"evidence-correct-{language}-refused")
    # The right time is accepted and the history shows old and new in Pakistan time.
    right = timezone.localtime(now - dt.timedelta(days=2, hours=3))
    page.locator('#correct-form input[name="at"]').fill(right.strftime("%Y-%m-%dT%H:%M"))
    page.locator('#correct-form input[name="reason"]').fill("Lab register")
    page.locator("#correct-submit").click()
    page.wait_for_url(f"**/evidence/items/{item.pk}/")
    assert page.locator(".message--success").is_visible()
    history = page.locator("#item-history").inner_text()
    assert "Lab register" in history
    assert timezone.localtime(handed.at).strftime("%Y-%m-%d %H:%M") in history
    assert right.strftime("%Y-%m-%d %H:%M") in history
    if language == "ur":
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert "Corrections" not in page.locator("#item-history-title").inner_text()
    snap(page, f"evidence-correct-{language}-history")
    assert page.csp_errors == []
