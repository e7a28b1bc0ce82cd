"""Aggregates for the public accountability dashboard, with small counts suppressed."""

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "muhafiz.insights"
    label = "insights"

    def ready(self) -> None:
        from muhafiz.insights.overdue import dashboard_from_summary
        from muhafiz.proceedings.hooks import dashboard_summary

        # The staff overdue dashboard reads the summary tables instead of every clock.
        dashboard_summary.connect(dashboard_from_summary, uid="insights.overdue_dashboard")
