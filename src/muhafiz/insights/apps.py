"""Aggregates for the public accountability dashboard, with small counts suppressed."""

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "muhafiz.insights"
    label = "insights"

    def ready(self) -> None:
        from muhafiz.insights.overdue import dashboard_from_summary
        from muhafiz.insights.tasks import queue_overdue_refresh
        from muhafiz.proceedings.hooks import clocks_evaluated, dashboard_summary

        # The staff overdue dashboard reads the summary tables instead of every clock, and
        # those tables are rebuilt (through the job queue) after each run of the clock job.
        dashboard_summary.connect(dashboard_from_summary, uid="insights.overdue_dashboard")
        clocks_evaluated.connect(queue_overdue_refresh, uid="insights.overdue_refresh")
