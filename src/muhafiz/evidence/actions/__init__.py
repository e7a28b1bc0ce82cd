"""Every write to the evidence tables, by topic: `items` (seized items and custody), `scans`
(uploaded scan files, server scans), `reports` (a scan's court report) and `media` (categories,
reveals, adding to a bank); what they share is in `_common`.

Each action checks its permission first, writes and audits in one transaction
(`core/tests/test_action_permissions.py` calls every one without the permission).
"""

from muhafiz.evidence.actions._common import (
    BATCH,
    CHUNK,
    PREVIEW_SIDE,
    ScanImportError,
    UploadTooLargeError,
    require_evidence_view,
    scan_roots,
    scans_dir,
    sha256_of,
)
from muhafiz.evidence.actions.corrections import (
    correct_custody,
    correct_item,
    void_custody,
    void_item,
)
from muhafiz.evidence.actions.items import (
    RECIPIENT_REFUSED,
    ItemDetails,
    create_item,
    record_handover,
)
from muhafiz.evidence.actions.media import Preview, add_to_bank, categorize, reveal_media
from muhafiz.evidence.actions.reports import REPORT_FORMATS, CourtReport, write_court_report
from muhafiz.evidence.actions.scans import (
    analyse_scan,
    check_scan_file,
    check_source_path,
    import_uploaded_scan,
    open_scan,
    perform_scan_analysis,
    perform_server_scan,
    queue_server_scan,
    record_scan_progress,
    scan_statistics,
    stored_file,
)

__all__ = [
    "BATCH",
    "CHUNK",
    "PREVIEW_SIDE",
    "RECIPIENT_REFUSED",
    "REPORT_FORMATS",
    "CourtReport",
    "ItemDetails",
    "Preview",
    "ScanImportError",
    "UploadTooLargeError",
    "add_to_bank",
    "analyse_scan",
    "categorize",
    "check_scan_file",
    "check_source_path",
    "correct_custody",
    "correct_item",
    "create_item",
    "import_uploaded_scan",
    "open_scan",
    "perform_scan_analysis",
    "perform_server_scan",
    "queue_server_scan",
    "record_handover",
    "record_scan_progress",
    "require_evidence_view",
    "reveal_media",
    "scan_roots",
    "scan_statistics",
    "scans_dir",
    "sha256_of",
    "stored_file",
    "void_custody",
    "void_item",
    "write_court_report",
]
