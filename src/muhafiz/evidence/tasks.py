"""Background jobs of the evidence app: scanning a source on the server (queue `scans`).

The task is defined beside its body in `actions/scans.py`, which queues it; it is named here so
workers and tests find the evidence app's jobs in one place.
"""

from __future__ import annotations

from muhafiz.evidence.actions.scans import run_server_scan

__all__ = ["run_server_scan"]
