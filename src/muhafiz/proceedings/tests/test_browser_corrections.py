"""In headless Chromium, English and Urdu: an investigator corrects the date of an FIR from the
case's proceedings page with a reason; the history keeps the old date and the challan clock
follows the corrected date. Screenshots: DATA_DIR/screenshots/proceedings-correct-*.png."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.cases import actions as case_actions
from muhafiz.catalogue.models import Agency
from muhafiz.proceedings import actions
from muhafiz.proceedings.models import Clock, StageCode
from muhafiz.testing import make_people

pytestmark = needs_chromium


@pytest.mark.parametrize("language", ["en", "ur"])
@pytest.mark.django_db(transaction=True)
def test_investigator_corrects_an_fir_date_and_the_clock_follows(
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
        reported_at=timezone.now() - timedelta(days=30),
    )
    fir = actions.record_stage_event(
        me, case, code=StageCode.FIR_REGISTERED, occurred_at=timezone.now() - timedelta(days=3)
    )
    before = Clock.objects.get(case=case, rule__code="challan_submitted").due_at

    page = page_as(browser, live_server, me)
    page.goto(f"{live_server.url}/")
    if language == "ur":
        page.locator('[data-testid="language-ur"]').click()
        page.wait_for_load_state()
    page.goto(f"{live_server.url}/cases/{case.reference}/proceedings/")
    page.locator(f'a[data-correct="{fir.pk}"]').click()
    page.wait_for_url(f"**/events/{fir.pk}/")
    corrected = timezone.localtime() - timedelta(days=20)
    page.locator('#correct-form input[name="occurred_at"]').fill(
        corrected.strftime("%Y-%m-%dT%H:%M")
    )
    page.locator('#correct-form input[name="reason"]').fill("FIR register checked")
    page.locator("#correct-submit").click()
    page.wait_for_url(f"**/events/{fir.pk}/")
    assert page.locator(".message--success").is_visible()
    history = page.locator("#event-history").inner_text()
    assert "FIR register checked" in history
    # The old and new dates in Pakistan time, as on the rest of the pages (not the stored UTC).
    assert timezone.localtime(fir.occurred_at).strftime("%Y-%m-%d %H:%M") in history
    assert corrected.strftime("%Y-%m-%d %H:%M") in history
    assert fir.occurred_at.isoformat()[:16] not in history
    snap(page, f"proceedings-correct-{language}")
    after = Clock.objects.get(case=case, rule__code="challan_submitted")
    assert after.due_at < before and after.state == "missed"
    assert page.csp_errors == []
