"""The failed-jobs page: an administrator sees each failure with its error and retries it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django_tasks import TaskResultStatus, default_task_backend, task

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import Role
from muhafiz.audit.models import AuditEvent
from muhafiz.ops.tests.test_jobs import all_job_ids
from muhafiz.testing import drain_job_queues as drain
from muhafiz.testing import make_user, signed_in

pytestmark = pytest.mark.django_db


@task()
def fails_until_present(marker: str) -> str:
    """Fails until the marker file exists (an outside system that was down, then back)."""
    if not Path(marker).exists():
        raise RuntimeError(f"synthetic outage: {Path(marker).name} is missing")
    return "done"


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only


@pytest.fixture
def administrator() -> User:
    return make_user("admin", Role.ADMINISTRATOR, district_code=None, level="national")


@pytest.fixture
def investigator() -> User:
    return make_user("inv.lahore", Role.INVESTIGATOR, district_code="LHR")


@pytest.fixture
def failed_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    marker = tmp_path / "outside-system-up"
    result = fails_until_present.enqueue(str(marker))
    drain(monkeypatch)
    assert default_task_backend.get_result(result.id).status == TaskResultStatus.FAILED
    return str(result.id), marker


def test_the_administrator_sees_a_failed_job_with_its_error(
    administrator: User, failed_job: tuple[str, Path]
) -> None:
    job_id, _marker = failed_job
    response = signed_in(administrator).get("/jobs/")
    assert response.status_code == 200
    body = response.content.decode()
    assert f'data-job="{job_id}"' in body
    assert "test_jobs_page.fails_until_present" in body
    assert "RuntimeError: synthetic outage: outside-system-up is missing" in body
    assert f'action="/jobs/{job_id}/retry/"' in body
    assert 'href="/jobs/"' in body  # the navigation links the page


def test_the_administrator_retries_a_failed_job_with_a_reason_and_it_is_audited(
    administrator: User,
    failed_job: tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    job_id, marker = failed_job
    client = signed_in(administrator)
    with django_capture_on_commit_callbacks(execute=True):  # RQ queues the retry on commit
        response = client.post(
            f"/jobs/{job_id}/retry/", {"reason": "the outside system is back"}, follow=True
        )
    assert response.status_code == 200
    [new_id] = all_job_ids() - {job_id}
    assert new_id in response.content.decode()
    event = AuditEvent.objects.get(action="job.retry")
    assert event.actor_user_id == administrator.pk
    assert event.reason == "the outside system is back"
    assert event.details["failed_job"] == job_id
    assert event.details["new_job"] == new_id
    # The retry runs once the outside system is back; the page then shows the failure retried.
    marker.write_text("up")
    drain(monkeypatch)
    assert default_task_backend.get_result(new_id).status == TaskResultStatus.SUCCESSFUL
    body = client.get("/jobs/").content.decode()
    assert new_id in body
    assert f'action="/jobs/{job_id}/retry/"' not in body


def test_a_retry_without_a_reason_is_refused_and_nothing_is_queued(
    administrator: User, failed_job: tuple[str, Path]
) -> None:
    job_id, _marker = failed_job
    response = signed_in(administrator).post(f"/jobs/{job_id}/retry/", {"reason": " "}, follow=True)
    assert "Give a reason for the retry." in response.content.decode()
    assert len(all_job_ids()) == 1
    assert not AuditEvent.objects.filter(action="job.retry").exists()


def test_a_job_that_did_not_fail_is_not_retried(administrator: User) -> None:
    result = fails_until_present.enqueue("/nonexistent")  # still ready, never ran
    response = signed_in(administrator).post(
        f"/jobs/{result.id}/retry/", {"reason": "why not"}, follow=True
    )
    assert "cannot be retried" in response.content.decode()
    assert len(all_job_ids()) == 1


def test_an_investigator_cannot_see_or_retry_failed_jobs(
    investigator: User, failed_job: tuple[str, Path]
) -> None:
    job_id, _marker = failed_job
    client = signed_in(investigator)
    assert client.get("/jobs/").status_code == 403
    assert client.post(f"/jobs/{job_id}/retry/", {"reason": "curious"}).status_code == 403
    assert len(all_job_ids()) == 1
    assert 'href="/jobs/"' not in client.get("/").content.decode()


def test_the_page_reads_in_urdu(administrator: User, failed_job: tuple[str, Path]) -> None:
    client = signed_in(administrator)
    client.post("/i18n/setlang/", {"language": "ur", "next": "/"})
    body = client.get("/jobs/").content.decode()
    assert 'dir="rtl"' in body
    assert "ناکام کام" in body
    assert "دوبارہ چلائیں" in body
