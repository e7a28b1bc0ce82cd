"""The cases app's hooks (`muhafiz.core.hooks`): other apps connect receivers in `ready()`.

Called by `cases.actions` after commit, never inside the case's own transaction, so a case write
never waits on (or fails with) the apps that listen.
"""

from __future__ import annotations

from muhafiz.core.hooks import Hook

case_saved = Hook(
    "cases.case_saved",
    "a case was opened (created=True) or its fields or status changed: (case_id: int, "
    "created: bool), after commit. Proceedings starts or refreshes its clocks.",
)

accused_identifiers_changed = Hook(
    "cases.accused_identifiers_changed",
    "an accused's CNIC, phones or handles were set: (accused: Accused), after commit. "
    "Evidence links the case to every other case whose accused share one.",
)
