"""In headless Chromium: an investigator opens a case through the pages, accepts the suggested
sections (htmx), records a victim and an accused; the prosecutor on the team reveals the
victim's identity (htmx, audited). Screenshots go to DATA_DIR/screenshots/cases-*.png."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.cases.models import Case
from muhafiz.cases.tests.conftest import VICTIM_CNIC, VICTIM_NAME
from muhafiz.catalogue.models import PoliceStation
from muhafiz.testing import People, make_people

pytestmark = needs_chromium


def _snap(page: Any, name: str) -> None:
    snap(page, f"cases-{name}")


@pytest.mark.django_db(transaction=True)
def test_investigator_opens_a_case_and_records_a_victim_and_an_accused(
    live_server: Any, browser: Any, flushable_audit: None, settings: Any
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    people: People = make_people()
    station = PoliceStation.objects.get_or_create(
        district=people.lahore_investigator.district, name="Model Town"
    )[0]
    report = timezone.localtime().replace(second=0, microsecond=0) - timedelta(hours=5)

    page = page_as(browser, live_server, people.lahore_investigator)
    page.goto(f"{live_server.url}/cases/")
    page.locator("#new-case").click()
    page.wait_for_url(f"{live_server.url}/cases/new/")
    page.get_by_label("District").select_option("LHR")
    page.get_by_label("Investigating agency").select_option("PB-POLICE")
    page.get_by_label("Police station").select_option(str(station.pk))
    page.get_by_label("FIR number").fill("404/2026")
    page.get_by_label("Report received").fill(report.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Victim under 18").check()
    page.get_by_label("Abuse was photographed or filmed").check()
    page.get_by_label("PPC 292 —").check()
    page.locator("#case-submit").click()
    page.wait_for_url(f"{live_server.url}/cases/LHR-*/")
    case = Case.objects.get()
    assert page.locator("#case-reference").inner_text() == case.reference
    # The weaker section is flagged and the stronger ones are suggested.
    assert page.locator("#section-warnings").is_visible()
    for code in ("PPC 377A", "PPC 377B", "PECA 22"):
        assert page.locator(f'#suggestions li[data-code="{code}"]').count() == 1
    _snap(page, "01-suggestions")
    page.locator("#add-suggested").click()  # htmx swaps the sections in place
    page.locator("#section-warnings").wait_for(state="detached")
    assert set(case.offences.values_list("code", flat=True)) == {
        "PPC 292",
        "PPC 377A",
        "PPC 377B",
        "PECA 22",
    }

    # The investigator asks for the prosecutor; the district's supervisor approves.
    form = page.locator("#team-request-form")
    form.get_by_label("User name").fill("pros.lahore")
    form.get_by_label("Role on the case").select_option("prosecutor")
    form.get_by_label("Why they need to be on the team").fill("Scrutiny of the challan")
    page.locator("#team-request-submit").click()
    page.wait_for_load_state()
    assert page.locator('#join-requests li[data-username="pros.lahore"]').count() == 1
    supervisor = page_as(browser, live_server, people.lahore_supervisor)
    supervisor.goto(f"{live_server.url}/cases/{case.reference}/")
    supervisor.locator("#join-requests button[data-approve]").click()
    supervisor.wait_for_load_state()
    assert supervisor.locator('#team-list li[data-username="pros.lahore"]').count() == 1
    assert supervisor.csp_errors == []
    supervisor.context.close()
    page.reload()
    assert page.locator('#team-list li[data-username="pros.lahore"]').count() == 1

    # Victims and accused are recorded in the case's section "parties".
    page.locator("#case-parties-link").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.reference}/parties/")
    page.locator("#add-victim").click()
    page.get_by_label("Name", exact=True).fill(VICTIM_NAME)
    page.get_by_label("CNIC or B-form number").fill("3520-2")
    page.locator("#victim-submit").click()
    assert "13 digits" in page.locator("#victim-form").inner_text()
    page.get_by_label("CNIC or B-form number").fill(VICTIM_CNIC)
    page.get_by_label("Date of birth").fill("2014-03-09")
    page.get_by_label("Gender").select_option("girl")
    page.get_by_label("May be referred to child-protection services").check()
    page.locator("#victim-submit").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.reference}/parties/")
    victim = case.victims.get()
    assert victim.pseudonym in page.locator("#victim-list").inner_text()
    assert VICTIM_NAME not in page.content()

    page.locator("#add-accused").click()
    page.get_by_label("Name", exact=True).fill("Accused Testname")
    page.get_by_label("CNIC").fill("35202-1111111-1")
    page.get_by_label("Phone numbers (one a line)").fill("0300 7654321")
    page.get_by_label("Online handles (platform:name, one a line)").fill("facebook:tiger.one")
    page.locator("#accused-submit").click()
    page.wait_for_url(f"{live_server.url}/cases/{case.reference}/accused/A1/")
    assert page.locator("#accused-phones").inner_text().strip() == "+923007654321"
    _snap(page, "02-accused")
    assert page.csp_errors == []
    page.context.close()

    # The prosecutor on the team asks for the identity with a purpose; htmx shows it in place.
    prosecutor = page_as(browser, live_server, people.prosecutor)
    prosecutor.goto(f"{live_server.url}/cases/{case.reference}/victims/{victim.pseudonym}/")
    assert VICTIM_NAME not in prosecutor.content()
    prosecutor.get_by_label("Why do you need to see the identity?").fill("Charge sheet")
    prosecutor.locator("#identity-submit").click()
    prosecutor.locator("#identity-name").wait_for()
    assert prosecutor.locator("#identity-name").inner_text() == VICTIM_NAME
    assert VICTIM_NAME not in prosecutor.url
    assert AuditEvent.objects.filter(action="victim.identity.view", reason="Charge sheet").exists()
    _snap(prosecutor, "03-identity")

    # The same page in Urdu reads right to left.
    prosecutor.locator('[data-testid="language-ur"]').click()
    prosecutor.wait_for_load_state()
    assert prosecutor.locator("html").get_attribute("dir") == "rtl"
    _snap(prosecutor, "04-victim-ur")
    assert prosecutor.csp_errors == []
    prosecutor.context.close()
