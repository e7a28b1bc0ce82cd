"""Two scans in two districts that share one file and one near-identical image link the cases
and alert both teams, naming the other case and its officer, never a victim."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.cases import actions as case_actions
from muhafiz.cases.models import Alert, AlertKind, Case
from muhafiz.evidence import actions
from muhafiz.evidence.models import AnalysisStatus, CaseLink, LinkKind, ScanStatus
from muhafiz.evidence.tests.conftest import VICTIM_CNIC, VICTIM_NAME, upload_of
from muhafiz.testing import People, signed_in
from muhafiz.testing import drain_job_queues as drain

pytestmark = pytest.mark.django_db


def test_lahore_and_kasur_scans_sharing_a_file_and_a_near_copy_alert_both_teams(  # noqa: PLR0917 - fixtures
    people: People,
    lahore_case: Case,
    kasur_case: Case,
    two_devices: tuple[Path, Path],
    make_scan: Callable[[Path, str], Path],
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lahore_device, kasur_device = two_devices
    # Lahore: a scan file from a field laptop, imported by upload. The upload returns once the
    # rows are recorded; matching and linking are a job queued when the import commits.
    with django_capture_on_commit_callbacks(execute=True) as queued:
        lahore_scan = actions.import_uploaded_scan(
            people.lahore_investigator, lahore_case, upload_of(make_scan(lahore_device, "lahore"))
        )
    assert len(queued) == 1
    assert lahore_scan.status == ScanStatus.IMPORTED
    assert lahore_scan.analysis_status == AnalysisStatus.PENDING
    assert lahore_scan.statistics["files"] == 4
    drain(monkeypatch)
    lahore_scan.refresh_from_db()
    assert lahore_scan.analysis_status == AnalysisStatus.DONE
    assert not CaseLink.objects.exists()

    # Kasur: scanned on the server by a queued job; its import queues the analysis in turn.
    with django_capture_on_commit_callbacks(execute=True):
        kasur_scan = actions.queue_server_scan(
            people.kasur_investigator, kasur_case, str(kasur_device)
        )
    with django_capture_on_commit_callbacks(execute=True):
        drain(monkeypatch)
    kasur_scan.refresh_from_db()
    assert kasur_scan.status == ScanStatus.IMPORTED, kasur_scan.failure
    assert kasur_scan.statistics["files"] == 4
    assert kasur_scan.analysis_status == AnalysisStatus.PENDING
    assert not CaseLink.objects.exists()  # not before the analysis job has run
    drain(monkeypatch)
    kasur_scan.refresh_from_db()
    assert kasur_scan.analysis_status == AnalysisStatus.DONE

    links = {link.kind: link for link in CaseLink.objects.all()}
    assert set(links) == {LinkKind.SHA256, LinkKind.PDQ}
    assert links[LinkKind.PDQ].distance <= 31
    for link in links.values():
        assert {link.case_a_id, link.case_b_id} == {lahore_case.pk, kasur_case.pk}

    lahore_team = {people.lahore_investigator, people.prosecutor, people.forensic_examiner}
    for user in [*lahore_team, people.kasur_investigator, people.child_protection_officer]:
        alerts = Alert.objects.filter(recipient=user, kind=AlertKind.CROSS_CASE_LINK)
        assert alerts.count() == 2, user.username
        for alert in alerts:
            own = lahore_case if user != people.kasur_investigator else kasur_case
            other = kasur_case if own == lahore_case else lahore_case
            assert alert.case == own
            assert other.reference in alert.text()
            assert VICTIM_NAME not in alert.text() and VICTIM_CNIC not in alert.text()
    kasur_alert = Alert.objects.filter(recipient=people.kasur_investigator).first()
    assert kasur_alert is not None
    assert "Imran Lahori, 042-99990001" in kasur_alert.text()
    lahore_alert = Alert.objects.filter(recipient=people.lahore_investigator).first()
    assert lahore_alert is not None and "Saima Kasuri" in lahore_alert.text()

    # A second import of the same scan file changes no link and raises no alert again.
    before = Alert.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        actions.import_uploaded_scan(
            people.lahore_investigator, lahore_case, upload_of(make_scan(lahore_device, "again"))
        )
    drain(monkeypatch)
    assert CaseLink.objects.count() == 2
    assert Alert.objects.count() == before

    # The network page: the Kasur investigator sees the Lahore case only as reference + contact.
    page = signed_in(people.kasur_investigator).get("/evidence/network/")
    assert page.status_code == 200
    html = page.content.decode()
    assert lahore_case.reference in html and kasur_case.reference in html
    assert "Imran Lahori" in html
    assert VICTIM_NAME not in html and VICTIM_CNIC not in html
    assert "E1" not in html  # no devices of a case outside their jurisdiction

    # Filters: by district and by the period the link was found.
    mzg = signed_in(people.kasur_investigator).get("/evidence/network/?district=MZG")
    assert "No links between cases" in mzg.content.decode()
    later = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert (
        signed_in(people.kasur_investigator)
        .get(f"/api/v1/evidence/links?since={later}")
        .json()["items"]
        == []
    )
    assert (
        len(
            signed_in(people.kasur_investigator)
            .get("/api/v1/evidence/links?district=lhr")
            .json()["items"]
        )
        == 2
    )

    api = signed_in(people.lahore_investigator).get("/api/v1/evidence/links")
    assert api.status_code == 200
    body = api.content.decode()
    assert len(api.json()["items"]) == 2
    assert VICTIM_NAME not in body and VICTIM_CNIC not in body


def test_accused_sharing_a_phone_links_their_cases(
    people: People, lahore_case: Case, kasur_case: Case, django_capture_on_commit_callbacks: object
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        case_actions.add_accused(
            people.lahore_investigator,
            lahore_case,
            case_actions.AccusedDetails(name="Test Accused One", phones="0300 7654321"),
        )
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        case_actions.add_accused(
            people.kasur_investigator,
            kasur_case,
            case_actions.AccusedDetails(name="Test Accused Two", phones="+92 300 7654321"),
        )
    link = CaseLink.objects.get()
    assert link.kind == LinkKind.PHONE
    assert link.shared == "A1~A1"
    assert Alert.objects.filter(
        recipient=people.kasur_investigator, kind=AlertKind.CROSS_CASE_LINK, case=kasur_case
    ).exists()
    assert Alert.objects.filter(
        recipient=people.prosecutor, kind=AlertKind.CROSS_CASE_LINK, case=lahore_case
    ).exists()
