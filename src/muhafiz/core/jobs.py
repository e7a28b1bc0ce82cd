"""Background jobs: Django's tasks API on the database queue (or RQ on Redis when REDIS_URL is
set), queued after commit, retried by hand.

Apps declare tasks with `django_tasks.task` in their own `tasks.py` and queue them with
`enqueue_on_commit`, so a worker never sees a row that was rolled back. `muhafiz worker` drains
the queue (`db_worker`, or RQ's `rqworker` on Redis: `worker_command`); any number of workers may
run against one queue: on the database each claims a task with `SELECT … FOR UPDATE SKIP LOCKED`
(an exclusive transaction on SQLite), on Redis RQ pops it atomically. A task that raises is kept
as FAILED with its exception and traceback; an administrator lists failed jobs and retries one
(`muhafiz.ops.jobs`), which enqueues the same task again and is audited.
"""

from __future__ import annotations

import json
from typing import Any, ParamSpec, TypeVar

from django.db import transaction
from django_tasks.base import Task

P = ParamSpec("P")
T = TypeVar("T")

# Queues named in settings.TASKS: "default" for small jobs, "scans" for triage work that can run
# for hours, "clocks" for statutory-deadline checks that must not wait behind scans.
DEFAULT_QUEUE = "default"
SCANS_QUEUE = "scans"
CLOCKS_QUEUE = "clocks"


def enqueue_on_commit(task: Task[P, T], *args: P.args, **kwargs: P.kwargs) -> None:
    """Queue `task` once the current transaction commits (at once when there is none).

    Arguments must be JSON values (ids and codes, not model instances). They and the task's
    queue are checked now, so a bad call fails inside the caller's transaction instead of after
    its commit, when the job would be lost.
    """
    task.get_backend().validate_task(task)
    try:
        json.dumps({"args": args, "kwargs": kwargs})
    except TypeError as exc:
        raise TypeError(f"arguments of {task.module_path} must be JSON values: {exc}") from exc
    transaction.on_commit(lambda: _enqueue(task, args, kwargs))


def uses_rq() -> bool:
    """Whether the configured backend is RQ on Redis (REDIS_URL set) rather than the database."""
    from django.conf import settings

    backend = str(settings.TASKS["default"]["BACKEND"])
    return backend == settings.RQ_TASKS_BACKEND


def worker_command(queues: list[str], *, batch: bool) -> tuple[str, list[str]]:
    """The management command (and its arguments) that drains `queues` (all when empty) on the
    configured backend: `db_worker` on the database queue, django-rq's `rqworker` on Redis, with
    the job class that runs Django tasks. `batch` exits once the queues are empty."""
    from django.conf import settings

    if uses_rq():
        args = list(queues or settings.TASK_QUEUES)
        args += ["--job-class", "muhafiz.core.jobs_rq.Job"]
        if batch:
            args.append("--burst")
        return "rqworker", args
    args = ["--queue-name", ",".join(queues) if queues else "*"]
    if batch:
        args.append("--batch")
    # django-tasks-db's db_worker with a heartbeat: a killed worker's job is queued again.
    return "muhafiz_db_worker", args


def _enqueue(task: Task[Any, Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    task.enqueue(*args, **kwargs)
