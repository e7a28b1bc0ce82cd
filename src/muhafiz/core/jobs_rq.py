"""Jobs on RQ (REDIS_URL set): django-tasks-rq with three changes of ours, named in settings.

- **A job whose worker dies is run again.** Every job is enqueued with RQ's `Retry`
  (`MUHAFIZ_RQ_ABANDONED_RETRIES`, 3 by default). A worker killed with SIGKILL, or a machine
  that loses power, leaves its job in the queue's StartedJobRegistry; once the job's heartbeat has
  lapsed (`MUHAFIZ_RQ_ABANDONED_SECONDS` after the last one), the next registry cleanup of any
  worker (every `MUHAFIZ_RQ_MAINTENANCE_SECONDS`) queues it again (RQ's
  `StartedJobRegistry.cleanup`). A job that *raised* is not retried by itself (`Job.should_retry`):
  it stays failed with its traceback until an administrator retries it (`ops.jobs`), exactly as on
  the database queue. Every job must therefore be safe to run twice (ours are).
- **A job can be given its id before it is queued** (`preset_job_id`), so an action can audit the
  id of a job it queues only when its transaction commits (`ops.jobs.retry_task`).
- **An idle worker stops at once on SIGTERM** (`Worker.unsubscribe`): RQ 3 unsubscribes its
  command channel and then stops the listening thread; redis-py 8 waits for that thread without a
  limit, and the thread, woken by the unsubscribe reply before it was told to stop, went back to
  waiting for up to 60 s. `systemctl stop` then waited a minute. The thread is told to stop first.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar

import django_rq
from django_tasks.base import TASK_MAX_PRIORITY, Task, TaskResult, TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks.utils import get_random_id
from django_tasks_rq import backend as rq_backend
from rq import Retry
from rq import Worker as RQWorker
from rq.callbacks import Callback
from rq.job import JobStatus
from rq.worker import SimpleWorker as RQSimpleWorker

P = ParamSpec("P")
T = TypeVar("T")

_PRESET_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "muhafiz_preset_job_id", default=None
)


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def abandoned_retries() -> int:
    """How many times a job whose worker died is queued again before it is kept as failed."""
    return max(0, _env_int("MUHAFIZ_RQ_ABANDONED_RETRIES", 3))


def new_job_id() -> str:
    """An id for a job that will be queued later (`preset_job_id`)."""
    return get_random_id()


@contextmanager
def preset_job_id(job_id: str) -> Iterator[None]:
    """The next job queued in this context gets `job_id` instead of a random one."""
    token = _PRESET_ID.set(job_id)
    try:
        yield
    finally:
        _PRESET_ID.reset(token)


class Job(rq_backend.Job):
    """django-tasks-rq's job, never retried automatically after it raised (only after its worker
    died: RQ's registry cleanup reads `retries_left` itself, not `should_retry`)."""

    @property
    def should_retry(self) -> bool:
        return False


class RQBackend(rq_backend.RQBackend):
    """django-tasks-rq's backend; its jobs carry RQ's `Retry` and may have a preset id."""

    def enqueue(
        self,
        task: Task[P, T],
        args: P.args,  # type: ignore[valid-type]
        kwargs: P.kwargs,  # type: ignore[valid-type]
    ) -> TaskResult[T]:
        self.validate_task(task)
        job_id = _PRESET_ID.get() or get_random_id()
        _PRESET_ID.set(None)  # one job only
        result: TaskResult[T] = TaskResult(
            task=task,
            id=job_id,
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        queue = django_rq.get_queue(task.queue_name, job_class=Job)
        retries = abandoned_retries()
        job = queue.create_job(
            task.module_path,
            args=args,
            kwargs=kwargs,
            job_id=job_id,
            status=JobStatus.SCHEDULED if task.run_after else JobStatus.QUEUED,
            on_failure=Callback(rq_backend.failed_callback),
            on_success=Callback(rq_backend.success_callback),
            meta={"backend_name": self.alias},
            retry=Retry(max=retries) if retries else None,
        )
        if task.run_after is None:
            job = queue.enqueue_job(job, at_front=task.priority == TASK_MAX_PRIORITY)
        else:
            job = queue.schedule_job(job, task.run_after)
        object.__setattr__(result, "enqueued_at", job.enqueued_at)
        task_enqueued.send(type(self), task_result=result)
        return result


class _PromptStop:
    """Stops the command-channel thread before unsubscribing it (see the module's note)."""

    pubsub: Any
    pubsub_thread: Any

    def unsubscribe(self) -> None:
        thread = self.pubsub_thread
        if thread is None:
            return
        # First: the unsubscribe reply that wakes the thread must find it told to stop.
        thread.stop(timeout=0)
        self.pubsub.unsubscribe()
        thread.join(timeout=2)
        self.pubsub.close()
        self.pubsub_thread = None


class Worker(_PromptStop, RQWorker):
    """RQ's forking worker: stops promptly when idle; abandoned jobs found on a schedule the
    operator sets (`MUHAFIZ_RQ_MAINTENANCE_SECONDS`, `MUHAFIZ_RQ_ABANDONED_SECONDS`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "maintenance_interval", max(1, _env_int("MUHAFIZ_RQ_MAINTENANCE_SECONDS", 600))
        )
        kwargs.setdefault(
            "job_monitoring_interval", max(1, _env_int("MUHAFIZ_RQ_HEARTBEAT_SECONDS", 30))
        )
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        # An idle worker waits for work in one blocking read (RQ: the worker's TTL less 15 s,
        # 405 s by default) and looks for abandoned jobs only between two reads; so no read
        # outlasts the maintenance interval, or a killed job would wait that long to be retried.
        interval = int(getattr(self, "maintenance_interval", 600))
        return max(1, min(int(super().dequeue_timeout), interval))

    def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
        # RQ allows 60 s past the monitoring interval before a silent job counts as abandoned.
        grace = max(1, _env_int("MUHAFIZ_RQ_ABANDONED_SECONDS", 60))
        if job.timeout and job.timeout > 0:
            remaining = job.timeout - working_time
            return int(min(remaining, self.job_monitoring_interval)) + grace
        return int(self.job_monitoring_interval) + grace


class SimpleWorker(_PromptStop, RQSimpleWorker):
    """RQ's worker that runs jobs in its own process (the tests' `drain_job_queues`)."""
