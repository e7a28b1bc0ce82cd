"""Operations' own rows: the heartbeats of database-queue workers (`ops.db_worker`)."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """A `muhafiz worker` on the database queue that is alive: it renews `beat_at` every few
    seconds while it runs (between jobs and during one). A job left RUNNING by a worker whose
    heartbeat has lapsed was abandoned (the worker was killed, or its machine lost power) and is
    queued again (`ops.jobs.requeue_abandoned_jobs`)."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=200, blank=True)
    pid = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField()

    class Meta:
        ordering = ["worker_id"]

    def __str__(self) -> str:
        return f"worker {self.worker_id} on {self.host} pid {self.pid}"
