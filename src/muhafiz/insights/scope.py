"""Which summary rows a principal may read: the jurisdiction rule of `core.permissions` on the
summary tables, which hold a bare `district_id` (no foreign key)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from muhafiz.catalogue.models import District
from muhafiz.core.permissions import Perm, summary_scope


def _districts_of(province_id: int) -> QuerySet[District, int]:
    return District.objects.filter(province_id=province_id).values_list("pk", flat=True)


def summary_rows_scope(principal: Any) -> Q:
    """Summary rows (counts, clocks, durations) within the principal's jurisdiction."""
    return summary_scope(principal, Perm.STATS_VIEW, districts_of_province=_districts_of)
