"""Computing the summary rows from the cases, proceedings and audit data (called by
`actions.refresh_summaries`, inside its transaction).

Every count is one GROUP BY over the cases that may be counted
(`cases.selectors.statistics_cases`: every victim consented to statistics), written with
`INSERT … SELECT` inside the database (SQLite and PostgreSQL alike), so a million cases are
summarised without a row of them, or of the summary, coming into Python. Only what the public
tables need comes out, added up per district (`published_inputs`). Other apps add their counts
through the `core.statistics.statistics_counts` hook.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Case as When_
from django.db.models import Count, F, FloatField, Func, Model, Q, QuerySet, Sum, Value, When
from django.db.models import Field as DbField
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


M = TypeVar("M", bound=Model)

# The grouping every summary row has: year, district, investigating agency, offence group.
KEYS = {"year": "y", "district_id": "d", "agency_id": "a", "offence_group": "g"}


def _keyed(rows: QuerySet[Any], year: str, prefix: str) -> QuerySet[Any]:
    """`rows` annotated with the grouping keys (`y`, `d`, `a`, `g`); `prefix` reaches the case
    ("" from the case itself, "case__" from a row of the case)."""
    keyed: QuerySet[Any] = rows.annotate(
        y=ExtractYear(year),
        d=F(f"{prefix}district_id"),
        a=F(f"{prefix}agency_id"),
        g=offence_group_expression(prefix),
    )
    return keyed


@dataclass(frozen=True)
class Grouped:
    """One GROUP BY over the source tables whose rows are summary rows of `model`: the
    grouping keys (`KEYS`), the other fields from `columns` (model field → alias in `rows`) and
    fixed values from `constants`."""

    model: type[Model]
    rows: QuerySet[Any]
    columns: dict[str, str]
    constants: dict[str, Any] = field(default_factory=dict)

    def aliases(self) -> dict[str, str]:
        return {**KEYS, **self.columns}

    def insert(self) -> int:
        """Write the groups with one `INSERT … SELECT` inside the database; nothing comes into
        Python. Returns the rows written."""
        quote = connection.ops.quote_name
        meta = self.model._meta
        sql, params = self.rows.query.sql_with_params()
        names = [*self.aliases(), *self.constants]
        fields = [meta.get_field(name) for name in names]
        targets = ", ".join(quote(f.column or "") for f in fields if isinstance(f, DbField))
        values = [f"grouped.{quote(alias)}" for alias in self.aliases().values()]
        values += ["%s"] * len(self.constants)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({targets}) "  # noqa: S608 - quoted names
                f"SELECT {', '.join(values)} FROM ({sql}) AS grouped",
                [*self.constants.values(), *params],
            )
            return int(cursor.rowcount)

    def fetch(self) -> Iterator[Model]:
        """The same rows read into Python (unsaved); the benchmark's baseline path."""
        for r in self.rows:
            yield self.model(
                **{name: r[alias] for name, alias in self.aliases().items()}, **self.constants
            )


def grouped_counts(cases: QuerySet[Any]) -> list[Grouped]:
    """Every GROUP BY that makes `SummaryCount` rows from the counted `cases`."""
    n = {"value": "n"}
    out = [
        Grouped(
            SummaryCount,
            _keyed(cases, "reported_at", "").values("y", "d", "a", "g").annotate(n=Count("pk")),
            n,
            {"measure": "reports_received", "dimension": "", "category": ""},
        )
    ]
    for measure, (code, outcome) in EVENT_MEASURES.items():
        events = statistics_events(cases, [code])
        if outcome:
            events = events.filter(outcome=outcome)
        out.append(
            Grouped(
                SummaryCount,
                _keyed(events, "occurred_at", "case__")
                .values("y", "d", "a", "g")
                .annotate(n=Count("case_id", distinct=True)),
                n,
                {"measure": measure, "dimension": "", "category": ""},
            )
        )
    victims = _keyed(statistics_victims(cases), "case__reported_at", "case__")
    for dimension in ("gender", "age_band"):
        out.append(
            Grouped(
                SummaryCount,
                victims.annotate(c=F(dimension))
                .values("y", "d", "a", "g", "c")
                .annotate(n=Count("pk")),
                {"category": "c", **n},
                {"measure": "victims", "dimension": dimension},
            )
        )
    referrals = _keyed(statistics_referrals(cases), "created_at", "case__")
    out.append(
        Grouped(
            SummaryCount,
            referrals.values("y", "d", "a", "g").annotate(n=Count("pk")),
            n,
            {"measure": "referrals", "dimension": "", "category": ""},
        )
    )
    return [replace(g, rows=g.rows.order_by()) for g in out]


def grouped_durations(cases: QuerySet[Any]) -> list[Grouped]:
    """The GROUP BYs that make `SummaryDuration` rows: stopped clocks in duration bins (by the
    year they stopped), and running clocks already missed (by the year they fell due)."""
    clocks = statistics_clocks(cases).annotate(r=F("rule__code"))
    stopped = (
        _keyed(clocks.filter(stopped_at__isnull=False), "stopped_at", "case__")
        .annotate(b=DurationBin("stopped_at", "started_at"))
        .values("y", "d", "a", "g", "r", "b")
        .annotate(n=Count("pk"), met=Count("pk", filter=Q(state="met")))
        .order_by()
    )
    running = (
        _keyed(clocks.filter(stopped_at__isnull=True, state="missed"), "due_at", "case__")
        .values("y", "d", "a", "g", "r")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return [
        Grouped(
            SummaryDuration,
            stopped,
            {"rule_code": "r", "bin": "b", "clocks": "n", "met": "met"},
        ),
        Grouped(
            SummaryDuration,
            running,
            {"rule_code": "r", "clocks": "n"},
            {"bin": RUNNING_MISSED, "met": 0},
        ),
    ]


def hooked_counts() -> Iterable[SummaryCount]:
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


def powers() -> Iterable[PowerUse]:
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


@dataclass
class Written:
    rows: int = 0
    cases_counted: int = 0
    cases_left_out: int = 0


def write_summaries(batch: int) -> Written:
    """Replace the staff summary tables (`SummaryCount`, `SummaryDuration`, `PowerUse`) from
    the source tables, inside the database; call inside a transaction."""
    cases = statistics_cases()
    for model in (SummaryCount, SummaryDuration, PowerUse):
        model.objects.all().delete()
    written = Written()
    for grouped in (*grouped_counts(cases), *grouped_durations(cases)):
        written.rows += grouped.insert()
    written.rows += len(SummaryCount.objects.bulk_create(hooked_counts(), batch_size=batch))
    written.rows += len(PowerUse.objects.bulk_create(powers(), batch_size=batch))
    counted = SummaryCount.objects.filter(measure="reports_received").exclude(
        offence_group="unrecorded"
    )
    written.cases_counted = counted.aggregate(n=Sum("value"))["n"] or 0
    written.cases_left_out = max(Case.objects.count() - written.cases_counted, 0)
    return written


def published_inputs() -> tuple[list[SummaryCount], list[SummaryDuration], list[PowerUse]]:
    """The summary rows added up in the database to what the public tables need: per year,
    district and measure (the offence group kept for reports received only, whose breakdown it
    is), and durations per year, district, rule and bin. A few thousand rows, whatever the
    number of cases, for `publish.cell_values` and `publish.published_durations`."""
    group = When_(When(measure="reports_received", then=F("offence_group")), default=Value(""))
    counts = (
        SummaryCount.objects.annotate(og=group)
        .values("year", "district_id", "measure", "dimension", "category", "og")
        .annotate(v=Sum("value"))
        .order_by()
    )
    durations = (
        SummaryDuration.objects.values("year", "district_id", "rule_code", "bin")
        .annotate(n=Sum("clocks"), m=Sum("met"))
        .order_by()
    )
    return (
        list(_unsaved(SummaryCount, counts, {"og": "offence_group", "v": "value"})),
        list(_unsaved(SummaryDuration, durations, {"n": "clocks", "m": "met"})),
        list(PowerUse.objects.all()),
    )


def _unsaved(model: type[M], rows: Iterable[Any], names: dict[str, str]) -> Iterator[M]:
    """Unsaved `model` rows from grouped rows whose aliases `names` maps to field names."""
    for r in rows:
        yield model(**{names.get(k, k): v for k, v in r.items()})
