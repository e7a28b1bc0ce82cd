"""Keeping a case's clocks in step with the case itself, without the cases app calling us.

When a case is opened its report starts the clocks that run from the report (FIR within two hours
for a missing child); when its facts change, rules whose condition now holds start. Both happen
after the case's own transaction commits, so the case write never waits on (or fails with) the
proceedings. The clock job does the same for any case this missed (`_open_missing_proceedings`).
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def case_saved(case_id: int, created: bool) -> None:
    """The `cases.case_saved` hook's receiver; the hook calls it after the case's commit."""
    _sync(case_id, created)


def _sync(case_id: int, created: bool) -> None:
    from muhafiz.cases.models import Case, CaseStatus
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.proceedings import actions
    from muhafiz.proceedings.models import CaseProgress

    case = Case.objects.filter(pk=case_id, status=CaseStatus.OPEN).first()
    if case is None:
        return
    try:
        if created or not CaseProgress.objects.filter(case_id=case_id).exists():
            actions.start_proceedings(SYSTEM, case)
        else:
            actions.refresh_clocks(SYSTEM, case)
    except Exception:
        # The clock job will open or refresh this case on its next run; record why it failed.
        log.exception("clocks of case %s could not be brought up to date", case_id)
