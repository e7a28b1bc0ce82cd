"""Smoke test of the statistics benchmark at a tiny size (RESULTS.md untouched); needs
PostgreSQL."""

from __future__ import annotations

import subprocess
import sys

import pytest
from benchmarks.cases.test_cases_bench_smoke import ROOT, _postgres_reachable


@pytest.mark.slow
@pytest.mark.skipif(not _postgres_reachable(), reason="PostgreSQL is not running on 127.0.0.1")
def test_statistics_benchmark_runs_end_to_end_at_a_tiny_size() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.insights",
            *("--cases", "300", "--big", "600", "--requests", "40", "--clients", "4"),
            *("--overdue-runs", "1", "--database", "muhafiz_bench_insights_smoke"),
            "--no-results",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "public dashboard" in done.stdout
    assert "summary refresh at 600 cases" in done.stdout
