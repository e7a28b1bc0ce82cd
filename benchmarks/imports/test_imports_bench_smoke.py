"""Smoke test of the imports benchmark at a tiny size on SQLite (RESULTS.md untouched)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_imports_benchmark_runs_at_a_tiny_size() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "MUHAFIZ_PROFILE"}}
    done = subprocess.run(
        [sys.executable, "benchmarks/imports/run.py", "--pdq", "500", "--nsrl", "300"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # SQLite: the chunked move (before) beside the move with the indexes built again (now).
    assert "| PDQ | 500 | before: moved in chunks |" in done.stdout
    assert "| PDQ | 500 | now: unique indexes built again from 200,000 rows |" in done.stdout
    assert "| NSRL | 300 | before: moved in chunks, a record per row |" in done.stdout
    assert (
        "| NSRL | 300 | now: unique indexes built again from 200,000 rows, "
        "rows checked a batch at a time |"
    ) in done.stdout
    assert "`.venv/bin/python benchmarks/imports/run.py --pdq 500 --nsrl 300`" in done.stdout
