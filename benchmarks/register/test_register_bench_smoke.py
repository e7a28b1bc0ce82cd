"""Smoke test of the register benchmark at a tiny size (RESULTS.md untouched); needs PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.cases.test_cases_bench_smoke import _postgres_reachable

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(not _postgres_reachable(), reason="PostgreSQL is not running on 127.0.0.1")
def test_register_benchmark_runs_end_to_end_at_a_tiny_size() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.register",
            "--registrants",
            "600",
            "--requests",
            "4",
            "--database",
            f"muhafiz_bench_register_smoke_{os.getpid()}",
            "--no-results",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| approved check: the prosecutor's `decide_check`" in done.stdout
    assert "| the same again at once (alerts once) |" in done.stdout
