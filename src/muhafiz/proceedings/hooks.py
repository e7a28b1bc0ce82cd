"""The proceedings app's hooks (`muhafiz.core.hooks`): other apps connect receivers in `ready()`.

`judgment_recorded` and `clocks_evaluated` are called by `proceedings.actions` after commit,
never inside the write's own transaction, so recording a judgment or running the clock job
never waits on (or fails with) the apps that listen.
"""

from __future__ import annotations

from muhafiz.core.hooks import Hook

dashboard_summary = Hook(
    "proceedings.dashboard_summary",
    "the overdue dashboard's figures are wanted: (principal, filters: DashboardFilter, groups: "
    "tuple[str, ...], limit: int | None) -> (Dashboard, as_of: datetime) read from precomputed "
    "summary tables, or None when they cannot answer (the dashboard is then computed live). "
    "Insights answers from its summary tables.",
)

judgment_recorded = Hook(
    "proceedings.judgment_recorded",
    "a judgment or an appeal decision concerning one accused was recorded: (event_id: int), "
    "after commit. The register makes a pending entry from a conviction for a listed offence "
    "and suspends it on an acquittal on appeal.",
)

clocks_evaluated = Hook(
    "proceedings.clocks_evaluated",
    "the clock job evaluated every running clock: (missed: int, due_soon: int), after commit. "
    "Insights queues the overdue dashboard's refresh, so the dashboard follows each run.",
)
