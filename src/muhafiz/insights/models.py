"""Summary tables of the insights app: counts and stage durations per district and year (for
staff, unsuppressed), the published cells of the public dashboard (suppressed), uses of the
platform's sensitive powers, and the record of each refresh.

Every table is rebuilt as a whole by `actions.refresh_summaries`; nothing else writes them. No
row names a case, a victim, a reporter or a staff member.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SummaryCount(models.Model):
    """How many of `measure` in one district, year, investigating agency and offence group;
    `dimension`/`category` break a measure down (victims by gender or age band)."""

    year = models.PositiveSmallIntegerField()
    district_id = models.IntegerField(null=True)  # catalogue District; None: not known
    agency_id = models.IntegerField(null=True)  # catalogue Agency
    offence_group = models.CharField(max_length=30)
    measure = models.CharField(max_length=40)
    dimension = models.CharField(max_length=40, blank=True)
    category = models.CharField(max_length=40, blank=True)
    value = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["measure", "year"], name="insights_count_measure_idx")]


class SummaryDuration(models.Model):
    """Statutory clocks of one deadline rule, district, year, agency and offence group that
    fall in one duration bin (`bin` -1: still running and already missed, no duration yet).

    Bins are 10 % wide on a logarithmic scale of hours (`measures.duration_bin`), so medians and
    90th percentiles of any grouping or filter come from adding bins, within 5 %."""

    year = models.PositiveSmallIntegerField()
    district_id = models.IntegerField()
    agency_id = models.IntegerField(null=True)
    offence_group = models.CharField(max_length=30)
    rule_code = models.CharField(max_length=60)
    bin = models.SmallIntegerField()
    clocks = models.PositiveIntegerField()
    met = models.PositiveIntegerField()  # stopped on time; the rest were late or are missed

    class Meta:
        indexes = [models.Index(fields=["year", "rule_code"], name="insights_duration_idx")]


class PowerUse(models.Model):
    """How often a sensitive power was used in a year by staff of one province (`province_id`
    None: national staff, API clients without a province, and the system)."""

    year = models.PositiveSmallIntegerField()
    province_id = models.IntegerField(null=True)
    power = models.CharField(max_length=40)
    value = models.PositiveIntegerField()


class PublishedCell(models.Model):
    """One cell of the public dashboard as published: `shown` is the number or "<5" or "x".

    `area` is "PK", a province code or a district code. Built with complementary suppression
    over every table at once (`suppression.suppress`), so every page, chart and file reads the
    same, already safe, cells."""

    year = models.PositiveSmallIntegerField()
    area = models.CharField(max_length=8)
    measure = models.CharField(max_length=40)
    dimension = models.CharField(max_length=40, blank=True)
    category = models.CharField(max_length=40, blank=True)
    shown = models.CharField(max_length=12)

    class Meta:
        indexes = [models.Index(fields=["area", "year"], name="insights_cell_area_idx")]


class PublishedDuration(models.Model):
    """Days a stage took (median, 90th percentile) and the share of its deadlines met, for one
    area, year and rule; empty when fewer than 5 clocks (or a count of 1–4 met or late)."""

    year = models.PositiveSmallIntegerField()
    area = models.CharField(max_length=8)
    rule_code = models.CharField(max_length=60)
    median_days = models.FloatField(null=True)
    p90_days = models.FloatField(null=True)
    met_percent = models.PositiveSmallIntegerField(null=True)

    class Meta:
        indexes = [models.Index(fields=["area", "year"], name="insights_pubdur_area_idx")]


class SummaryRefresh(models.Model):
    """One rebuild of the summary tables: who or what asked, when, how long it took."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cases_counted = models.PositiveIntegerField()
    cases_left_out = models.PositiveIntegerField()  # no statistics consent for every victim
    rows = models.PositiveIntegerField()
    seconds = models.FloatField()
    # True when this refresh rebuilt the overdue dashboard's tables (every refresh does; the
    # frequent `refresh_overdue` does only that).
    overdue = models.BooleanField(default=True)
    statistics = models.BooleanField(default=True)

    class Meta:
        ordering = ["-finished_at"]
        get_latest_by = "finished_at"
        indexes = [models.Index(fields=["-finished_at"], name="insights_refresh_latest_idx")]


class OverdueCount(models.Model):
    """Running clocks of open cases that are missed or nearly due, for the staff overdue
    dashboard: per grouping (district, police station, prosecutor, court), key, district and
    the stage the clock waits for. `label` is the place's, court's or staff account's name."""

    group = models.CharField(max_length=20)
    key = models.IntegerField(null=True)
    label = models.CharField(max_length=200)
    district_id = models.IntegerField()
    stage = models.CharField(max_length=60)
    missed = models.PositiveIntegerField()
    due_soon = models.PositiveIntegerField()

    class Meta:
        indexes = [models.Index(fields=["group", "district_id"], name="insights_overdue_idx")]


class OverdueDuration(models.Model):
    """Stopped clocks of every case in duration bins, per district and rule (the dashboard's
    "how long stages take"; the public figures use `SummaryDuration`, consented cases only)."""

    district_id = models.IntegerField()
    rule_code = models.CharField(max_length=60)
    rule_name = models.CharField(max_length=200)
    stage = models.CharField(max_length=60)
    bin = models.SmallIntegerField()
    clocks = models.PositiveIntegerField()
    met = models.PositiveIntegerField()


class OverdueBoard(models.Model):
    """The overdue dashboard as one jurisdiction sees it without filters, precomputed by each
    refresh from `OverdueCount`, `OverdueDuration` and the cases stalled longest: `scope` is
    "PK" (national), "P<province id>" or "D<district id>"; `board` holds every row of each
    grouping (worst first), the stage durations (from the same bins, so within `BIN_BOUND`)
    and the stalled cases (their stage's start; days are counted when read). A page view reads
    one row instead of aggregating the summary rows of every district."""

    scope = models.CharField(max_length=20, unique=True)
    province_id = models.IntegerField(null=True)
    district_id = models.IntegerField(null=True)
    board = models.JSONField()
    as_of = models.DateTimeField()
