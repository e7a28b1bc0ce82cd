"""Reports from a scan file: CSV, VICS 2.0 case export, HTML and PDF. None shows an image."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from muhafiz.triage.reports.data import ReportData, load_report_data

Writer = Callable[[ReportData, Path], None]


def _writers() -> dict[str, Writer]:
    from muhafiz.triage.reports import (
        csv_report,
        html_report,
        pdf_report,
        vics_report,
        vpdq_export,
    )

    return {
        "csv": csv_report.write,
        "vics": vics_report.write,
        "html": html_report.write,
        "pdf": pdf_report.write,
        "vpdq": vpdq_export.write,
    }


FORMATS = ("csv", "vics", "html", "pdf", "vpdq")


def write_report(scan_file: Path, fmt: str, out: Path) -> None:
    """Read `scan_file` (never modifying it) and write the report in `fmt` to `out`."""
    writer = _writers()[fmt]
    writer(load_report_data(scan_file), out)
