"""Staff overdue dashboard benchmark (issue 13: ≤ 200 ms from the summary tables), one command:

    .venv/bin/python -m benchmarks.insights.overdue                  # 100,000 cases
    .venv/bin/python -m benchmarks.insights.overdue --cases 2000 --runs 5 --no-results

It creates a PostgreSQL database of its own (`muhafiz_bench_overdue`; `--kept` reuses one a
`--keep` run left), generates cases, victims, stage events and clocks as the statistics
benchmark does (`benchmarks.insights.run.generate`), then gives them what a real dashboard
groups by: three police stations a district, two prosecutors a district on the team of every
open case, and a court on every case that reached a court. Then, for a national analyst, in the
same run and interleaved request by request:

- the figures computed live from every clock (`use_summary=False`, what the page did before
  summary tables: "the fresh national computation");
- **before**: the page reading the per-district summary rows and adding them up on each view
  (the reader as it stood before the precomputed boards, kept here as `summary_rows_reader`);
- **after**: the page reading the national board the refresh precomputed (one row).

Each is measured as the selector alone and as the whole page (`GET /proceedings/dashboard/`
through Django's full middleware stack, DEBUG off, template rendered): p50/p95 of wall time and
of this process's CPU time, and the SQL queries of one page. The database server's CPU is not
in the CPU figures (it is in the wall ones). Figures go to benchmarks/RESULTS.md with the load
average before and after.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks.cases.run import percentile
from benchmarks.insights.run import (
    QUIET_END,
    RESULTS,
    counts,
    generate,
    machine,
    uptime,
    write_results,
)
from benchmarks.pg import analyze, configure, insert_select, scratch_database

START, END = "<!-- insights-overdue:start -->", "<!-- insights-overdue:end -->"
PAGE = "/proceedings/dashboard/"


# --- what a dashboard groups by -----------------------------------------------------------------


def enrich() -> None:
    """Police stations, prosecutors on case teams and courts, in the database."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from muhafiz.cases.models import TeamMember
    from muhafiz.catalogue.models import PoliceStation

    user = get_user_model()
    with connection.cursor() as cursor:
        cursor.execute(
            insert_select(
                PoliceStation,
                {"district_id": "d.id", "name": "'Station ' || k"},
                "FROM catalogue_district d, generate_series(1, 3) AS k",
            )
        )
        cursor.execute(
            """
            WITH s AS (SELECT district_id, array_agg(id ORDER BY id) AS ids
                       FROM catalogue_policestation GROUP BY district_id)
            UPDATE cases_case c SET police_station_id = s.ids[1 + c.id % 3]
            FROM s WHERE s.district_id = c.district_id AND c.police_station_id IS NULL
            """
        )
        cursor.execute(
            insert_select(
                user,
                {
                    "username": "'bench.pros.' || d.id || '.' || k",
                    "role": "'prosecutor'",
                    "jurisdiction_level": "'district'",
                    "district_id": "d.id",
                    "province_id": "d.province_id",
                    "is_active": "true",
                },
                "FROM catalogue_district d, generate_series(1, 2) AS k",
            )
        )
        cursor.execute(
            insert_select(
                TeamMember,
                {
                    "case_id": "c.id",
                    "user_id": "u.id",
                    "team_role": "'prosecutor'",
                },
                """FROM cases_case c JOIN accounts_user u
                    ON u.username = 'bench.pros.' || c.district_id || '.' || (1 + c.id % 2)
                WHERE c.status = 'open'""",
            )
        )
        cursor.execute(
            """
            WITH courts AS (SELECT array_agg(id ORDER BY id) AS ids, count(*) AS n
                            FROM catalogue_agency WHERE kind = 'court')
            UPDATE proceedings_caseprogress p SET court_id = courts.ids[1 + p.case_id % courts.n]
            FROM courts WHERE courts.n > 0
              AND p.stage IN ('challan_submitted', 'judgment_delivered')
            """
        )
    analyze()


# --- the reader as it stood before the boards ----------------------------------------------------


def summary_rows_reader(
    principal: Any, filters: Any, groups: Iterable[str], limit: int | None
) -> tuple[Any, datetime] | None:
    """The overdue dashboard's summary reader before the precomputed boards (its code then):
    four GROUP BYs over the per-district counts, every district's duration bins read and added
    up in Python, the stalled cases read live."""
    from django.db.models import Q, Sum

    from muhafiz.insights.measures import BIN_BOUND
    from muhafiz.insights.models import OverdueCount, OverdueDuration, SummaryRefresh
    from muhafiz.insights.overdue import _percentile
    from muhafiz.insights.scope import summary_rows_scope
    from muhafiz.proceedings import selectors as proceedings

    if filters.since or filters.until:
        return None
    refresh = (
        SummaryRefresh.objects.filter(overdue=True).order_by("-finished_at").only("finished_at")
    ).first()
    if refresh is None:
        return None
    where = summary_rows_scope(principal)
    if filters.district_id:
        where &= Q(district_id=filters.district_id)
    if filters.stage:
        where &= Q(stage=filters.stage)
    overdue: dict[str, list[Any]] = {}
    for group in groups:
        rows = (
            OverdueCount.objects.filter(where, group=group)
            .values("key", "label")
            .annotate(overdue=Sum("missed"), due=Sum("due_soon"))
            .order_by("-overdue", "-due", "label")
        )
        if limit is not None:
            rows = rows[:limit]
        overdue[group] = [
            proceedings.OverdueRow(r["key"], r["label"], r["overdue"], r["due"]) for r in rows
        ]
    bins: dict[tuple[str, str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    met: dict[tuple[str, str, str], int] = defaultdict(int)
    for code, name, stage, b, n, m in OverdueDuration.objects.filter(where).values_list(
        "rule_code", "rule_name", "stage", "bin", "clocks", "met"
    ):
        bins[(code, name, stage)][b] += n
        met[(code, name, stage)] += m
    durations = [
        proceedings.DurationRow(
            code,
            name,
            stage,
            sum(binned.values()),
            met[(code, name, stage)],
            _percentile(binned, 0.5),
            _percentile(binned, 0.9),
        )
        for (code, name, stage), binned in sorted(bins.items())
    ]
    board = proceedings.Dashboard(
        filters=filters,
        overdue=overdue,
        durations=durations,
        stalled=proceedings.stalled_cases(principal, filters),
        duration_within_percent=round(BIN_BOUND * 100),
    )
    return board, refresh.finished_at


class Reader:
    """Which receiver answers proceedings' `dashboard_summary` hook: the boards or the rows."""

    UID = "insights.overdue_dashboard"

    def __init__(self) -> None:
        from muhafiz.insights.overdue import dashboard_from_summary

        self.after = dashboard_from_summary

    def use(self, receiver: Callable[..., Any]) -> None:
        from muhafiz.proceedings.hooks import dashboard_summary

        dashboard_summary.disconnect(self.UID)
        dashboard_summary.connect(receiver, uid=self.UID)


# --- measuring ----------------------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    started, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - started) * 1000, (time.process_time() - cpu) * 1000


def summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    wall = [w for w, _c in samples]
    cpu = [c for _w, c in samples]
    return {
        "p50": percentile(wall, 0.5),
        "p95": percentile(wall, 0.95),
        "cpu50": percentile(cpu, 0.5),
        "cpu95": percentile(cpu, 0.95),
        "n": len(samples),
    }


def measure(runs: int, live_runs: int) -> dict[str, Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from muhafiz.accounts.models import User
    from muhafiz.accounts.roles import JurisdictionLevel, Role
    from muhafiz.proceedings import selectors
    from muhafiz.testing import make_user, signed_in

    analyst = User.objects.filter(username="bench.analyst").first() or make_user(
        "bench.analyst", Role.ANALYST, district_code=None, level=JurisdictionLevel.NATIONAL
    )
    client = signed_in(analyst)
    client.defaults["HTTP_HOST"] = "127.0.0.1"
    everything = selectors.DashboardFilter()
    reader = Reader()
    variants = {"before": summary_rows_reader, "after": reader.after}

    def page() -> None:
        response = client.get(PAGE)
        if response.status_code != 200:
            raise SystemExit(f"{PAGE}: {response.status_code}")

    def board() -> None:
        selectors.dashboard(analyst, everything, limit=25)

    out: dict[str, Any] = {"queries": {}}
    samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for name, receiver in variants.items():  # warm: templates, translations, connections
        reader.use(receiver)
        page()
        with CaptureQueriesContext(connection) as queries:
            page()
        out["queries"][name] = len(queries)
    for i in range(runs):
        order = list(variants.items()) if i % 2 == 0 else list(variants.items())[::-1]
        for name, receiver in order:
            reader.use(receiver)
            samples[f"{name}_selector"].append(timed(board))
            samples[f"{name}_page"].append(timed(page))
    reader.use(reader.after)
    for _ in range(live_runs):
        samples["live_selector"].append(
            timed(lambda: selectors.dashboard(analyst, everything, limit=25, use_summary=False))
        )
    out.update({name: summary(values) for name, values in samples.items()})
    return out


def refresh_times() -> dict[str, float]:
    """The overdue refresh (run after each clock job) and the part the boards take of it."""
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.insights.actions import refresh_overdue
    from muhafiz.insights.overdue import build_boards, build_counts, build_durations

    started = time.perf_counter()
    refresh_overdue(SYSTEM)
    total = time.perf_counter() - started
    counts_, durations = build_counts(), build_durations()
    started = time.perf_counter()
    boards = build_boards(counts_, durations)
    return {"overdue_refresh": total, "boards": time.perf_counter() - started, "n": len(boards)}


# --- the report ---------------------------------------------------------------------------------


def report(args: argparse.Namespace, r: dict[str, Any], before: str, after: str) -> str:
    command = ".venv/bin/python -m benchmarks.insights.overdue"
    if args.kept:
        command += f" --kept --database {args.database}"
    elif args.cases != 100_000:
        command += f" --cases {args.cases}"
    data, facts = r["data"], r["machine"]

    def row(name: str, what: str, target: str = "") -> str:
        m = r["m"][name]
        return (
            f"| {what} | p50 {m['p50']:.1f} ms, **p95 {m['p95']:.1f} ms** | "
            f"p50 {m['cpu50']:.1f} ms, p95 {m['cpu95']:.1f} ms | {m['n']} | {target} |"
        )

    q = r["m"]["queries"]
    return "\n".join(
        [
            f"Command: `{command}` (PostgreSQL database `{args.database}`: "
            f"{data['cases']:,} cases, {data['clocks']:,} clocks, three police stations and two "
            "prosecutors a district, courts on cases past the challan; national analyst).",
            "",
            "| national overdue dashboard | wall | CPU (this process) | runs | target |",
            "| --- | --- | --- | --- | --- |",
            row("live_selector", "figures computed live from every clock (no summary)"),
            row("before_selector", "before: figures from the per-district summary rows"),
            row("after_selector", "after: figures from the precomputed national board"),
            row(
                "before_page",
                f"before: whole page `GET {PAGE}` ({q['before']} SQL queries)",
            ),
            row(
                "after_page",
                f"after: whole page `GET {PAGE}` ({q['after']} SQL queries)",
                "≤ 200 ms",
            ),
            "",
            f"Before and after in the same run on the same data, interleaved request by request "
            f"(the hook's receiver swapped between them; both pages read the filter's district "
            "list in one query, without the server-side cursor that cost two more round trips, "
            "a change of the same step). The overdue refresh that runs after "
            f"each clock job took {r['refresh']['overdue_refresh']:.1f} s, of which "
            f"{r['refresh']['boards']:.2f} s builds the {r['refresh']['n']} boards (the country, "
            "each province, each district). Durations on both are read from the same 10 %-wide "
            "bins (each within about 5 % of the exact figure, as the page says).",
            "",
            f"Machine: {facts['nproc']} cores ({facts['cpu']}), PostgreSQL {facts['postgres']}. "
            f"Load before: `{before}`; after: `{after}`.",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=40, help="page views of each reader")
    parser.add_argument("--live-runs", type=int, default=3)
    parser.add_argument("--database", default="muhafiz_bench_overdue")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--kept", action="store_true", help="Use the database a --keep run left.")
    parser.add_argument("--no-results", action="store_true", help="Leave RESULTS.md alone.")
    args = parser.parse_args(argv)
    load_before = uptime()
    r: dict[str, Any] = {}
    if args.kept:
        configure(args.database, Path(tempfile.mkdtemp(prefix=f"{args.database}-")))
        from django.core.management import call_command

        from muhafiz.catalogue.models import PoliceStation

        call_command("migrate", verbosity=0)
        if not PoliceStation.objects.exists():  # kept by the statistics benchmark: enrich it once
            enrich()
        run(args, r)
    else:
        with scratch_database(args.database, args.keep):
            print(f"generating {args.cases:,} cases …", flush=True)
            generate(1, args.cases)
            enrich()
            run(args, r)
    r["machine"] = machine()
    text = report(args, r, load_before, uptime())
    print(text)
    if not args.no_results:
        content = RESULTS.read_text(encoding="utf-8")
        if START not in content and QUIET_END in content:  # inside the statistics section
            heading = "\n\n### The staff overdue dashboard\n"
            content = content.replace(QUIET_END, f"{QUIET_END}{heading}{START}\n{END}", 1)
            RESULTS.write_text(content, encoding="utf-8")
        write_results(text, START, END)


def run(args: argparse.Namespace, r: dict[str, Any]) -> None:
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.insights.actions import refresh_summaries

    r["data"] = counts()
    print(r["data"], flush=True)
    refresh_summaries(SYSTEM)
    r["refresh"] = refresh_times()
    print("measuring …", flush=True)
    r["m"] = measure(args.runs, args.live_runs)


if __name__ == "__main__":
    main()
