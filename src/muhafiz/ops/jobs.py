"""Failed background jobs: the list an administrator reads, and the audited retry.

A task that raises is kept by the database queue as FAILED with its exception and traceback
(`muhafiz.core.jobs` queues tasks), or by RQ in its failed-job registry (`ops.jobs_rq`).
`failed_jobs` lists them, newest first; `retry_task` enqueues
the same task with the same arguments again and records it in the audit log. The page
(`ops.jobs_views`) and the `jobs` management command call these.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from muhafiz.audit.actions import ObjectRef, record
from muhafiz.core.jobs import uses_rq
from muhafiz.core.permissions import Perm, check_perm, check_system


class JobNotRetryableError(RuntimeError):
    """The job cannot be retried (it did not fail, or its task no longer exists)."""


@dataclass(frozen=True, slots=True)
class FailedJob:
    """A job whose task raised: what ran, with which arguments, and why it failed."""

    id: str
    task_path: str
    queue_name: str
    args: list[Any]
    kwargs: dict[str, Any]
    exception_class_path: str
    traceback: str
    enqueued_at: datetime.datetime
    finished_at: datetime.datetime | None
    retried_as: str | None  # the id of a later run of the same task with the same arguments

    @property
    def error(self) -> str:
        """The last line of the traceback: the exception and its message."""
        lines = [line for line in self.traceback.strip().splitlines() if line.strip()]
        return lines[-1] if lines else self.exception_class_path


def failed_jobs(*, limit: int = 100, include_retried: bool = True) -> list[FailedJob]:
    """The most recent failed jobs, newest first, each with the id of its retry if it has one."""
    if uses_rq():
        from muhafiz.ops.jobs_rq import failed_rq_jobs

        return [
            FailedJob(**record)
            for record in failed_rq_jobs(limit)
            if include_retried or record["retried_as"] is None
        ]
    failed = list(DBTaskResult.objects.failed().order_by("-finished_at")[:limit])
    later: dict[tuple[str, str], list[DBTaskResult[Any, Any]]] = {}
    if failed:
        since = min(result.enqueued_at for result in failed)
        for result in DBTaskResult.objects.filter(
            task_path__in={result.task_path for result in failed}, enqueued_at__gt=since
        ).order_by("enqueued_at"):
            later.setdefault(_signature(result), []).append(result)
    jobs = []
    for result in failed:
        retry = next(
            (
                candidate
                for candidate in later.get(_signature(result), [])
                if candidate.enqueued_at > result.enqueued_at
            ),
            None,
        )
        if retry is not None and not include_retried:
            continue
        jobs.append(
            FailedJob(
                id=str(result.id),
                task_path=result.task_path,
                queue_name=result.queue_name,
                args=list(result.args_kwargs.get("args", [])),
                kwargs=dict(result.args_kwargs.get("kwargs", {})),
                exception_class_path=result.exception_class_path,
                traceback=result.traceback,
                enqueued_at=result.enqueued_at,
                finished_at=result.finished_at,
                retried_as=str(retry.id) if retry is not None else None,
            )
        )
    return jobs


def _signature(result: DBTaskResult[Any, Any]) -> tuple[str, str]:
    return result.task_path, json.dumps(result.args_kwargs, sort_keys=True)


def retry_task(
    actor: Any, result_id: str, *, reason: str = "", request: HttpRequest | None = None
) -> str:
    """Enqueue a failed job's task again with the same arguments; return the new job's id.

    The failed result stays as it is (the failure is history); the retry is a new job on the
    same queue and priority, recorded in the audit log in the same transaction.
    """
    check_perm(actor, Perm.JOB_MANAGE)
    if uses_rq():
        return _retry_rq(actor, result_id, reason=reason, request=request)
    with transaction.atomic():
        try:
            failed = DBTaskResult.objects.select_for_update().get(id=result_id)
        except (DBTaskResult.DoesNotExist, ValidationError) as exc:
            raise JobNotRetryableError(f"there is no job {result_id}") from exc
        if failed.status != TaskResultStatus.FAILED:
            raise JobNotRetryableError(
                f"job {result_id} is {failed.status.lower()}, only failed jobs are retried"
            )
        try:
            task = failed.task
        except (ImportError, SuspiciousOperation) as exc:
            raise JobNotRetryableError(
                f"job {result_id} ran {failed.task_path}, which no longer exists"
            ) from exc
        new = task.using(run_after=None).enqueue(
            *failed.args_kwargs.get("args", []), **failed.args_kwargs.get("kwargs", {})
        )
        _record_retry(
            actor,
            (str(failed.id), failed.task_path, failed.queue_name, failed.exception_class_path),
            str(new.id),
            reason=reason,
            request=request,
        )
    return str(new.id)


def _record_retry(
    actor: Any,
    failed: tuple[str, str, str, str],
    new_id: str,
    *,
    reason: str,
    request: HttpRequest | None,
) -> None:
    """The audit record of a retry: the failed job (id, task, queue, error) and the new job."""
    job_id, task_path, queue_name, error = failed
    record(
        actor,
        "job.retry",
        ObjectRef("job", job_id, task_path),
        reason=reason,
        request=request,
        task=task_path,
        queue=queue_name,
        failed_job=job_id,
        new_job=new_id,
        error=error,
    )


def _retry_rq(actor: Any, job_id: str, *, reason: str, request: HttpRequest | None) -> str:
    """The retry on RQ: the new job's id is chosen first and audited; the job is queued (and the
    failed one marked retried) only once the audit record has committed, never before it."""
    from muhafiz.core.jobs_rq import new_job_id, preset_job_id
    from muhafiz.ops.jobs_rq import NotFailedError, failed_rq_job, mark_retried

    try:
        failed, task = failed_rq_job(job_id)
    except LookupError as exc:
        raise JobNotRetryableError(f"there is no job {job_id}") from exc
    except NotFailedError as exc:
        raise JobNotRetryableError(f"job {job_id} is {exc}, only failed jobs are retried") from exc
    except ImportError as exc:
        raise JobNotRetryableError(f"job {job_id} ran {exc}, which no longer exists") from exc
    new_id = new_job_id()
    args, kwargs = list(failed.args), dict(failed.kwargs)
    retried = task.using(run_after=None)
    task.get_backend().validate_task(retried)

    def enqueue() -> None:
        with preset_job_id(new_id):
            retried.enqueue(*args, **kwargs)
        mark_retried(failed, new_id)

    with transaction.atomic():
        error = (failed.meta.get("_django_tasks_rq_exceptions") or ["Exception"])[-1]
        _record_retry(
            actor,
            (str(failed.id), failed.func_name or "", failed.origin, error),
            new_id,
            reason=reason,
            request=request,
        )
        transaction.on_commit(enqueue)
    return new_id


class AbandonedJobError(RuntimeError):
    """The job's worker went silent (killed, or its machine lost power) while it ran."""


def requeue_abandoned_jobs(actor: Any) -> list[tuple[str, str, str]]:
    """Queue again every job on the database queue left RUNNING by a worker whose heartbeat
    (`ops.WorkerHeartbeat`) has lapsed for `MUHAFIZ_DB_ABANDONED_SECONDS`, or that has none,
    each audited (`job.requeue`); a job abandoned more than `MUHAFIZ_DB_ABANDONED_RETRIES` times
    is kept as failed instead (`job.abandon`), for an administrator to retry. The system does it,
    from every database-queue worker (`ops.db_worker`). Returns (job, task, what was done)."""
    from muhafiz.ops.models import WorkerHeartbeat

    check_system(actor)
    silent = timezone.now() - datetime.timedelta(seconds=int(settings.MUHAFIZ_DB_ABANDONED_SECONDS))
    alive = set(
        WorkerHeartbeat.objects.filter(beat_at__gte=silent).values_list("worker_id", flat=True)
    )
    done = []
    running = DBTaskResult.objects.running().filter(Q(started_at__lt=silent) | Q(started_at=None))
    for job in running.only("id", "worker_ids", "started_at", "task_path", "queue_name"):
        worker = job.worker_ids[-1] if job.worker_ids else ""
        if worker in alive:
            continue
        what = _requeue(actor, job, worker)
        if what:
            done.append((str(job.id), job.task_path, what))
    WorkerHeartbeat.objects.filter(beat_at__lt=silent).delete()  # workers that died
    return done


def _requeue(actor: Any, job: DBTaskResult[Any, Any], worker: str) -> str:
    """One abandoned job queued again or failed, if no other worker did it first."""
    retries = max(0, int(settings.MUHAFIZ_DB_ABANDONED_RETRIES))
    attempts = len(job.worker_ids)
    same = DBTaskResult.objects.filter(
        id=job.id, status=TaskResultStatus.RUNNING, started_at=job.started_at
    )
    with transaction.atomic():
        if attempts <= retries:
            if not same.update(status=TaskResultStatus.READY, started_at=None):
                return ""
            action, what = "job.requeue", f"queued again (attempt {attempts + 1})"
        else:
            error = AbandonedJobError(
                f"its worker {worker or '(unknown)'} went silent while it ran, {attempts} "
                "times; not queued again"
            )
            if not same.update(
                status=TaskResultStatus.FAILED,
                finished_at=timezone.now(),
                return_value=None,
                exception_class_path=f"{__name__}.{AbandonedJobError.__qualname__}",
                traceback=f"{__name__}.{AbandonedJobError.__qualname__}: {error}\n",
            ):
                return ""
            action, what = "job.abandon", f"failed after {attempts} abandoned attempts"
        record(
            actor,
            action,
            ObjectRef("job", str(job.id), job.task_path),
            task=job.task_path,
            queue=job.queue_name,
            worker=worker,
            attempts=attempts,
        )
    return what
