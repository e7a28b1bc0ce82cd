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

        # Late matching: what reaches a case after a referral was imported re-matches it.
        from muhafiz.cases.hooks import accused_identifiers_changed
        from muhafiz.evidence.hooks import scan_analysed
        from muhafiz.intake import tasks

        accused_identifiers_changed.connect(
            tasks.accused_identifiers_changed, uid="intake.rematch_accused"
        )
        scan_analysed.connect(tasks.scan_analysed, uid="intake.rematch_scan")
