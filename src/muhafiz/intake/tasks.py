"""Background jobs of intake: matching referrals already imported against a case's accused
identifiers and evidence that arrived later (queued by the cases' and evidence's hooks)."""

from __future__ import annotations

from django_tasks import task

from muhafiz.core.jobs import enqueue_on_commit
from muhafiz.core.permissions import SYSTEM


@task()
def rematch_for_case(case_id: int, scan_id: int | None = None) -> dict[str, int | None]:
    """The job: the system matches the referrals sharing something with the case (or scan)."""
    from muhafiz.intake.actions import rematch_referrals_for_case

    found = rematch_referrals_for_case(SYSTEM, case_id, scan_id=scan_id)
    return {"case": case_id, "scan": scan_id, "new_matches": found}


def accused_identifiers_changed(accused: object) -> None:
    """Receiver of `cases.accused_identifiers_changed`."""
    enqueue_on_commit(rematch_for_case, int(accused.case_id))  # type: ignore[attr-defined]


def scan_analysed(case_id: int, scan_id: int) -> None:
    """Receiver of `evidence.scan_analysed`."""
    enqueue_on_commit(rematch_for_case, case_id, scan_id)
