"""Smoke test of the overdue dashboard benchmark at a tiny size (RESULTS.md untouched); needs
PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from benchmarks.cases.test_cases_bench_smoke import ROOT, _postgres_reachable


@pytest.mark.slow
@pytest.mark.skipif(not _postgres_reachable(), reason="PostgreSQL is not running on 127.0.0.1")
def test_overdue_dashboard_benchmark_runs_end_to_end_at_a_tiny_size() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.insights.overdue",
            *("--cases", "300", "--runs", "2", "--live-runs", "1"),
            *("--database", f"muhafiz_bench_overdue_smoke_{os.getpid()}", "--no-results"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "after: whole page `GET /proceedings/dashboard/`" in done.stdout
