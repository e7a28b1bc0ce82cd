"""The hook through which an app adds its own counts to the published statistics.

`insights` builds the summary tables of the public dashboard and the staff statistics from the
cases and proceedings apps. Apps on its own layer (intake: reports received that have not become
a case, referrals to child protection made from a report) cannot be imported by insights, so each
connects a receiver to `statistics_counts` in its `AppConfig.ready()`; insights calls it on every
refresh and adds what the receivers return to its tables:

    # intake/apps.py
    def ready(self):
        from muhafiz.core.statistics import statistics_counts
        statistics_counts.connect(intake.statistics.counts, uid="intake.counts")

    # intake/statistics.py — one row per district, year and measure, never per report
    def counts() -> list[StatisticsCount]:
        return [StatisticsCount("reports_received", district_id, year, n), ...]

Rows carry ids, years and numbers only; a receiver counts only what its subjects allow to be
counted (the reporter's or the victim's statistics consent), as insights does for cases.
"""

from __future__ import annotations

from dataclasses import dataclass

from muhafiz.core.hooks import Hook

# The measures another app may add to (insights' data dictionary describes them).
ADDABLE_MEASURES = frozenset({"reports_received", "referrals"})


@dataclass(frozen=True)
class StatisticsCount:
    """`value` of `measure` in district `district_id` (None: no district known) and `year`;
    `agency_id` is the agency that handled them, when there is one."""

    measure: str
    district_id: int | None
    year: int
    value: int
    agency_id: int | None = None


statistics_counts = Hook(
    "core.statistics_counts",
    "insights refreshes its summary tables: () -> a list of StatisticsCount to add (measures in "
    "ADDABLE_MEASURES; consented subjects only).",
)
