"""Background jobs of the insights app: the summary refresh (default queue) and the overdue
dashboard's refresh after each clock job (clocks queue, so it never waits behind scans)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from muhafiz.core.jobs import CLOCKS_QUEUE, enqueue_on_commit
from muhafiz.core.permissions import SYSTEM
from muhafiz.insights.actions import refresh_overdue, refresh_summaries


@task()
def refresh_summaries_task() -> dict[str, Any]:
    """Run by `refresh_insights --enqueue` (from cron or a scheduler) in any `muhafiz worker`."""
    done = refresh_summaries(SYSTEM)
    return {"cases_counted": done.cases_counted, "rows": done.rows, "seconds": done.seconds}


@task(queue_name=CLOCKS_QUEUE)
def refresh_overdue_task() -> dict[str, Any]:
    """Queued after every run of the clock job (`queue_overdue_refresh`), and by
    `refresh_insights --overdue --enqueue`."""
    done = refresh_overdue(SYSTEM)
    return {"rows": done.rows, "seconds": done.seconds}


def queue_overdue_refresh(missed: int = 0, due_soon: int = 0) -> None:
    """The clock job ran (proceedings' `clocks_evaluated` hook, after its commit): queue the
    overdue dashboard's refresh, so the dashboard shows what the clocks now say."""
    enqueue_on_commit(refresh_overdue_task)
