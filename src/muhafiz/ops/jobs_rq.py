"""Failed jobs on RQ (REDIS_URL set): read from RQ's failed-job registries, retried as a new job.

The same `FailedJob` records and audited retry as the database queue (`ops.jobs`), so the `/jobs/`
page and `manage jobs` work on either backend. A retry is remembered in the failed job's meta
(`retried_as`), as the database queue remembers it by a later job with the same arguments.
"""

from __future__ import annotations

import datetime
from typing import Any, cast

import django_rq
from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django_tasks.base import Task
from django_tasks_rq.backend import Job
from rq.exceptions import NoSuchJobError
from rq.registry import FailedJobRegistry

RETRIED_AS = "muhafiz_retried_as"


def _job(job_id: str) -> Job | None:
    try:
        job = Job.fetch(job_id, connection=django_rq.get_connection())
    except NoSuchJobError:
        return None
    return cast(Job, job)


def failed_rq_jobs(limit: int) -> list[dict[str, Any]]:
    """The failed jobs of every queue as plain records, newest first."""
    records: list[dict[str, Any]] = []
    for name in settings.TASK_QUEUES:
        queue = django_rq.get_queue(name, job_class=Job)
        registry = FailedJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            job = _job(job_id)
            if job is None:
                continue
            result = job.latest_result()
            exceptions = job.meta.get("_django_tasks_rq_exceptions", [])
            records.append(
                {
                    "id": job.id,
                    "task_path": job.func_name,
                    "queue_name": name,
                    "args": list(job.args),
                    "kwargs": dict(job.kwargs),
                    "exception_class_path": exceptions[-1] if exceptions else "Exception",
                    "traceback": (result.exc_string if result is not None else "") or "",
                    "enqueued_at": _aware(job.enqueued_at or job.created_at),
                    "finished_at": _aware(job.ended_at) if job.ended_at else None,
                    "retried_as": job.meta.get(RETRIED_AS),
                }
            )
    records.sort(key=_when, reverse=True)
    return records[:limit]


def _when(record: dict[str, Any]) -> datetime.datetime:
    moment: datetime.datetime = record["finished_at"] or record["enqueued_at"]
    return moment


def _aware(moment: datetime.datetime) -> datetime.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


class NotFailedError(RuntimeError):
    pass


def failed_rq_job(job_id: str) -> tuple[Job, Task[Any, Any]]:
    """The failed job and its task; LookupError, NotFailedError or ImportError otherwise."""
    job = _job(job_id)
    if job is None:
        raise LookupError(job_id)
    if not job.is_failed:
        raise NotFailedError(str(job.get_status()))
    try:
        task = job.func
    except (ImportError, AttributeError, SuspiciousOperation) as exc:
        raise ImportError(job.func_name) from exc
    return job, task


def mark_retried(job: Job, new_id: str) -> None:
    job.meta[RETRIED_AS] = new_id
    job.save_meta()  # type: ignore[no-untyped-call]
