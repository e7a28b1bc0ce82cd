"""Fixtures: run a scan into tmp_path and read back what it recorded."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from muhafiz.triage.engine import Passwords, ScanOptions, start_scan
from muhafiz.triage.settings import ScanSettings


@dataclass
class ScanResult:
    path: Path
    files: dict[str, dict[str, Any]]
    errors: dict[str, list[tuple[str, str]]]  # path -> [(code, message)]
    matches: list[dict[str, Any]] = field(default_factory=list)

    def codes(self, path: str) -> list[str]:
        return sorted(code for code, _ in self.errors.get(path, []))


def read_scan(path: Path) -> ScanResult:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        files = {row["path"]: dict(row) for row in conn.execute("SELECT * FROM files")}
        errors: dict[str, list[tuple[str, str]]] = {}
        for row in conn.execute("SELECT path, code, message FROM errors"):
            errors.setdefault(row["path"], []).append((row["code"], row["message"]))
        matches = [dict(row) for row in conn.execute("SELECT * FROM matches")]
    finally:
        conn.close()
    return ScanResult(path, files, errors, matches)


Scanner = Callable[..., ScanResult]


@pytest.fixture
def scan(tmp_path: Path) -> Scanner:
    counter = iter(range(1000))

    def run(
        *sources: Path,
        banks: Sequence[Path] = (),
        known_good: Sequence[Path] = (),
        workers: int = 1,
        settings: ScanSettings | None = None,
        out: Path | None = None,
        passwords: Passwords | None = None,
    ) -> ScanResult:
        target = out or tmp_path / f"scan-{next(counter)}.scan"
        start_scan(
            ScanOptions(
                sources=list(sources),
                out=target,
                banks=list(banks),
                known_good=list(known_good),
                case_ref="TEST-1",
                examiner="Test Examiner",
                workers=workers,
                settings=settings or ScanSettings(),
                passwords=passwords or Passwords(),
            )
        )
        return read_scan(target)

    return run
