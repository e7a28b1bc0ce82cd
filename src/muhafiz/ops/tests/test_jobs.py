"""Jobs: queued after commit, drained once by several workers, failures kept and retried.

Every test runs on the backend the settings chose: the database queue, or RQ on Redis when
REDIS_URL is set (CI runs this file both ways; the Redis database named there must be one that
the tests may empty).
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils.timezone import now as django_now
from django_tasks import TaskResultStatus, default_task_backend, task
from django_tasks_db.models import DBTaskResult

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import Role
from muhafiz.audit.models import AuditEvent
from muhafiz.core.jobs import enqueue_on_commit, uses_rq, worker_command
from muhafiz.core.permissions import SYSTEM
from muhafiz.ops.jobs import (
    JobNotRetryableError,
    failed_jobs,
    requeue_abandoned_jobs,
    retry_task,
)
from muhafiz.ops.models import WorkerHeartbeat
from muhafiz.testing import database_url_for_workers, make_user
from muhafiz.testing import drain_job_queues as drain

RUNS_TABLE = "test_jobs_runs"


@pytest.fixture
def administrator(db: None, settings: Any) -> User:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    return make_user("admin", Role.ADMINISTRATOR, district_code=None, level="national")


@pytest.fixture
def investigator(db: None, settings: Any) -> User:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return make_user("inv.lahore", Role.INVESTIGATOR, district_code="LHR")


@task()
def record_run(number: int) -> int:
    """Insert one row per task number; a second run of the same number violates the key."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {RUNS_TABLE} (number, pid) VALUES (%s, %s)",  # noqa: S608 - fixed name
            [number, os.getpid()],
        )
    time.sleep(0.02)  # long enough that the workers interleave
    return number


@task()
def flaky(marker: str) -> str:
    """Fails until the marker file exists (a stand-in for an outside system that was down)."""
    if not Path(marker).exists():
        raise RuntimeError(f"synthetic outage: {Path(marker).name} is missing")
    return "done"


def queued_ids() -> list[str]:
    """The jobs waiting in every queue of the configured backend."""
    if uses_rq():
        import django_rq
        from django.conf import settings

        return [
            job_id for name in settings.TASK_QUEUES for job_id in django_rq.get_queue(name).job_ids
        ]
    return [str(result.id) for result in DBTaskResult.objects.all()]


def all_job_ids() -> set[str]:
    """Every job the configured backend knows, whatever its state."""
    if uses_rq():
        import django_rq

        found = django_rq.get_connection().keys("rq:job:*")
        keys = [key.decode() if isinstance(key, bytes) else key for key in found]
        return {key.removeprefix("rq:job:") for key in keys if key.count(":") == 2}
    return {str(result.id) for result in DBTaskResult.objects.all()}


def test_a_job_is_queued_only_when_its_transaction_commits(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        enqueue_on_commit(flaky, "/nonexistent")
        assert queued_ids() == []
    [queued] = queued_ids()
    assert default_task_backend.get_result(queued).args == ["/nonexistent"]


def test_a_job_of_a_rolled_back_transaction_is_never_queued(
    db: None, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(ZeroDivisionError),
        transaction.atomic(),
    ):
        enqueue_on_commit(flaky, "/nonexistent")
        _ = 1 / 0
    assert queued_ids() == []


def test_a_job_with_arguments_that_are_not_json_fails_before_the_commit(
    administrator: User, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(TypeError, match="must be JSON values"),
        transaction.atomic(),
    ):
        enqueue_on_commit(flaky, administrator)  # type: ignore[arg-type]
    assert callbacks == []
    assert queued_ids() == []


@pytest.fixture
def runs_table(transactional_db: None) -> Iterator[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {RUNS_TABLE} (number integer PRIMARY KEY, pid integer)")
    try:
        yield RUNS_TABLE
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {RUNS_TABLE}")


def _start_worker(
    worker_id: str, log: Path, env_extra: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A worker as `muhafiz worker` starts it, on the test's database (and Redis), in a process
    group of its own (so that a test can kill it with its work horse, as a machine dies)."""
    env = {**os.environ, "DATABASE_URL": database_url_for_workers(), "MUHAFIZ_PROFILE": "test"}
    env.update(env_extra or {})
    env["DJANGO_SETTINGS_MODULE"] = "muhafiz.settings"
    name, args = worker_command([], batch=False)
    command = [sys.executable, "-m", "django", name, *args]
    if name == "rqworker":
        command += ["--name", worker_id]
    else:
        command += ["--interval", "0.05", "--no-startup-delay", "--no-reload", "--skip-checks"]
        command += ["--worker-id", worker_id]
    with log.open("wb") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_for(condition: Any, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_three_workers_drain_one_queue_without_running_a_task_twice(
    runs_table: str, tmp_path: Path
) -> None:
    logs = {f"worker-{n}": tmp_path / f"worker-{n}.log" for n in range(3)}
    workers = [_start_worker(worker_id, log) for worker_id, log in logs.items()]
    try:
        # Queue the work only once every worker is polling, so that all of them compete for it.
        _wait_for(
            lambda: (
                all(
                    any(
                        started in log.read_text(errors="replace")
                        for started in ("Starting worker", "Listening on")
                    )
                    for log in logs.values()
                )
                or any(w.poll() is not None for w in workers)
            ),
            "the workers to start",
        )
        assert all(w.poll() is None for w in workers), [log.read_text() for log in logs.values()]
        queued = [record_run.enqueue(number).id for number in range(50)]
        _wait_for(
            lambda: all(
                default_task_backend.get_result(job_id).status
                in {TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED}
                for job_id in queued
            ),
            "the queue to drain",
        )
    except AssertionError:
        pytest.fail("\n".join(log.read_text(errors="replace")[-3000:] for log in logs.values()))
    finally:
        for worker in workers:
            worker.terminate()
        slow = []
        for worker in workers:
            try:
                worker.wait(timeout=20)  # an idle worker stops at once (core.jobs_rq.Worker)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=30)
                slow.append(worker.pid)
        assert not slow, f"workers {slow} did not stop within 20 s of SIGTERM"

    results = [default_task_backend.get_result(job_id) for job_id in queued]
    assert {r.status for r in results} == {TaskResultStatus.SUCCESSFUL}, [
        r.errors for r in results if r.errors
    ]
    assert all(len(r.worker_ids) == 1 for r in results)
    assert len({r.worker_ids[0] for r in results}) >= 2, "only one worker took part"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT number FROM {runs_table} ORDER BY number")  # noqa: S608
        assert [row[0] for row in cursor.fetchall()] == list(range(50))


@task()
def killed_once(folder: str) -> str:
    """Hangs on its first run (until its worker is killed); later runs finish."""
    started = Path(folder) / "started"
    if not started.exists():
        started.write_text(str(os.getpid()))
        time.sleep(120)
    (Path(folder) / "finished").write_text("yes")
    return "finished"


def _started(logs: list[Path]) -> bool:
    return all(
        any(word in log.read_text(errors="replace") for word in ("Starting worker", "Listening on"))
        for log in logs
        if log.exists()
    ) and all(log.exists() for log in logs)


def test_a_job_whose_worker_is_killed_is_run_again_by_another_worker(
    flushable_audit: None, tmp_path: Path
) -> None:
    # Abandoned after 5 s of silence, looked for every second (production: minutes). The second
    # worker starts at once, so its first look (at start) comes before the job is abandoned:
    # only its looks while it waits for work can find it. On the database queue the workers
    # beat (ops.db_worker) and look for jobs of silent workers at every beat.
    fast = {
        "MUHAFIZ_RQ_MAINTENANCE_SECONDS": "1",
        "MUHAFIZ_RQ_HEARTBEAT_SECONDS": "1",
        "MUHAFIZ_RQ_ABANDONED_SECONDS": "4",
        "MUHAFIZ_DB_HEARTBEAT_SECONDS": "1",
        "MUHAFIZ_DB_ABANDONED_SECONDS": "4",
    }
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    first = _start_worker("first", first_log, fast)
    second = None
    try:
        _wait_for(lambda: _started([first_log]), "the first worker to start")
        job = killed_once.enqueue(str(tmp_path))
        _wait_for((tmp_path / "started").exists, "the job to start")
        os.killpg(first.pid, signal.SIGKILL)  # the worker and its work horse, as a machine dies
        first.wait(timeout=10)
        assert default_task_backend.get_result(job.id).status == TaskResultStatus.RUNNING
        second = _start_worker("second", second_log, fast)
        _wait_for(
            lambda: default_task_backend.get_result(job.id).status == TaskResultStatus.SUCCESSFUL,
            "the killed job to be run again",
            timeout=45,
        )
    except AssertionError:
        pytest.fail(
            "\n".join(
                p.read_text(errors="replace")[-3000:] for p in (first_log, second_log) if p.exists()
            )
        )
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)
    result = default_task_backend.get_result(job.id)
    assert result.return_value == "finished"
    assert result.worker_ids[-1] == "second"
    assert failed_jobs() == []
    if not uses_rq():  # RQ's registry cleanup keeps no audit log of ours
        event = AuditEvent.objects.get(action="job.requeue")
        assert event.details["worker"] == "first"
        assert event.details["attempts"] == 1


def _running_job(worker_ids: list[str], started_seconds_ago: float) -> DBTaskResult[Any, Any]:
    job = DBTaskResult.objects.get(id=flaky.enqueue("marker").id)
    job.status = TaskResultStatus.RUNNING
    job.worker_ids = worker_ids
    job.started_at = django_now() - datetime.timedelta(seconds=started_seconds_ago)
    job.save()
    return job


@pytest.mark.skipif(uses_rq(), reason="the database queue's own heartbeats (RQ has its registry)")
def test_a_job_of_a_silent_worker_is_queued_again_a_limited_number_of_times(
    administrator: User, settings: Any
) -> None:
    settings.MUHAFIZ_DB_ABANDONED_SECONDS = 60
    settings.MUHAFIZ_DB_ABANDONED_RETRIES = 2
    now = django_now()
    WorkerHeartbeat.objects.create(worker_id="alive", started_at=now, beat_at=now)
    WorkerHeartbeat.objects.create(
        worker_id="dead", started_at=now, beat_at=now - datetime.timedelta(seconds=61)
    )
    beating = _running_job(["alive"], 600)  # a long job of a live worker: left alone
    recent = _running_job(["gone"], 5)  # just taken; its worker's first beat may be late
    silent = _running_job(["dead"], 600)
    thrice = _running_job(["dead", "other", "dead"], 600)  # abandoned twice before
    with pytest.raises(PermissionDenied):
        requeue_abandoned_jobs(administrator)
    done = requeue_abandoned_jobs(SYSTEM)
    assert {job_id for job_id, _task, _what in done} == {str(silent.id), str(thrice.id)}
    for job in (beating, recent, silent, thrice):
        job.refresh_from_db()
    assert (beating.status, recent.status) == (TaskResultStatus.RUNNING, TaskResultStatus.RUNNING)
    assert silent.status == TaskResultStatus.READY and silent.started_at is None
    assert silent.worker_ids == ["dead"]  # the history of its attempts stays
    assert thrice.status == TaskResultStatus.FAILED  # not queued a third time
    assert "went silent while it ran, 3 times" in thrice.traceback
    assert [job.id for job in failed_jobs()] == [str(thrice.id)]  # an administrator may retry it
    assert set(
        AuditEvent.objects.filter(action__in=["job.requeue", "job.abandon"]).values_list(
            "action", "object_id"
        )
    ) == {("job.requeue", str(silent.id)), ("job.abandon", str(thrice.id))}
    assert requeue_abandoned_jobs(SYSTEM) == []  # nothing done twice
    assert not WorkerHeartbeat.objects.filter(worker_id="dead").exists()  # a dead worker's row


def test_an_idle_worker_stops_promptly_on_sigterm(transactional_db: None, tmp_path: Path) -> None:
    """`systemctl stop` sends SIGTERM; an idle RQ worker sometimes took 60 s to go (its command
    channel's thread, see core.jobs_rq.Worker)."""
    for attempt in range(4):
        log = tmp_path / f"idle-{attempt}.log"
        worker = _start_worker(f"idle-{attempt}", log)
        try:
            _wait_for(lambda log=log: _started([log]), "the worker to start")
            time.sleep(1)
            began = time.monotonic()
            worker.terminate()
            worker.wait(timeout=20)
            assert time.monotonic() - began < 5, log.read_text(errors="replace")[-2000:]
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)


def test_a_failed_job_keeps_its_error_and_an_administrator_can_retry_it(
    administrator: User,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from muhafiz.audit.models import AuditEvent

    marker = tmp_path / "outside-system-is-up"
    first = flaky.enqueue(str(marker))
    drain(monkeypatch)

    [failure] = failed_jobs()
    assert failure.id == first.id
    assert failure.exception_class_path == "builtins.RuntimeError"
    assert failure.error == "RuntimeError: synthetic outage: outside-system-is-up is missing"
    assert "Traceback" in failure.traceback
    assert failure.args == [str(marker)]
    assert failure.retried_as is None

    marker.touch()
    with django_capture_on_commit_callbacks(execute=True):
        retry_id = retry_task(administrator, first.id, reason="outside system back up")
    [failure] = failed_jobs()
    assert failure.retried_as == retry_id
    assert failed_jobs(include_retried=False) == []
    drain(monkeypatch)

    retried = default_task_backend.get_result(retry_id)
    assert retried.status == TaskResultStatus.SUCCESSFUL
    assert retried.return_value == "done"
    assert (retried.args, retried.kwargs) == ([str(marker)], {})
    assert default_task_backend.get_result(first.id).status == TaskResultStatus.FAILED
    event = AuditEvent.objects.get(action="job.retry")
    assert event.details["failed_job"] == first.id
    assert event.details["new_job"] == retry_id


def test_a_retry_is_queued_only_once_its_audit_record_commits(
    administrator: User,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """A retry whose transaction rolls back leaves no job behind (on RQ the job used to be queued
    before the audit record committed, and ran even when it never did)."""
    from muhafiz.audit.models import AuditEvent

    first = flaky.enqueue(str(tmp_path / "missing"))
    drain(monkeypatch)
    before = all_job_ids()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(ZeroDivisionError),
        transaction.atomic(),
    ):
        retry_task(administrator, first.id, reason="will roll back")
        _ = 1 / 0
    assert all_job_ids() == before
    assert not AuditEvent.objects.filter(action="job.retry").exists()
    [failure] = failed_jobs()
    assert failure.retried_as is None
    assert callbacks == []  # the enqueue waited for a commit that never came

    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        retry_id = retry_task(administrator, first.id, reason="commits")
        if uses_rq():
            assert retry_id not in all_job_ids()  # not before the commit
    for callback in callbacks:
        callback()
    assert retry_id in all_job_ids()
    assert AuditEvent.objects.get(action="job.retry").details["new_job"] == retry_id


def test_only_failed_jobs_can_be_retried(administrator: User) -> None:
    done = record_run.using(queue_name="default").enqueue(1)
    with pytest.raises(JobNotRetryableError, match="only failed jobs"):
        retry_task(administrator, done.id)
    with pytest.raises(JobNotRetryableError, match="there is no job"):
        retry_task(administrator, "not-a-job-id")


def test_an_investigator_cannot_retry_jobs(investigator: User) -> None:
    with pytest.raises(PermissionDenied):
        retry_task(investigator, "00000000-0000-0000-0000-000000000000")


def test_the_jobs_command_lists_failures_and_retries_one_as_an_administrator(
    administrator: User,
    investigator: User,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    failed = flaky.enqueue(str(tmp_path / "missing"))
    drain(monkeypatch)

    out = StringIO()
    call_command("jobs", "failed", stdout=out)
    listing = out.getvalue()
    assert failed.id in listing
    assert "muhafiz.ops.tests.test_jobs.flaky" in listing
    assert "RuntimeError: synthetic outage: missing is missing" in listing

    with pytest.raises(CommandError, match="may not manage jobs"):
        call_command("jobs", "retry", failed.id, "--as", investigator.username)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("jobs", "retry", failed.id, "--as", administrator.username, stdout=out)
    assert out.getvalue().startswith("Queued again as ")

    out = StringIO()
    call_command("jobs", "failed", "--pending", stdout=out)
    assert out.getvalue().strip() == "No failed jobs."
