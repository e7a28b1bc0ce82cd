"""Computing the summary rows from the cases, proceedings and audit data (reads only; the write
is `actions.refresh_summaries`).

Every count is one GROUP BY in the database over the cases that may be counted
(`cases.selectors.statistics_cases`: every victim consented to statistics), so a million cases
are summarised without loading them. Other apps add their counts through the
`core.statistics.statistics_counts` hook.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, FloatField, Func, Q, QuerySet
from django.db.models.functions import ExtractYear

from muhafiz.accounts.models import ApiClient, User
from muhafiz.audit.queries import action_counts
from muhafiz.cases.models import Case
from muhafiz.cases.selectors import statistics_cases, statistics_referrals, statistics_victims
from muhafiz.catalogue.models import District
from muhafiz.core.statistics import ADDABLE_MEASURES, statistics_counts
from muhafiz.insights.measures import (
    BIN_SCALE,
    POWER_BY_ACTION,
    RUNNING_MISSED,
    offence_group_expression,
)
from muhafiz.insights.models import PowerUse, SummaryCount, SummaryDuration
from muhafiz.proceedings.selectors import statistics_clocks, statistics_events

# measure → (stage event code, outcome or "")
EVENT_MEASURES: dict[str, tuple[str, str]] = {
    "firs": ("fir_registered", ""),
    "challans": ("challan_submitted", ""),
    "trials_concluded": ("judgment_delivered", ""),
    "convictions": ("judgment_delivered", "conviction"),
    "acquittals": ("judgment_delivered", "acquittal"),
}


class DurationBin(Func):
    """The duration bin of `stopped_at - started_at` (see `measures.duration_bin`), in SQL."""

    output_field = FloatField()

    def __init__(self, end: str, start: str) -> None:
        super().__init__(F(end), F(start))

    def _hours(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        end_sql, end_params = compiler.compile(self.source_expressions[0])
        start_sql, start_params = compiler.compile(self.source_expressions[1])
        if connection.vendor == "postgresql":
            sql = f"(EXTRACT(EPOCH FROM ({end_sql} - {start_sql})) / 3600.0)"
        else:
            sql = f"((julianday({end_sql}) - julianday({start_sql})) * 24.0)"
        return sql, [*end_params, *start_params]

    def as_sql(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        hours, params = self._hours(compiler, connection)
        return f"FLOOR(LN(GREATEST({hours}, 0) + 1) * {BIN_SCALE!r})", params

    def as_sqlite(  # type: ignore[override]
        self, compiler: Any, connection: Any, **extra: Any
    ) -> tuple[str, list[Any]]:
        hours, params = self._hours(compiler, connection)
        return f"FLOOR(LN(MAX({hours}, 0) + 1) * {BIN_SCALE!r})", params


@dataclass
class Built:
    counts: list[SummaryCount] = field(default_factory=list)
    durations: list[SummaryDuration] = field(default_factory=list)
    powers: list[PowerUse] = field(default_factory=list)
    cases_counted: int = 0
    cases_left_out: int = 0


def _grain(prefix: str) -> dict[str, Any]:
    return {"g": offence_group_expression(prefix)}


def _rows(rows: Iterable[Any], measure: str, prefix: str) -> Iterable[SummaryCount]:
    """Summary rows from grouped rows (`y`, `<prefix>district_id`, `<prefix>agency_id`, `g`,
    `n`)."""
    for r in rows:
        yield SummaryCount(
            year=r["y"],
            district_id=r[f"{prefix}district_id"],
            agency_id=r[f"{prefix}agency_id"],
            offence_group=r["g"],
            measure=measure,
            value=r["n"],
        )


def _case_counts(cases: QuerySet[Any]) -> Iterable[SummaryCount]:
    rows = (
        cases.annotate(y=ExtractYear("reported_at"), **_grain(""))
        .values("y", "district_id", "agency_id", "g")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return _rows(rows, "reports_received", "")


def _event_counts(cases: QuerySet[Any]) -> Iterable[SummaryCount]:
    codes = {code for code, _outcome in EVENT_MEASURES.values()}
    events = statistics_events(cases, codes)
    rows: Any = (
        events.annotate(y=ExtractYear("occurred_at"), **_grain("case__"))
        .values("y", "case__district_id", "case__agency_id", "g")
        .annotate(
            **{
                measure: Count(
                    "case_id",
                    distinct=True,
                    filter=Q(code=code, **({"outcome": outcome} if outcome else {})),
                )
                for measure, (code, outcome) in EVENT_MEASURES.items()
            }
        )
        .order_by()
    )
    for r in rows:
        for measure in EVENT_MEASURES:
            if r[measure]:
                yield SummaryCount(
                    year=r["y"],
                    district_id=r["case__district_id"],
                    agency_id=r["case__agency_id"],
                    offence_group=r["g"],
                    measure=measure,
                    value=r[measure],
                )


def _victim_counts(cases: QuerySet[Any]) -> Iterable[SummaryCount]:
    victims = statistics_victims(cases).annotate(
        y=ExtractYear("case__reported_at"), **_grain("case__")
    )
    for dimension in ("gender", "age_band"):
        rows = (
            victims.values("y", "case__district_id", "case__agency_id", "g", dimension)
            .annotate(n=Count("pk"))
            .order_by()
        )
        for r in rows:
            yield SummaryCount(
                year=r["y"],
                district_id=r["case__district_id"],
                agency_id=r["case__agency_id"],
                offence_group=r["g"],
                measure="victims",
                dimension=dimension,
                category=r[dimension],
                value=r["n"],
            )


def _referral_counts(cases: QuerySet[Any]) -> Iterable[SummaryCount]:
    rows = (
        statistics_referrals(cases)
        .annotate(y=ExtractYear("created_at"), **_grain("case__"))
        .values("y", "case__district_id", "case__agency_id", "g")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return _rows(rows, "referrals", "case__")


def _hooked_counts() -> Iterable[SummaryCount]:
    """Counts other apps add (intake: reports not yet a case, referrals made from a report)."""
    known = set(District.objects.values_list("pk", flat=True))
    for result in statistics_counts.send():
        for row in result or ():
            if row.measure not in ADDABLE_MEASURES or row.value < 0:
                raise ValueError(f"statistics hook row not accepted: {row!r}")
            yield SummaryCount(
                year=row.year,
                district_id=row.district_id if row.district_id in known else None,
                agency_id=row.agency_id,
                offence_group="unrecorded",
                measure=row.measure,
                value=row.value,
            )


def _durations(cases: QuerySet[Any]) -> Iterable[SummaryDuration]:
    clocks = statistics_clocks(cases)
    stopped = (
        clocks.filter(stopped_at__isnull=False)
        .annotate(
            y=ExtractYear("stopped_at"),
            b=DurationBin("stopped_at", "started_at"),
            **_grain("case__"),
        )
        .values("y", "case__district_id", "case__agency_id", "g", "rule__code", "b")
        .annotate(n=Count("pk"), met=Count("pk", filter=Q(state="met")))
        .order_by()
    )
    running = (
        clocks.filter(stopped_at__isnull=True, state="missed")
        .annotate(y=ExtractYear("due_at"), **_grain("case__"))
        .values("y", "case__district_id", "case__agency_id", "g", "rule__code")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for done in stopped:
        yield SummaryDuration(
            year=done["y"],
            district_id=done["case__district_id"],
            agency_id=done["case__agency_id"],
            offence_group=done["g"],
            rule_code=done["rule__code"],
            bin=int(done["b"]),
            clocks=done["n"],
            met=done["met"],
        )
    for r in running:
        yield SummaryDuration(
            year=r["y"],
            district_id=r["case__district_id"],
            agency_id=r["case__agency_id"],
            offence_group=r["g"],
            rule_code=r["rule__code"],
            bin=RUNNING_MISSED,
            clocks=r["n"],
            met=0,
        )


def _powers() -> Iterable[PowerUse]:
    rows = action_counts(sorted(POWER_BY_ACTION))
    users = {r["actor_user_id"] for r in rows if r["actor_user_id"]}
    clients = {r["actor_client_id"] for r in rows if r["actor_client_id"]}
    province_of_user = dict(User.objects.filter(pk__in=users).values_list("pk", "province_id"))
    province_of_client = dict(
        ApiClient.objects.filter(pk__in=clients).values_list("pk", "province_id")
    )
    totals: dict[tuple[int, int | None, str], int] = defaultdict(int)
    for r in rows:
        if r["actor_user_id"]:
            province = province_of_user.get(r["actor_user_id"])
        elif r["actor_client_id"]:
            province = province_of_client.get(r["actor_client_id"])
        else:
            province = None
        totals[(int(r["year"]), province, POWER_BY_ACTION[str(r["action"])])] += int(r["count"])
    for (year, province, power), value in totals.items():
        yield PowerUse(year=year, province_id=province, power=power, value=value)


def build() -> Built:
    """Every summary row, computed afresh."""
    cases = statistics_cases()
    built = Built()
    built.counts = [
        *_case_counts(cases),
        *_event_counts(cases),
        *_victim_counts(cases),
        *_referral_counts(cases),
        *_hooked_counts(),
    ]
    built.durations = list(_durations(cases))
    built.powers = list(_powers())
    built.cases_counted = sum(c.value for c in built.counts if c.measure == "reports_received")
    built.cases_counted -= sum(
        c.value
        for c in built.counts
        if c.measure == "reports_received" and c.offence_group == "unrecorded"
    )
    built.cases_left_out = Case.objects.count() - built.cases_counted
    return built
