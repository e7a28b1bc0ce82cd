"""Background jobs of the evidence app: scanning a source on the server."""

from __future__ import annotations

from django_tasks import task

from muhafiz.core.permissions import SYSTEM
from muhafiz.evidence.actions import perform_server_scan


@task(queue_name="scans")
def run_server_scan(scan_id: int) -> dict[str, str | int]:
    """Run the triage engine on a queued server scan's source and import its scan file."""
    scan = perform_server_scan(SYSTEM, scan_id)
    return {"scan": scan.pk, "status": scan.status, "failure": scan.failure[:200]}
