"""In a real browser: an examiner reveals one preview (htmx, audited) and a Kasur investigator
sees the network drawn on the server, with the Lahore case only as reference and contact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from muhafiz.audit.models import AuditEvent
from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.cases.models import Case
from muhafiz.evidence import actions
from muhafiz.evidence.models import MediaFile
from muhafiz.evidence.tests.conftest import VICTIM_NAME, upload_of
from muhafiz.testing import People
from muhafiz.testing import drain_job_queues as drain

pytestmark = needs_chromium


def _snap(page: Any, name: str) -> None:
    snap(page, f"evidence-{name}")


@pytest.mark.django_db(transaction=True)
def test_examiner_reveals_one_preview_and_kasur_sees_the_network(  # noqa: PLR0917 - fixtures
    live_server: Any,
    browser: Any,
    flushable_audit: None,
    people: People,
    lahore_case: Case,
    kasur_case: Case,
    two_devices: tuple[Path, Path],
    make_scan: Callable[[Path, str], Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lahore_device, kasur_device = two_devices
    lahore = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(lahore_device))
    actions.import_uploaded_scan(
        people.kasur_investigator, kasur_case, upload_of(make_scan(kasur_device, "kasur"))
    )
    drain(monkeypatch)  # a worker: the server scan, then both scans' analysis (banks, links)
    image = MediaFile.objects.filter(scan=lahore, mime__startswith="image/").order_by("path")[0]

    page = page_as(browser, live_server, people.forensic_examiner)
    page.goto(f"{live_server.url}/evidence/scans/{lahore.pk}/")
    assert page.locator("#statistics").is_visible()
    assert page.locator("img").count() == 0  # hidden by default
    page.locator(f"#examine-{image.pk} summary").click()
    page.locator(f"#reason-{image.pk}").fill("categorise for the challan")
    page.locator(f"#examine-{image.pk} button.button--danger").click()
    page.locator(f"#reveal-result-{image.pk} img").wait_for()
    assert page.locator("img").count() == 1
    _snap(page, "reveal")
    assert AuditEvent.objects.filter(action="evidence.media.reveal").count() == 1
    assert page.csp_errors == []

    page = page_as(browser, live_server, people.kasur_investigator)
    page.goto(f"{live_server.url}/evidence/network/")
    svg = page.locator("svg#network")
    assert svg.is_visible()
    text = page.locator("main").inner_text()
    assert f"another case: {lahore_case.reference}" in text
    assert "Imran Lahori" in text and VICTIM_NAME not in text
    _snap(page, "network")
    assert page.csp_errors == []
