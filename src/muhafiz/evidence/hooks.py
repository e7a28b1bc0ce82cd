"""The evidence app's hooks (`muhafiz.core.hooks`): other apps connect receivers in `ready()`."""

from __future__ import annotations

from muhafiz.core.hooks import Hook

scan_analysed = Hook(
    "evidence.scan_analysed",
    "a scan's files were matched and linked: (case_id: int, scan_id: int), after commit. "
    "Intake matches referrals holding the scan's file hashes.",
)
