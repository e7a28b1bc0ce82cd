"""In headless Chromium: a child-protection officer, who sees a case's welfare part only, asks to
join its team from the case page (issue 8: before, only the API could ask), in English and in
Urdu; a supervisor of the district approves, and the officer then reads the victims' part as a
member. Screenshots go to DATA_DIR/screenshots/cases-welfare-*.png."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.cases import actions
from muhafiz.cases.models import Case, TeamJoinRequest, TeamJoinStatus
from muhafiz.catalogue.models import Agency, District, PoliceStation
from muhafiz.testing import People, make_people

pytestmark = needs_chromium


def _case(people: People, fir: str) -> Case:
    lahore = District.objects.get(code="LHR")
    return actions.create_case(
        people.lahore_investigator,
        district=lahore,
        agency=Agency.objects.get(code="PB-POLICE"),
        police_station=PoliceStation.objects.get_or_create(district=lahore, name="Model Town")[0],
        fir_number=fir,
        reported_at=timezone.now() - dt.timedelta(days=1),
        facts={"victim_under_18"},
    )


@pytest.mark.django_db(transaction=True)
def test_a_child_protection_officer_asks_to_join_from_the_case_page_in_english_and_urdu(
    live_server: Any, browser: Any, flushable_audit: None, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    people: People = make_people()
    officer = people.child_protection_officer
    first, second = _case(people, "501/2026"), _case(people, "502/2026")

    page = page_as(browser, live_server, officer)
    page.goto(f"{live_server.url}/cases/{first.reference}/")
    assert page.locator("#case-content").count() == 0  # the welfare part only
    form = page.locator("#welfare-join-form")
    form.get_by_label("Why you need to be on the team").fill("Follow-up of the child's shelter")
    snap(page, "cases-welfare-01-ask")
    page.locator("#welfare-join-submit").click()
    page.wait_for_load_state()
    assert "waiting for a supervisor's decision" in page.locator("#welfare-join-state").inner_text()
    join = TeamJoinRequest.objects.get(case=first, user=officer)
    assert join.team_role == "child_protection_officer"
    assert join.status == TeamJoinStatus.REQUESTED

    supervisor = page_as(browser, live_server, people.lahore_supervisor)
    supervisor.goto(f"{live_server.url}/cases/{first.reference}/")
    supervisor.locator(f'#join-requests button[data-approve="{join.pk}"]').click()
    supervisor.wait_for_load_state()
    assert supervisor.locator(f'#team-list li[data-username="{officer.username}"]').count() == 1
    supervisor.context.close()
    page.reload()
    assert page.locator("#welfare-join-state").inner_text() == "You are on the case team."
    assert page.csp_errors == []

    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "ur", "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/cases/{second.reference}/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("#welfare-team-title").inner_text() == "مقدمے کی ٹیم"
    page.locator("#welfare-join-form").get_by_label("آپ کو ٹیم میں کیوں شامل ہونا ہے").fill(
        "بچے کی پناہ گاہ کی نگرانی"
    )
    page.locator("#welfare-join-submit").click()
    page.wait_for_load_state()
    assert page.locator("#welfare-join-state").inner_text() == (
        "ٹیم میں شمولیت کی آپ کی درخواست نگران کے فیصلے کی منتظر ہے۔"
    )
    snap(page, "cases-welfare-02-urdu-waiting")
    assert TeamJoinRequest.objects.filter(case=second, user=officer).count() == 1
    assert page.csp_errors == []
    page.context.close()
