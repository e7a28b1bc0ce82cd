"""Background job of the proceedings app: the statutory-clock evaluation, on the clocks queue."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from muhafiz.core.permissions import SYSTEM
from muhafiz.proceedings.actions import evaluate_clocks


@task(queue_name="clocks")
def evaluate_clocks_task() -> dict[str, Any]:
    """Run by `run_clocks --enqueue` (from cron or a scheduler) in any `muhafiz worker`."""
    result = evaluate_clocks(SYSTEM)
    return {
        "started": result.started,
        "due_soon": result.due_soon,
        "missed": result.missed,
        "alerts": result.alerts,
        "seconds": round(result.seconds, 3),
    }
