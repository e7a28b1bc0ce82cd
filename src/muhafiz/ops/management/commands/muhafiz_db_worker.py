"""`muhafiz worker` on the database queue: django-tasks-db's `db_worker` with a heartbeat and
the requeueing of jobs whose worker died (`ops.db_worker`)."""

from muhafiz.ops.db_worker import Command

__all__ = ["Command"]
