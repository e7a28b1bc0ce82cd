"""Background jobs of the evidence app: scanning a source on the server (queue `scans`), and the
analysis of an imported scan (server banks, cross-case links; queue `default`).

The tasks are defined beside their bodies in `actions/scans.py`, which queues them; they are named
here so workers and tests find the evidence app's jobs in one place.
"""

from __future__ import annotations

from muhafiz.evidence.actions.scans import analyse_scan, run_scan_shards, run_server_scan

__all__ = ["analyse_scan", "run_scan_shards", "run_server_scan"]
