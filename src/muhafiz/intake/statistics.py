"""Intake's counts for the published statistics (`core.statistics.statistics_counts`): reports
received that have not become a case (a case counts its own report), and reports referred to
child protection, per district and year. Counts only: no row is ever one report, and insights
suppresses small ones before publishing. A report has no victim record and so no statistics
consent of its own; nothing identifying is read here."""

from __future__ import annotations

from django.db.models import Count
from django.db.models.functions import ExtractYear

from muhafiz.core.statistics import StatisticsCount
from muhafiz.intake.models import ReferredTo, Report, ReportState


def counts() -> list[StatisticsCount]:
    rows: list[StatisticsCount] = []
    received = (
        Report.objects.exclude(state=ReportState.CASE_OPENED)
        .annotate(year=ExtractYear("received_at"))
        .values("district_id", "year")
        .annotate(n=Count("pk"))
        .order_by("district_id", "year")
    )
    rows += [
        StatisticsCount("reports_received", r["district_id"], r["year"], r["n"]) for r in received
    ]
    referred = (
        Report.objects.filter(referred_to=ReferredTo.CHILD_PROTECTION)
        .annotate(year=ExtractYear("received_at"))
        .values("district_id", "year")
        .annotate(n=Count("pk"))
        .order_by("district_id", "year")
    )
    rows += [StatisticsCount("referrals", r["district_id"], r["year"], r["n"]) for r in referred]
    return rows
