"""Case-database benchmark (issue 5), one command:

    .venv/bin/python -m benchmarks.cases                 # 100,000 cases, 200 requests each
    .venv/bin/python -m benchmarks.cases --cases 2000 --requests 20 --no-results   # a smoke run

It creates a PostgreSQL database of its own (`muhafiz_bench` on 127.0.0.1:5432, user postgres),
migrates it, generates cases with their team, victims (no identity), accused, stage events,
statutory clocks and progress rows with bulk inserts, then measures through Django's test client:
case search (the cases list page with a reference or FIR number), the overdue dashboard (a
national analyst and a district supervisor), and the clock job over every open case (a steady
run, then a run with every running clock's state forgotten). The database is dropped at the end
(`--keep` keeps it). Figures go to the cases section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from benchmarks.pg import PG, ROOT, analyze, scratch_database

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- cases:start -->", "<!-- cases:end -->"
CHUNK = 5000


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- generation ---------------------------------------------------------------------------------


def generate(total: int, seed: int = 5) -> dict[str, Any]:
    """`total` cases over the last two years, spread over every district, with their parties,
    stages, clocks and progress, as one realistic national database might hold them."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from muhafiz.accounts.models import User
    from muhafiz.cases.models import Accused, Case, CaseStatus, TeamMember, Victim
    from muhafiz.catalogue.models import Agency, AgencyKind, DeadlineRule, District, PoliceStation
    from muhafiz.proceedings.clocks import ALERT_STATES, clock_state, deadline_for
    from muhafiz.proceedings.holidays import shipped_holidays
    from muhafiz.proceedings.models import (
        PER_ACCUSED,
        STAGE_ORDER,
        WITHIN_STAGE,
        CaseProgress,
        Clock,
        StageEvent,
    )

    rng = random.Random(seed)
    now = timezone.now()
    as_of = now - timedelta(hours=1)  # states as the previous run of the job left them
    holidays = frozenset(datetime.fromisoformat(r["date"]).date() for r in shipped_holidays())
    districts = list(District.objects.all())
    police = Agency.objects.get_or_create(
        code="PB-POLICE", defaults={"name": "Punjab Police", "kind": AgencyKind.POLICE}
    )[0]
    courts = list(Agency.objects.filter(kind=AgencyKind.COURT)) or [None]
    rules = list(DeadlineRule.objects.filter(active=True))

    stations: dict[int, list[PoliceStation]] = {}
    PoliceStation.objects.bulk_create(
        [
            PoliceStation(district=d, name=f"Station {i + 1} {d.code}")
            for d in districts
            for i in range(4)
        ],
        ignore_conflicts=True,
    )
    for station in PoliceStation.objects.all():
        stations.setdefault(station.district_id, []).append(station)

    password = make_password(None)
    staff: dict[str, list[User]] = {}
    for role, count in (("investigator", 300), ("supervisor", 60), ("prosecutor", 120)):
        User.objects.bulk_create(
            [
                User(
                    username=f"bench.{role}.{i}",
                    password=password,
                    role=role,
                    jurisdiction_level="national",
                    agency=police,
                )
                for i in range(count)
            ]
        )
        staff[role] = list(User.objects.filter(username__startswith=f"bench.{role}."))

    def at(base: datetime, low_hours: float, high_hours: float) -> datetime:
        return base + timedelta(hours=rng.uniform(low_hours, high_hours))

    try:
        from muhafiz.evidence.models import CustodyEvent, EvidenceItem
    except ImportError:  # an installation without the evidence app's models
        EvidenceItem = CustodyEvent = None  # type: ignore[assignment,misc]  # noqa: N806
    counts = {
        "cases": 0,
        "team": 0,
        "victims": 0,
        "accused": 0,
        "evidence": 0,
        "custody": 0,
        "events": 0,
        "clocks": 0,
    }
    sequence = 0
    for offset in range(0, total, CHUNK):
        size = min(CHUNK, total - offset)
        cases = []
        for _ in range(size):
            sequence += 1
            district = rng.choice(districts)
            reported = now - timedelta(days=rng.uniform(0, 730))
            missing = rng.random() < 0.2
            cases.append(
                Case(
                    reference=f"{district.code}-{reported.year}-{sequence:06d}",
                    district=district,
                    police_station=rng.choice(stations[district.pk]),
                    agency=police,
                    fir_number=f"{sequence}/{reported.year}",
                    status=CaseStatus.CLOSED if rng.random() < 0.12 else CaseStatus.OPEN,
                    reported_at=reported,
                    created_by=staff["investigator"][sequence % 300],
                    victim_under_18=True,
                    sexual_abuse=rng.random() < 0.7,
                    missing_child=missing,
                    abuse_recorded=rng.random() < 0.3,
                )
            )
        Case.objects.bulk_create(cases)
        team, victims, accused = [], [], []
        for case in cases:
            team += [
                TeamMember(case=case, user=rng.choice(staff[role]), team_role=role)
                for role in ("investigator", "supervisor", "prosecutor")
            ]
            victims.append(
                Victim(
                    case=case,
                    pseudonym=f"V-{case.reported_at.year}-{case.district.code}-{case.pk:06d}",
                    age_band=rng.choice(["0-5", "6-10", "11-15", "16-18"]),
                    gender=rng.choice(["girl", "boy"]),
                    created_by=case.created_by,
                )
            )
            accused += [
                Accused(case=case, label=f"A{i + 1}", created_by=case.created_by)
                for i in range(rng.choice((1, 1, 2)))
            ]
        TeamMember.objects.bulk_create(team, batch_size=5000)
        Victim.objects.bulk_create(victims, batch_size=5000)
        Accused.objects.bulk_create(accused, batch_size=5000)
        if EvidenceItem is not None:
            items = []
            for case in cases:
                seized = case.reported_at + timedelta(hours=rng.uniform(2, 72))
                for i in range(rng.choice((1, 1, 2, 3))):
                    items.append(
                        EvidenceItem(
                            case=case,
                            label=f"E{i + 1}",
                            kind=rng.choice(["phone", "computer", "storage"]),
                            serial_number=f"{rng.randrange(10**14, 10**15)}",
                            seal_number=f"S-{case.pk}-{i + 1}",
                            seized_at=min(seized, now),
                            seized_place="synthetic",
                            seized_by=case.created_by,
                            holder=case.created_by,
                            created_by=case.created_by,
                        )
                    )
            EvidenceItem.objects.bulk_create(items, batch_size=5000)
            custody = [
                CustodyEvent(
                    item=item,
                    seq=1,
                    to_user=item.seized_by,
                    at=item.seized_at,
                    purpose="seizure",
                    seal_intact=True,
                    recorded_by=item.seized_by,
                )
                for item in items
            ]
            CustodyEvent.objects.bulk_create(custody, batch_size=5000)
            counts["evidence"] += len(items)
            counts["custody"] += len(custody)
        first_accused = {}
        for person in accused:
            first_accused.setdefault(person.case_id, person)

        events: list[StageEvent] = []
        per_case: dict[int, list[StageEvent]] = {}
        for case in cases:
            case_events: list[StageEvent] = []

            def add(
                code: str,
                moment: datetime,
                case: Case = case,
                case_events: list[StageEvent] = case_events,
                **extra: Any,
            ) -> None:
                if moment <= now:
                    case_events.append(
                        StageEvent(case=case, code=code, occurred_at=moment, **extra)
                    )

            r = case.reported_at
            add("report_received", r)
            if case.missing_child:
                if rng.random() < 0.7:
                    add("zarra_informed", at(r, 0.3, 6))
                if rng.random() < 0.8:
                    add("alert_raiser_contacted", at(r, 1, 48))
            if case.sexual_abuse and rng.random() < 0.8:
                add("medico_legal_examined", at(r, 1, 24))
            if rng.random() < 0.9:
                fir = at(r, 0.5, 60)
                add("fir_registered", fir)
                a1 = first_accused[case.pk]
                if rng.random() < 0.6:
                    arrest = at(fir, 0, 240)
                    add("arrested", arrest, accused=a1)
                    if rng.random() < 0.95:
                        add("produced_before_magistrate", at(arrest, 2, 40), accused=a1)
                if rng.random() < 0.6:
                    challan = at(fir, 24 * 5, 24 * 40)
                    add("challan_submitted", challan)
                    if rng.random() < 0.7:
                        court = rng.choice(courts)
                        trial = at(challan, 24 * 5, 24 * 60)
                        add("trial_started", trial, court=court)
                        if rng.random() < 0.5:
                            add(
                                "judgment_delivered",
                                at(trial, 24 * 30, 24 * 250),
                                accused=a1,
                                outcome=rng.choice(["conviction", "acquittal"]),
                            )
            case_events.sort(key=lambda e: e.occurred_at)
            per_case[case.pk] = case_events
            events += case_events
        StageEvent.objects.bulk_create(events, batch_size=5000)

        clocks: list[Clock] = []
        progress: list[CaseProgress] = []
        for case in cases:
            case_events = per_case[case.pk]
            by_code: dict[str, list[StageEvent]] = {}
            for event in case_events:
                by_code.setdefault(event.code, []).append(event)
            for rule in rules:
                condition = rule.applies_when
                if condition == "missing_child" and not case.missing_child:
                    continue
                if condition == "sexual_offence" and not case.sexual_abuse:
                    continue
                if condition == "child_protection_custody":
                    continue
                for start in by_code.get(rule.start_event, []):
                    deadline = deadline_for(
                        start.occurred_at,
                        rule.amount,
                        rule.unit,
                        rule.due_soon_fraction,
                        holidays,
                    )
                    ends = [
                        e
                        for e in by_code.get(rule.end_event, [])
                        if e.occurred_at >= start.occurred_at
                        and (rule.end_event not in PER_ACCUSED or e.accused_id == start.accused_id)
                    ]
                    if rule.end_event == "interim_report_submitted":
                        ends += by_code.get("challan_submitted", [])
                        challans = by_code.get("challan_submitted", [])
                        challan_due = start.occurred_at + timedelta(days=14)
                        if challans and challans[0].occurred_at <= challan_due:
                            continue  # the challan came in time: no interim report was due
                        if not challans and as_of <= challan_due:
                            continue
                    end = min(ends, key=lambda e: e.occurred_at) if ends else None
                    state = clock_state(
                        due_at=deadline.due_at,
                        due_soon_at=deadline.due_soon_at,
                        stopped_at=end.occurred_at if end else None,
                        now=as_of,
                    )
                    clocks.append(
                        Clock(
                            case=case,
                            rule=rule,
                            accused_id=start.accused_id,
                            started_at=start.occurred_at,
                            due_at=deadline.due_at,
                            due_soon_at=deadline.due_soon_at,
                            stopped_at=end.occurred_at if end else None,
                            end_event=end,
                            start_event=start,
                            state=state,
                            alerted_state=state if state in ALERT_STATES else "",
                            missed_at=deadline.due_at if state in {"missed", "met_late"} else None,
                        )
                    )
            staged = [e for e in case_events if e.code not in WITHIN_STAGE]
            latest = max(staged, key=lambda e: STAGE_ORDER.index(e.code))
            court_event = next((e for e in case_events if e.court_id), None)
            progress.append(
                CaseProgress(
                    case=case,
                    stage=latest.code,
                    stage_since=latest.occurred_at,
                    last_event_at=case_events[-1].occurred_at,
                    court_id=court_event.court_id if court_event else None,
                )
            )
        Clock.objects.bulk_create(clocks, batch_size=5000)
        CaseProgress.objects.bulk_create(progress, batch_size=5000)
        counts["cases"] += len(cases)
        counts["team"] += len(team)
        counts["victims"] += len(victims)
        counts["accused"] += len(accused)
        counts["events"] += len(events)
        counts["clocks"] += len(clocks)
        print(f"  {counts['cases']:>7} cases, {counts['clocks']:>7} clocks", flush=True)
    return counts


# --- measuring ----------------------------------------------------------------------------------


def timed_requests(client: Any, paths: Iterator[str] | list[str], count: int) -> dict[str, float]:
    timings = []
    iterator = iter(paths)
    for _ in range(count):
        path = next(iterator)
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")
    return {
        "p50": percentile(timings, 0.5),
        "p95": percentile(timings, 0.95),
        "max": max(timings),
        "mean": statistics.fmean(timings),
    }


def measure(requests: int) -> dict[str, Any]:
    from django.db import connection

    from muhafiz.accounts.roles import JurisdictionLevel, Role
    from muhafiz.cases.models import Case, CaseStatus
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.proceedings.actions import evaluate_clocks
    from muhafiz.proceedings.models import Clock
    from muhafiz.testing import make_user, signed_in

    rng = random.Random(7)
    results: dict[str, Any] = {}
    national_supervisor = make_user(
        "bench.national.supervisor",
        Role.SUPERVISOR,
        district_code=None,
        level=JurisdictionLevel.NATIONAL,
    )
    analyst = make_user(
        "bench.analyst", Role.ANALYST, district_code=None, level=JurisdictionLevel.NATIONAL
    )
    lahore_supervisor = make_user("bench.lahore.supervisor", Role.SUPERVISOR, district_code="LHR")
    sample = list(Case.objects.order_by("?").values_list("reference", "fir_number")[:requests])

    def searches() -> Iterator[str]:
        while True:
            reference, fir = rng.choice(sample)
            yield f"/cases/?q={reference if rng.random() < 0.5 else fir}"

    client = signed_in(national_supervisor)
    for path in ("/cases/", "/proceedings/dashboard/"):
        client.get(path)  # warm the template and URL caches
    results["search"] = timed_requests(client, searches(), requests)

    def dashboards() -> Iterator[str]:
        while True:
            yield "/proceedings/dashboard/"

    results["dashboard_national"] = timed_requests(signed_in(analyst), dashboards(), requests)
    results["dashboard_district"] = timed_requests(
        signed_in(lahore_supervisor), dashboards(), requests
    )

    # The same figures computed afresh (a cache miss): once a minute per scope and filters.
    from muhafiz.proceedings import selectors

    for name, principal, count in (
        ("compute_national", analyst, 5),
        ("compute_district", lahore_supervisor, 20),
    ):
        timings = []
        for _ in range(count):
            started = time.perf_counter()
            selectors.dashboard(principal, selectors.DashboardFilter(), limit=25)
            timings.append((time.perf_counter() - started) * 1000)
        results[name] = {
            "p50": percentile(timings, 0.5),
            "p95": percentile(timings, 0.95),
            "max": max(timings),
            "count": count,
        }

    results["open_cases"] = Case.objects.filter(status=CaseStatus.OPEN).count()
    results["running_clocks"] = Clock.objects.filter(stopped_at__isnull=True).count()
    steady = evaluate_clocks(SYSTEM)
    results["job_steady"] = steady
    # Every running clock's state forgotten: the whole backlog changes state and alerts at once.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE proceedings_clock SET state = 'pending', alerted_state = '', missed_at = NULL "
            "WHERE stopped_at IS NULL"
        )
    results["job_cold"] = evaluate_clocks(SYSTEM)
    results["job_again"] = evaluate_clocks(SYSTEM)
    return results


def machine() -> dict[str, str]:
    def run(*command: str) -> str:
        # Django set TZ to Pakistan time for this process; machine facts are given in UTC.
        env = {**os.environ, "TZ": "UTC"}
        try:
            return subprocess.run(
                command, capture_output=True, text=True, check=False, env=env
            ).stdout
        except OSError:
            return ""

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in run("lscpu").splitlines()
            if line.startswith("Model name")
        ),
        platform.processor(),
    )
    with __import__("psycopg").connect(f"{PG}/postgres") as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
    return {
        "nproc": run("nproc").strip(),
        "cpu": cpu,
        "uptime": run("uptime").strip(),
        "postgres": version,
        "python": platform.python_version(),
    }


def write_results(text: str) -> None:
    content = RESULTS.read_text(encoding="utf-8")
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    RESULTS.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def report(
    args: argparse.Namespace,
    *,
    counts: dict[str, Any],
    gen_s: float,
    r: dict[str, Any],
    facts: dict[str, str],
    load_before: str,
) -> str:
    def row(name: str, m: dict[str, float], target: str) -> str:
        return f"| {name} | {m['p50']:.1f} | {m['p95']:.1f} | {m['max']:.1f} | {target} |"

    def job(name: str, e: Any) -> str:
        return f"| {name} | {e.seconds:.2f} s | {e.missed:,} | {e.due_soon:,} | {e.alerts:,} |"

    command = ".venv/bin/python -m benchmarks.cases"
    if args.cases != 100_000 or args.requests != 200:
        command += f" --cases {args.cases} --requests {args.requests}"
    return "\n".join(
        [
            f"Command: `{command}` (PostgreSQL database `{args.database}`, created and dropped "
            "by the script). Requests go through Django's test client, signed in, with the "
            "full middleware stack and template rendering; DEBUG off.",
            "",
            f"Data: {counts['cases']:,} cases over two years in every district "
            f"({r['open_cases']:,} open), {counts['team']:,} team members, "
            f"{counts['victims']:,} victims (pseudonym, age band; no identity), "
            f"{counts['accused']:,} accused, {counts['evidence']:,} evidence items with "
            f"{counts['custody']:,} custody entries, {counts['events']:,} stage events, "
            f"{counts['clocks']:,} clocks ({r['running_clocks']:,} running). Generated with bulk "
            f"inserts in {gen_s:.0f} s.",
            "",
            f"| request ({args.requests} each) | p50 ms | p95 ms | max ms | target |",
            "| --- | --- | --- | --- | --- |",
            row(
                "case search: `/cases/?q=` reference or FIR number, national supervisor",
                r["search"],
                "p95 ≤ 150 ms",
            ),
            row(
                "overdue dashboard `/proceedings/dashboard/`, national analyst (all cases)",
                r["dashboard_national"],
                "p95 ≤ 150 ms",
            ),
            row(
                "overdue dashboard, Lahore district supervisor",
                r["dashboard_district"],
                "p95 ≤ 150 ms",
            ),
            row(
                f"dashboard figures computed afresh (cache miss), national, "
                f"{r['compute_national']['count']} runs",
                r["compute_national"],
                "—",
            ),
            row(
                f"dashboard figures computed afresh (cache miss), Lahore, "
                f"{r['compute_district']['count']} runs",
                r["compute_district"],
                "—",
            ),
            "",
            "The dashboard page caches its figures for 60 s per jurisdiction and filter set "
            "(clock states change only when the job runs or a stage is recorded; the page says "
            "when its figures were computed), so the page timings above are mostly cache hits; "
            "the first request of each minute pays the fresh computation shown below them.",
            "",
            "| clock job over all open cases (`run_clocks`) | time | newly missed | newly due "
            "soon | alerts |",
            "| --- | --- | --- | --- | --- |",
            job("steady run (states from a run an hour earlier)", r["job_steady"]),
            job("every running clock's state forgotten (backlog)", r["job_cold"]),
            job("the same again at once (alerts once)", r["job_again"]),
            "",
            f"Machine: {facts['nproc']} cores ({facts['cpu']}), shared with other engineers' "
            f"work; PostgreSQL {facts['postgres']}, Python {facts['python']}. Load before: "
            f"`{load_before}`; after: `{facts['uptime']}`.",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", default="muhafiz_bench")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--no-results", action="store_true", help="Leave RESULTS.md alone.")
    args = parser.parse_args(argv)

    load_before = subprocess.run(
        ["uptime"], capture_output=True, text=True, check=False
    ).stdout.strip()
    with scratch_database(args.database, args.keep):
        print(f"generating {args.cases:,} cases …", flush=True)
        started = time.perf_counter()
        counts = generate(args.cases)
        gen_s = time.perf_counter() - started
        analyze()
        print("measuring …", flush=True)
        results = measure(args.requests)
    text = report(
        args,
        counts=counts,
        gen_s=gen_s,
        r=results,
        facts=machine(),
        load_before=load_before,
    )
    print(text)
    if not args.no_results:
        write_results(text)


if __name__ == "__main__":
    main()
