"""Background job of the insights app: the summary refresh, on the default queue."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from muhafiz.core.permissions import SYSTEM
from muhafiz.insights.actions import refresh_summaries


@task()
def refresh_summaries_task() -> dict[str, Any]:
    """Run by `refresh_insights --enqueue` (from cron or a scheduler) in any `muhafiz worker`."""
    done = refresh_summaries(SYSTEM)
    return {"cases_counted": done.cases_counted, "rows": done.rows, "seconds": done.seconds}
