"""`muhafiz worker` on the database queue: django-tasks-db's worker with a heartbeat, so that a
job whose worker was killed is not left RUNNING forever (decision 0003).

The worker writes its row of `ops.WorkerHeartbeat` when it starts and renews it from a thread
every `MUHAFIZ_DB_HEARTBEAT_SECONDS`, between jobs and during one. The same thread (and the
worker once at its start, before it takes a job) runs the queue's maintenance:
`ops.jobs.requeue_abandoned_jobs` queues again every RUNNING job whose worker has been silent
for `MUHAFIZ_DB_ABANDONED_SECONDS`, audited, at most `MUHAFIZ_DB_ABANDONED_RETRIES` times. Any
live worker does it, so a job is retried as long as one worker runs. A job is run again only
after its worker went silent, never while it beats: every job must be safe to run twice (ours
are; a server scan's shards hold leases of their own).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker as DbWorker

from muhafiz.core.permissions import SYSTEM
from muhafiz.ops.jobs import requeue_abandoned_jobs
from muhafiz.ops.models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def heartbeat_seconds() -> float:
    return max(0.2, float(settings.MUHAFIZ_DB_HEARTBEAT_SECONDS))


class _Heartbeat:
    """The worker's heartbeat and the queue's maintenance, on a thread of their own."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True, name="worker-heartbeat")

    def beat(self) -> None:
        now = timezone.now()
        WorkerHeartbeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={"beat_at": now, "host": socket.gethostname()[:200], "pid": os.getpid()},
            create_defaults={
                "beat_at": now,
                "started_at": now,
                "host": socket.gethostname()[:200],
                "pid": os.getpid(),
            },
        )

    def start(self) -> None:
        self.beat()
        maintain()
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)
        WorkerHeartbeat.objects.filter(worker_id=self.worker_id).delete()

    def _run(self) -> None:
        try:
            while not self.stopped.wait(heartbeat_seconds()):
                try:
                    self.beat()
                    maintain()
                except Exception:  # a busy or lost database: try again at the next beat
                    logger.exception("the heartbeat of worker %s failed", self.worker_id)
        finally:
            connection.close()


def maintain() -> None:
    """Queue again the jobs of workers that went silent (logged; never stops the worker)."""
    try:
        for job in requeue_abandoned_jobs(SYSTEM):
            logger.warning("job %s (%s) was abandoned by its worker: %s", *job)
    except Exception:
        logger.exception("looking for abandoned jobs failed")


class Worker(DbWorker):
    """django-tasks-db's worker, beating while it runs."""

    def run(self) -> None:
        heartbeat = _Heartbeat(self.worker_id)
        heartbeat.start()
        try:
            super().run()
        finally:
            heartbeat.stop()


class Command(DbWorkerCommand):
    """django-tasks-db's `db_worker` command, with the options it has, running our Worker."""

    help = "Run a database queue worker with a heartbeat (muhafiz worker)"

    def handle(
        self,
        *,
        verbosity: int,
        queue_name: str,
        interval: float,
        batch: bool,
        backend_name: str,
        startup_delay: bool,
        reload: bool,
        max_tasks: int | None,
        worker_id: str,
        exclude_queues: str,
        **options: Any,
    ) -> None:
        self.configure_logging(verbosity)
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queue_names,
            interval=interval,
            batch=batch,
            backend_name=backend_name,
            startup_delay=startup_delay,
            max_tasks=max_tasks,
            worker_id=worker_id,
            excluded_queue_names=excluded,
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only the child process handles them
            run_with_reloader(worker.run)
            return
        worker.configure_signals()
        worker.run()
