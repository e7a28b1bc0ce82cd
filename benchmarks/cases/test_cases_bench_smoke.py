"""Smoke test of the case benchmark at a tiny size (RESULTS.md untouched); needs PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _postgres_reachable(), reason="PostgreSQL is not running on 127.0.0.1")
def test_case_benchmark_runs_end_to_end_at_a_tiny_size() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.cases",
            "--cases",
            "300",
            "--requests",
            "5",
            "--database",
            f"muhafiz_bench_smoke_{os.getpid()}",  # one per run: runs side by side never share it
            "--no-results",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| overdue dashboard `/proceedings/dashboard/`, national analyst" in done.stdout
    assert "| the same again at once (alerts once) |" in done.stdout
