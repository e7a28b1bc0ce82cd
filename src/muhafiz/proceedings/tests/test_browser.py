"""In a real browser: one case walked from the report to the judgment through the pages.

The case is opened, staffed and given an accused through the cases pages; every stage after the
report is recorded on the proceedings page; an impossible date is refused on screen; the clock
job runs and the supervisor sees the missed deadline on the case and on the dashboard.
Screenshots are kept under the data directory (screenshots/proceedings-*.png).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.cases.models import Case
from muhafiz.catalogue.models import Agency, AgencyKind, PoliceStation
from muhafiz.core.permissions import SYSTEM
from muhafiz.proceedings import actions
from muhafiz.proceedings.models import Clock, StageEvent
from muhafiz.testing import People, make_people

pytestmark = needs_chromium


def _snap(page: Any, name: str) -> None:
    snap(page, f"proceedings-{name}")


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _record(page: Any, code: str, at: datetime, *, refused: bool = False, **fields: str) -> None:
    form = page.locator('[data-testid="stage-form"]')
    form.get_by_label("Stage").select_option(code)
    form.get_by_label("When (Pakistan time)").fill(_when(at))
    # Every field is set, so nothing is left over from a refused attempt.
    accused = fields.get("accused")
    if accused:
        form.get_by_label("Accused").select_option(label=accused)
    else:
        form.get_by_label("Accused").select_option("")
    form.get_by_label("Remand days granted").fill(fields.get("remand_days", ""))
    form.get_by_label("Outcome").select_option(fields.get("outcome", ""))
    form.get_by_label("Sentence").fill(fields.get("sentence", ""))
    form.get_by_label("Court").select_option(fields.get("court", ""))
    form.get_by_label("Next hearing (Pakistan time)").fill(fields.get("next_hearing_at", ""))
    form.get_by_role("button", name="Record stage").click()
    page.wait_for_load_state()
    errors = page.locator(".errors, #form-errors").all_inner_texts()
    if refused:
        assert errors, f"{code} should have been refused"
    else:
        assert "Stage recorded." in page.content(), f"{code}: {errors}"


@pytest.mark.django_db(transaction=True)
def test_one_case_from_report_to_judgment_through_the_pages(
    live_server: Any, browser: Any, flushable_audit: None, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    people: People = make_people()
    station = PoliceStation.objects.get_or_create(
        district=people.lahore_investigator.district, name="Model Town"
    )[0]
    court = Agency.objects.get_or_create(
        code="PB-SPECIAL-COURTS",
        defaults={"name": "Special courts (Anti-Rape Act), Punjab", "kind": AgencyKind.COURT},
    )[0]
    report = timezone.localtime().replace(second=0, microsecond=0) - timedelta(days=40)

    # --- the cases pages: open the case, staff it, record the accused -------------------------
    page = page_as(browser, live_server, people.lahore_investigator)
    page.goto(f"{live_server.url}/cases/new/")
    page.get_by_label("District").select_option("LHR")
    page.get_by_label("Investigating agency").select_option("PB-POLICE")
    page.get_by_label("Police station").select_option(str(station.pk))
    page.get_by_label("Report received").fill(_when(report))
    page.get_by_label("Child missing or abducted").check()
    page.locator("#case-submit").click()
    page.wait_for_url(f"{live_server.url}/cases/LHR-*/")
    case = Case.objects.get()
    # The district's supervisor staffs the team (joining a team is a supervisor's decision).
    supervisor = page_as(browser, live_server, people.lahore_supervisor)
    supervisor.goto(f"{live_server.url}/cases/{case.reference}/")
    for username, role in (("pros.lahore", "prosecutor"), ("sup.lahore", "supervisor")):
        supervisor.locator("#team-form").get_by_label("User name").fill(username)
        supervisor.locator("#team-form").get_by_label("Role on the case").select_option(role)
        supervisor.locator("#team-submit").click()
        supervisor.wait_for_load_state()
    supervisor.context.close()
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    page.locator("#case-parties-link").click()
    page.locator("#add-accused").click()
    page.locator("#accused-submit").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.reference}/**")

    # --- the proceedings page: every stage from the FIR to the judgment ------------------------
    page.goto(f"{live_server.url}/cases/{case.reference}/")
    page.locator("#case-proceedings-link").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.reference}/proceedings/")
    assert page.locator('[data-clock="fir_missing_child"]').count() == 1

    day = timedelta(days=1)
    _record(page, "fir_registered", report + timedelta(hours=1))
    assert "Stage recorded." in page.content()

    # A judgment dated before the FIR is refused, on screen, and nothing is saved.
    _record(page, "arrested", report + day, accused="A1")
    _record(
        page,
        "judgment_delivered",
        report - day,
        accused="A1",
        outcome="conviction",
        sentence="14 years",
        refused=True,
    )
    assert "cannot come before the report was received" in page.content()
    assert not StageEvent.objects.filter(code="judgment_delivered").exists()
    _snap(page, "01-refused")

    _record(page, "alert_raiser_contacted", report + timedelta(hours=3))
    _record(page, "produced_before_magistrate", report + day * 1.8, accused="A1")
    _record(page, "physical_remand_started", report + day * 2, accused="A1", remand_days="5")
    _record(page, "physical_remand_ended", report + day * 7, accused="A1")
    _record(page, "challan_submitted", report + day * 10)
    _record(page, "scrutiny_accepted", report + day * 11)
    _record(page, "trial_started", report + day * 12, court=str(court.pk))
    _record(page, "hearing", report + day * 20)
    _record(page, "adjournment", report + day * 25, next_hearing_at=_when(report + day * 32))
    _record(
        page,
        "judgment_delivered",
        report + day * 35,
        accused="A1",
        outcome="conviction",
        sentence="14 years and a fine",
    )
    assert "Stage recorded." in page.content()
    codes = list(StageEvent.objects.filter(case=case).values_list("code", flat=True))
    assert codes[0] == "report_received" and codes[-1] == "judgment_delivered"
    assert len(codes) == 13

    # The clock job: ZARRA was never informed, so that deadline is missed and alerted.
    actions.evaluate_clocks(SYSTEM)
    page.reload()
    states = {c.rule.code: c.state for c in Clock.objects.filter(case=case).select_related("rule")}
    assert states["fir_missing_child"] == "met"
    assert states["zarra_informed"] == "missed"
    assert states["produce_before_magistrate"] == "met"
    assert states["challan_submitted"] == "met"
    assert states["trial_concluded_zarra"] == "met"
    assert page.locator('[data-clock="zarra_informed"][data-state="missed"]').count() == 1
    assert page.locator('[data-testid="missed-deadlines"]').is_visible()
    _snap(page, "02-judgment")

    # The supervisor sees the case's timeline on the case page and the miss on the dashboard.
    supervisor = page_as(browser, live_server, people.lahore_supervisor)
    supervisor.goto(f"{live_server.url}/cases/{case.reference}/proceedings/")
    assert supervisor.locator('[data-stage="judgment_delivered"]').count() == 1
    supervisor.goto(f"{live_server.url}/proceedings/dashboard/")
    district_rows = supervisor.locator('[data-testid="overdue-district"] tbody tr')
    assert district_rows.count() == 1
    assert "Lahore" in district_rows.first.inner_text()
    _snap(supervisor, "03-dashboard")
    assert page.csp_errors == [] and supervisor.csp_errors == []
    page.context.close()
    supervisor.context.close()
