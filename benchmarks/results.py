"""Writing a benchmark's section of benchmarks/RESULTS.md (between its start and end markers)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def uptime() -> str:
    """`uptime` in UTC: the load the figures were measured under."""
    return subprocess.run(
        ["uptime"], capture_output=True, text=True, check=False, env={**os.environ, "TZ": "UTC"}
    ).stdout.strip()


def write_section(name: str, heading: str, text: str) -> None:
    """Replace the text between `<!-- name:start -->` and `<!-- name:end -->`, adding the
    section under `heading` at the end the first time."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    content = RESULTS.read_text(encoding="utf-8")
    if start not in content:
        content += f"\n## {heading}\n{start}\n{end}\n"
    head, rest = content.split(start, 1)
    _, tail = rest.split(end, 1)
    RESULTS.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")
