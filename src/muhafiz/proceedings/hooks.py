"""The proceedings app's hooks (`muhafiz.core.hooks`): other apps connect receivers in `ready()`."""

from __future__ import annotations

from muhafiz.core.hooks import Hook

dashboard_summary = Hook(
    "proceedings.dashboard_summary",
    "the overdue dashboard's figures are wanted: (principal, filters: DashboardFilter, groups: "
    "tuple[str, ...], limit: int | None) -> (Dashboard, as_of: datetime) read from precomputed "
    "summary tables, or None when they cannot answer (the dashboard is then computed live). "
    "Insights answers from its summary tables.",
)
