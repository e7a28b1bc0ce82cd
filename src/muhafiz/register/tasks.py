"""Background job of the register: the daily compliance evaluation, on the clocks queue."""

from __future__ import annotations

from typing import Any

from django_tasks import task

from muhafiz.core.permissions import SYSTEM
from muhafiz.register.actions import evaluate_compliance


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
