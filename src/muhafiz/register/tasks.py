"""Background jobs of the register, on the clocks queue: the daily compliance evaluation, and
the short clocks (checks past their 48 hours, reviews past their decision date)."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from muhafiz.core.permissions import SYSTEM
from muhafiz.register.actions import evaluate_compliance, evaluate_register_clocks


@task(queue_name="clocks")
def evaluate_compliance_task() -> dict[str, Any]:
    """Run by `run_register_compliance --enqueue` (cron, once a day) in any `muhafiz worker`."""
    run = evaluate_compliance(SYSTEM)
    return {
        "missed": run.missed,
        "non_compliant": run.non_compliant,
        "absconders": run.absconders,
        "alerts": run.alerts,
        "removal_due": run.removal_due,
        "seconds": round(run.seconds, 3),
    }


@task(queue_name="clocks")
def evaluate_register_clocks_task() -> dict[str, Any]:
    """Run by `run_register_clocks --enqueue` with the statutory clocks (every 15 minutes)."""
    run = evaluate_register_clocks(SYSTEM)
    return {"checks": run.checks, "reviews": run.reviews, "alerts": run.alerts}
