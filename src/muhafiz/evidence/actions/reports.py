"""The court report of a stored scan, downloaded from its page: the same report code the field
laptop's `muhafiz report` runs (`muhafiz.triage.reports`), on the stored scan file after its
SHA-256 is checked again, audited as a read of the case's evidence. No report shows an image, and
a scan file holds no victim's identity."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muhafiz.audit.actions import record
from muhafiz.evidence.actions._common import (
    ScanImportError,
    require_evidence_view,
    scans_dir,
    sha256_of,
)
from muhafiz.evidence.actions.scans import stored_file
from muhafiz.evidence.models import Scan

# What the scan page offers: the formats a court or a partner receives (vPDQ frame hashes stay
# with the command line).
REPORT_FORMATS: dict[str, tuple[Any, str, str]] = {
    "pdf": (gettext_lazy("PDF report"), "application/pdf", "pdf"),
    "html": (gettext_lazy("HTML report"), "text/html; charset=utf-8", "html"),
    "csv": (gettext_lazy("CSV of every file"), "text/csv; charset=utf-8", "csv"),
    "vics": (gettext_lazy("VICS 2.0 case export"), "application/json", "json"),
}


@dataclass(frozen=True)
class CourtReport:
    path: Path  # a temporary file under the scans folder; the caller removes it
    filename: str
    content_type: str


def write_court_report(
    actor: Any, scan: Scan, fmt: str, *, request: HttpRequest | None = None
) -> CourtReport:
    """Write the report of `scan` in `fmt` to a temporary file and audit the download."""
    from muhafiz.triage.reports import write_report

    require_evidence_view(actor, scan.case)
    if fmt not in REPORT_FORMATS:
        raise ScanImportError(_("Unknown report format."))
    source = stored_file(scan)
    if not scan.stored_path or not source.is_file():
        raise ScanImportError(_("The stored scan file is missing."))
    if sha256_of(source) != scan.file_sha256:
        raise ScanImportError(
            _("The stored scan file has changed since it was imported (SHA-256 differs).")
        )
    _label, content_type, suffix = REPORT_FORMATS[fmt]
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - the caller streams and removes it
        dir=scans_dir(), prefix="report-", suffix=f".{suffix}", delete=False
    )
    handle.close()
    out = Path(handle.name)
    try:
        write_report(source, fmt, out)
        with transaction.atomic():
            record(
                actor,
                "evidence.scan.report",
                scan,
                request=request,
                case=scan.case.reference,
                format=fmt,
                sha256=scan.file_sha256,
            )
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    filename = f"{scan.case.reference}-scan-{scan.pk}.{suffix}".replace("/", "-")
    return CourtReport(out, filename, content_type)
