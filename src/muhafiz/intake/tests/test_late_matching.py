"""Late matching: an accused identifier or evidence that reaches a case after a referral was
imported alerts that case's team with the referral's id, through the hooks and a job (intake
writes no table of cases or evidence)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django_tasks_db.management.commands import db_worker

from muhafiz.audit.models import AuditEvent
from muhafiz.cases import actions as cases
from muhafiz.cases.models import Alert, AlertKind
from muhafiz.core.permissions import SYSTEM
from muhafiz.intake import actions
from muhafiz.intake.models import TipMatch
from muhafiz.intake.tests.synthetic_tips import SyntheticTip, sha256, write_xml
from muhafiz.testing import People

pytestmark = pytest.mark.django_db

BLOB = b"benign synthetic late-match bytes: a blue triangle"


def _import(tip: SyntheticTip) -> None:
    text = io.StringIO()
    write_xml(text, [tip])
    result = actions.import_cybertips(SYSTEM, io.BytesIO(text.getvalue().encode()))
    assert result.imported == 1 and result.matches == 0  # nothing to match yet


def _run_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    """One database worker in this process until the queue is empty (inside the test's
    transaction, so it must not close the connection between jobs)."""
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    db_worker.Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="intake-test",
        excluded_queue_names=[],
    ).run()


def _report_match_alerts(case: Any) -> Any:
    return Alert.objects.filter(kind=AlertKind.REPORT_MATCH, case=case)


def test_an_accused_phone_and_e_mail_added_later_alert_the_team_once(
    people: People,
    lahore_case: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _import(SyntheticTip("6600001", phone="0300-7654321", email="Late.Owl@example.org"))
    with django_capture_on_commit_callbacks(execute=True):
        cases.add_accused(
            people.lahore_investigator,
            lahore_case,
            cases.AccusedDetails(name="Accused Late", phones=["+92 300 7654321"]),
        )
    assert not TipMatch.objects.exists()  # queued, not yet run
    _run_jobs(monkeypatch)
    match = TipMatch.objects.get()
    assert (match.kind, match.case_id) == ("accused", lahore_case.pk)
    alerts = _report_match_alerts(lahore_case)
    assert alerts.exists()
    assert all("6600001" in a.text() and "7654321" not in a.text() for a in alerts)
    first = alerts.count()

    # The e-mail added to the same accused later: a second match, no second alert.
    accused = lahore_case.accused.get()
    with django_capture_on_commit_callbacks(execute=True):
        cases.update_accused(
            people.lahore_investigator,
            accused,
            cases.AccusedDetails(
                name="Accused Late", phones=["+92 300 7654321"], emails=["late.owl@example.org"]
            ),
        )
    _run_jobs(monkeypatch)
    assert TipMatch.objects.count() == 2
    assert _report_match_alerts(lahore_case).count() == first
    assert AuditEvent.objects.filter(action="intake.cybertips.rematch").count() == 2


def test_evidence_analysed_later_alerts_the_team(
    people: People,
    lahore_case: Any,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from muhafiz.evidence.actions.scans import perform_scan_analysis
    from muhafiz.evidence.models import MediaFile, Scan

    _import(SyntheticTip("6600002", file_blobs=[BLOB], city="Lahore"))
    scan = Scan.objects.create(case=lahore_case, origin="upload", status="imported")
    MediaFile.objects.create(
        scan=scan, case=lahore_case, source_id=1, path="DCIM/y.jpg", sha256=sha256(BLOB)
    )
    with django_capture_on_commit_callbacks(execute=True):
        perform_scan_analysis(SYSTEM, scan.pk)
    _run_jobs(monkeypatch)
    match = TipMatch.objects.get()
    assert (match.kind, match.case_id) == ("evidence", lahore_case.pk)
    assert _report_match_alerts(lahore_case).exists()


def test_only_the_system_rematches(people: People, lahore_case: Any) -> None:
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.rematch_referrals_for_case(people.lahore_investigator, lahore_case.pk)
