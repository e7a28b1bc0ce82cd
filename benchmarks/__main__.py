"""Run every benchmark one after another (`make bench`); each rewrites its RESULTS.md section.

The benchmarks take long (tens of minutes, mostly corpus generation on the first run) and need
PostgreSQL for the case database; name one to run only that: `python -m benchmarks banks`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = {
    "triage": [sys.executable, "benchmarks/triage/run.py"],
    "phonevideo": [sys.executable, "benchmarks/phonevideo/run.py"],
    "diskimage": [sys.executable, "benchmarks/diskimage/run.py"],
    "banks": [sys.executable, "benchmarks/banks/run.py"],
    "cases": [sys.executable, "-m", "benchmarks.cases"],
    "linking": [sys.executable, "benchmarks/linking/run.py"],
    "web": [sys.executable, "benchmarks/web/run.py"],
    "insights": [sys.executable, "-m", "benchmarks.insights"],
    "scaling": [sys.executable, "benchmarks/scaling_model.py"],
}


def main(names: list[str]) -> int:
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
        return 2
    failed = 0
    for name in names or list(BENCHMARKS):
        print(f"=== benchmark: {name}", flush=True)
        result = subprocess.run(BENCHMARKS[name], cwd=ROOT, check=False)
        failed |= result.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
