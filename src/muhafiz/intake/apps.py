"""Confidential reports, helpline intake and CyberTipline referral import, routed to districts."""

from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "muhafiz.intake"
    label = "intake"

    def ready(self) -> None:
        from muhafiz.core.statistics import statistics_counts
        from muhafiz.intake import statistics

        # insights adds these counts to its summary tables on every refresh.
        statistics_counts.connect(statistics.counts, uid="intake.counts")
