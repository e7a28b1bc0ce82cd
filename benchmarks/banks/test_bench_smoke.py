"""Smoke test of the bank benchmark code at a tiny size (no baseline, RESULTS.md untouched)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parent / "run.py"


def test_bank_benchmark_runs_end_to_end_at_a_tiny_size() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--size",
            "70000",
            "--queries",
            "50",
            "--sha1",
            "20000",
            "--cli-queries",
            "100",
            "--no-baseline",
            "--no-results",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| recall vs brute force | 100.00% |" in done.stdout


def test_sizes_benchmark_runs_end_to_end_at_a_tiny_size() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(RUN.parent / "sizes.py"),
            "--sizes",
            "70000",
            "--repeats",
            "1",
            "--no-baseline",
            "--no-results",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| 70,000 |" in done.stdout
    assert "| 100.00% | 31 |" in done.stdout
