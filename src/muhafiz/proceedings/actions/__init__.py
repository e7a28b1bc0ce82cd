"""The writes of the proceedings app, by topic: `stages` (the report and each stage event),
`corrections` (an event corrected or voided with a reason, the report's date), `clocks` (the
clocks a case's events start and stop, and their alerts), `job` (the clock job).

Every action checks its permission first: people record stages with CASE_EDIT on the case; the
system (`core.permissions.SYSTEM`) opens proceedings and refreshes clocks from the cases app's
hook, and alone runs the clock job and raises clock alerts.
"""

from muhafiz.proceedings.actions.clocks import (
    ALERT_RECIPIENT_ROLES,
    ALSO_STOPS,
    DERIVED_CONDITIONS,
    raise_clock_alerts,
    refresh_clocks,
)
from muhafiz.proceedings.actions.corrections import correct_stage_event, void_stage_event
from muhafiz.proceedings.actions.job import Evaluation, evaluate_clocks
from muhafiz.proceedings.actions.stages import (
    FUTURE_TOLERANCE,
    NEEDS_FIR,
    PREREQUISITES,
    record_stage_event,
    start_proceedings,
)

__all__ = [
    "ALERT_RECIPIENT_ROLES",
    "ALSO_STOPS",
    "DERIVED_CONDITIONS",
    "FUTURE_TOLERANCE",
    "NEEDS_FIR",
    "PREREQUISITES",
    "Evaluation",
    "correct_stage_event",
    "evaluate_clocks",
    "raise_clock_alerts",
    "record_stage_event",
    "refresh_clocks",
    "start_proceedings",
    "void_stage_event",
]
