"""Register benchmark (issue 12), one command:

    .venv/bin/python -m benchmarks.register                       # 1,000,000 registrants
    .venv/bin/python -m benchmarks.register --registrants 3000 --requests 10 --no-results

It creates a PostgreSQL database of its own (`muhafiz_bench_register`), migrates it, generates
registrants by COPY — encrypted name, aliases, CNIC and phone with blind indexes computed
per row by the real key ring, a verified address, a conviction, the open verification clock
and a met one — then measures: the approved check (the prosecutor's `decide_check`, which runs
the blind-index lookup and keeps the answer, and the investigator reading the answer through the
API), the registrant page through Django's test client, and the daily compliance job over every
registrant (a steady day, then a backlog). Figures go to the register section of RESULTS.md.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchmarks.cases.run import RESULTS, machine, percentile, timed_requests
from benchmarks.pg import (
    ROOT,
    analyze,
    database_exists,
    database_from_snapshot,
    keep_snapshot,
    scratch_database,
)

START, END = "<!-- register:start -->", "<!-- register:end -->"
CHUNK = 5000


def _cnic(i: int) -> str:
    digits = f"{35200_0000000_0 + i:013d}"
    return f"{digits[:5]}-{digits[5:12]}-{digits[12]}"


def _copy(model: Any, rows: list[dict[str, Any]]) -> None:
    """COPY `rows` (attname → value; missing fields take NULL or the field's default) into the
    model's table: a million rows in seconds, where ORM inserts would take an hour here."""
    import json

    from django.db import connection

    fields = list(model._meta.concrete_fields)
    defaults = {f.attname: f.get_default() for f in fields}
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        copy_sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
        with cursor.cursor.copy(copy_sql) as copy:
            for row in rows:
                values = []
                for f in fields:
                    value = row.get(f.attname, defaults[f.attname])
                    if isinstance(value, (list, dict)):
                        value = json.dumps(value)
                    values.append(value)
                copy.write_row(values)


def generate(total: int, seed: int = 12) -> dict[str, Any]:
    """`total` registrants over every district, as a national register might hold them.

    Rows go in by COPY. Each encrypted column holds one real ciphertext of a synthetic value
    (the same for every row: the field code encrypts it, the pages decrypt it); the blind
    indexes — what the check and the dedupe search — are computed per row (CNIC, name, phone)
    by the real key ring, so every lookup reads a national-size index."""
    from django.db import connection
    from django.utils import timezone

    from muhafiz.cases.models import Case
    from muhafiz.catalogue.models import Agency, AgencyKind, District
    from muhafiz.core import crypto
    from muhafiz.register.models import (
        CNIC_PURPOSE,
        Address,
        Conviction,
        Obligation,
        PeriodRule,
        Registrant,
        RegistrantIdentifier,
        normalize_name,
    )

    rng = random.Random(seed)
    now = timezone.now()
    districts = list(District.objects.all())
    police = Agency.objects.get_or_create(
        code="PB-POLICE", defaults={"name": "Punjab Police", "kind": AgencyKind.POLICE}
    )[0]
    rule = PeriodRule.objects.get(code="uk-10-years")
    cases = Case.objects.bulk_create(
        [
            Case(
                reference=f"{d.code}-2015-{i:04d}",
                district=d,
                agency=police,
                reported_at=now - timedelta(days=3650),
            )
            for d in districts
            for i in range(1, 41)
        ],
        batch_size=CHUNK,
    )

    def sealed(model: Any, attname: str, value: str) -> str:
        field = model._meta.get_field(attname)
        return crypto.encrypt(value, field.context())

    name_c = sealed(Registrant, "name", "Bench Person")
    aliases_c = sealed(Registrant, "aliases", "BP")
    cnic_c = sealed(Registrant, "cnic", "35200-0000000-0")
    phone_c = sealed(RegistrantIdentifier, "value", "+923000000000")
    address_c = sealed(Address, "address", "House 1, Street 1, Bench Town")
    empty = {m: sealed(m, a, "") for m, a in ((Registrant, "name"), (Registrant, "aliases"))}
    counts = {"registrants": total, "obligations": 0, "long_non_compliant": 0}
    obligation_id = 0
    for start in range(0, total, 50_000):
        people, idents, addresses, convictions, clocks = [], [], [], [], []
        for i in range(start, min(start + 50_000, total)):
            pk = i + 1
            district = districts[i % len(districts)]
            roll = rng.random()
            status = "pending" if roll < 0.01 else "removed" if roll < 0.04 else "active"
            removed = status == "removed"
            released = now - timedelta(days=rng.randint(30, 3600))
            verified = released + timedelta(days=2)
            long_nc = status == "active" and pk % 1000 == 7
            counts["long_non_compliant"] += long_nc
            people.append(
                {
                    "id": pk,
                    "code": f"R-{pk:07d}",
                    "name": empty[Registrant] if removed else name_c,
                    "name_index": None
                    if removed
                    else crypto.blind_index(normalize_name(f"Bench Person {i}"), "register.name"),
                    "aliases": empty[Registrant] if removed else aliases_c,
                    "cnic": empty[Registrant] if removed else cnic_c,
                    "cnic_index": None
                    if removed
                    else crypto.blind_index(_cnic(i).replace("-", ""), CNIC_PURPOSE),
                    "status": status,
                    "compliance": "non_compliant" if long_nc else "compliant",
                    "non_compliant_since": now - timedelta(days=20) if long_nc else None,
                    "district_id": None if removed else district.pk,
                    "last_verified_at": None if removed else verified,
                    "released_at": None if removed else released,
                    "period_ends_on": None if removed else (released + timedelta(days=3650)).date(),
                    "created_at": now,
                    "removed_at": now if removed else None,
                    "removal_reason": "period_ended" if removed else "",
                }
            )
            if removed:
                continue
            phone = f"+92300{pk:07d}"
            idents.append(
                {
                    "id": pk,
                    "registrant_id": pk,
                    "kind": "phone",
                    "value": phone_c,
                    "value_index": crypto.blind_index(phone, "register.identifier"),
                }
            )
            addresses.append(
                {
                    "id": pk,
                    "registrant_id": pk,
                    "address": address_c,
                    "district_id": district.pk,
                    "since": released.date(),
                    "source": "release",
                    "verified_at": verified,
                }
            )
            convictions.append(
                {
                    "id": pk,
                    "registrant_id": pk,
                    "case_id": cases[pk % len(cases)].pk,
                    "judgment_event_id": pk,
                    "convicted_at": now - timedelta(days=4000),
                    "offence_codes": ["PPC 377A"],
                    "sentence": "2 years",
                    "sentence_kind": "custodial",
                    "sentence_months": 24,
                    "rule_id": rule.pk,
                    "rule_set": "uk",
                    "period_months": 120,
                    "verification_interval_months": 12,
                    "status": "confirmed" if status == "active" else "pending",
                    "created_at": now,
                }
            )
            if status != "active":
                continue
            # The last visit, met; the next one due within the year. About 1 in 300 runs out
            # in the 24 hours before the job (a steady day's new misses).
            met_at = now - timedelta(days=rng.randint(1, 360))
            due = met_at + timedelta(days=365)
            if rng.random() < 1 / 300:
                due = now - timedelta(hours=rng.randint(1, 23))
            for row in (
                {
                    "started_at": met_at - timedelta(days=365),
                    "due_at": met_at + timedelta(days=5),
                    "due_soon_at": met_at - timedelta(days=30),
                    "met_at": met_at,
                    "state": "met",
                },
                {
                    "started_at": met_at,
                    "due_at": due,
                    "due_soon_at": due - timedelta(days=36),
                    "met_at": None,
                    "state": "due_soon" if due - timedelta(days=36) < now else "pending",
                },
            ):
                obligation_id += 1
                clocks.append(
                    {"id": obligation_id, "registrant_id": pk, "kind": "verification", **row}
                )
        _copy(Registrant, people)
        _copy(RegistrantIdentifier, idents)
        _copy(Address, addresses)
        _copy(Conviction, convictions)
        _copy(Obligation, clocks)
        counts["obligations"] += len(clocks)
        print(f"  {start + len(people):,} registrants", flush=True)
    with connection.cursor() as cursor:
        for model in (Registrant, RegistrantIdentifier, Address, Conviction, Obligation):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT MAX(id) FROM {table}))"
            )
    counts["cases"] = len(cases)
    return counts


def prepare_checks(count: int) -> tuple[list[Any], Any, Any]:
    """`count` check requests on new Lahore cases, half naming a registrant's CNIC."""
    from django.utils import timezone

    from muhafiz.accounts.roles import JurisdictionLevel, Role
    from muhafiz.cases.models import Accused, AccusedIdentifier, Case, TeamMember
    from muhafiz.catalogue.models import Agency, District
    from muhafiz.register.models import CheckRequest, Registrant
    from muhafiz.testing import make_user

    lahore = District.objects.get(code="LHR")
    investigator = make_user("bench.inv.lahore", Role.INVESTIGATOR, district_code="LHR")
    prosecutor = make_user("bench.pros.lahore", Role.PROSECUTOR, district_code="LHR")
    make_user(
        "bench.register",
        Role.REGISTER_OFFICER,
        district_code=None,
        level=JurisdictionLevel.NATIONAL,
    )
    police = Agency.objects.get(code="PB-POLICE")
    now = timezone.now()
    live = list(
        Registrant.objects.filter(status="active")
        .order_by("?")
        .values_list("pk", flat=True)[:count]
    )
    checks = []
    for n in range(count):
        case = Case.objects.create(
            reference=f"LHR-2026-{9000 + n:04d}",
            district=lahore,
            agency=police,
            reported_at=now - timedelta(days=2),
        )
        TeamMember.objects.create(case=case, user=investigator, team_role="investigator")
        accused = Accused.objects.create(case=case, label="A1", name=f"Suspect {n}")
        cnic = _cnic(live[n] - 1) if n % 2 == 0 else _cnic(5_000_000 + n)
        AccusedIdentifier.objects.create(accused=accused, kind="cnic", value=cnic)
        checks.append(
            CheckRequest.objects.create(
                case=case,
                accused=accused,
                reason="Suspect in a new FIR",
                requested_by=investigator,
                requested_at=now,
                due_at=now + timedelta(hours=48),
            )
        )
    return checks, investigator, prosecutor


def measure(requests: int) -> dict[str, Any]:
    from muhafiz.accounts.models import User
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.register import actions
    from muhafiz.register.models import Registrant
    from muhafiz.testing import signed_in

    rng = random.Random(7)
    results: dict[str, Any] = {}
    checks, investigator, prosecutor = prepare_checks(requests)
    timings = []
    found = 0
    for check in checks:
        started = time.perf_counter()
        decided = actions.decide_check(prosecutor, check, approve=True, reason="Relevant")
        timings.append((time.perf_counter() - started) * 1000)
        found += bool(decided.result and decided.result["found"])
    results["approve"] = _summary(timings)
    results["found"] = found
    client = signed_in(investigator)
    client.post(f"/api/v1/register/checks/{checks[0].pk}/result")  # warm the API's caches
    timings = []
    for check in checks:
        started = time.perf_counter()
        response = client.post(f"/api/v1/register/checks/{check.pk}/result")
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"result answered {response.status_code}")
    results["answer"] = _summary(timings)

    office = signed_in(User.objects.get(username="bench.register"))
    codes = list(
        Registrant.objects.filter(status="active")
        .order_by("?")
        .values_list("code", flat=True)[: requests * 2]
    )
    office.get(f"/register/registrants/{codes[0]}/")  # warm the templates

    def pages() -> Any:
        while True:
            yield f"/register/registrants/{rng.choice(codes)}/"

    results["page"] = timed_requests(office, pages(), requests)

    results["job_day"] = actions.evaluate_compliance(SYSTEM)
    results["job_again"] = actions.evaluate_compliance(SYSTEM)
    # A backlog: a month of the job not running.
    from django.utils import timezone

    results["job_month"] = actions.evaluate_compliance(
        SYSTEM, now=timezone.now() + timedelta(days=30)
    )
    results["registrants"] = Registrant.objects.count()
    return results


def _summary(timings: list[float]) -> dict[str, float]:
    return {"p50": percentile(timings, 0.5), "p95": percentile(timings, 0.95), "max": max(timings)}


def write_results(text: str) -> None:
    content = RESULTS.read_text(encoding="utf-8")
    if START not in content:
        content += f"\n## Register (issue 12)\n{START}\n{END}\n"
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
        return (
            f"| {name} | {e.seconds:.2f} s | {e.missed:,} | {e.non_compliant:,} | "
            f"{e.absconders:,} | {e.alerts:,} | ≤ 60 s |"
        )

    command = ".venv/bin/python -m benchmarks.register"
    if args.registrants != 1_000_000 or args.requests != 200:
        command += f" --registrants {args.registrants} --requests {args.requests}"
    return "\n".join(
        [
            f"Command: `{command}` (PostgreSQL database `{args.database}`, created and dropped "
            "by the script). DEBUG off.",
            "",
            f"Data: {counts['registrants']:,} registrants in every district (1% pending, 3% "
            "removed and erased, the rest registered), each live one with encrypted name, "
            "aliases, CNIC and phone and their blind indexes, a verified address, a conviction, "
            f"a met and an open verification clock ({counts['obligations']:,} clocks); "
            f"{counts['long_non_compliant']:,} non-compliant past the grace. Generated by COPY "
            f"in {gen_s:.0f} s: each encrypted column holds one real ciphertext of a synthetic "
            "value, the blind indexes (CNIC, name, phone: what the check searches) are computed "
            "per row with the real key ring.",
            "",
            f"| operation ({args.requests} each) | p50 ms | p95 ms | max ms | target |",
            "| --- | --- | --- | --- | --- |",
            row(
                "approved check: the prosecutor's `decide_check` (CNIC blind-index lookup over "
                f"all registrants, answer kept, audited; {r['found']} found)",
                r["approve"],
                "p95 ≤ 50 ms",
            ),
            row(
                "the investigator reads the answer: `POST /api/v1/register/checks/{id}/result` "
                "(audited)",
                r["answer"],
                "p95 ≤ 50 ms",
            ),
            row(
                "registrant page `/register/registrants/<code>/`, register officer",
                r["page"],
                "p95 ≤ 150 ms",
            ),
            "",
            "| daily compliance job over every registrant | time | newly missed | newly "
            "non-compliant | absconders | alerts | target |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            job("a day's run", r["job_day"]),
            job("the same again at once (alerts once)", r["job_again"]),
            job("a month later (a backlog)", r["job_month"]),
            "",
            f"Machine: {facts['nproc']} cores ({facts['cpu']}), shared with other engineers' "
            f"work; PostgreSQL {facts['postgres']}, Python {facts['python']}. Load before: "
            f"`{load_before}`; after: `{facts['uptime']}`.",
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--registrants", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database", default="muhafiz_bench_register")
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument("--no-results", action="store_true", help="Leave RESULTS.md alone.")
    parser.add_argument(
        "--snapshot",
        default="",
        help=(
            "Name of a kept copy of the generated database: made after generating if it does "
            "not exist (then only generate, no measuring), measured on a copy of it if it does"
        ),
    )
    parser.add_argument(
        "--snapshot-dir",
        type=Path,
        default=ROOT / "var" / "bench-register-snapshot",
        help="Data directory (key ring) kept with the snapshot",
    )
    args = parser.parse_args(argv)
    load_before = subprocess.run(
        ["uptime"], capture_output=True, text=True, check=False
    ).stdout.strip()
    if args.snapshot and database_exists(args.snapshot):
        with database_from_snapshot(args.database, args.snapshot, args.snapshot_dir) as kept:
            counts, gen_s = kept["counts"], kept["gen_s"]
            print(f"measuring on a copy of {args.snapshot} …", flush=True)
            results = measure(args.requests)
    else:
        with scratch_database(args.database, args.keep) as data_dir:
            print(f"generating {args.registrants:,} registrants …", flush=True)
            started = time.perf_counter()
            counts = generate(args.registrants)
            gen_s = time.perf_counter() - started
            analyze()
            if args.snapshot:
                args.snapshot_dir.mkdir(parents=True, exist_ok=True)
                shutil.copytree(data_dir, args.snapshot_dir, dirs_exist_ok=True)
                keep_snapshot(
                    args.database,
                    args.snapshot,
                    args.snapshot_dir,
                    {"counts": counts, "gen_s": gen_s},
                )
                print(f"kept as {args.snapshot}; run again with --snapshot to measure")
                return
            print("measuring …", flush=True)
            results = measure(args.requests)
    text = report(
        args, counts=counts, gen_s=gen_s, r=results, facts=machine(), load_before=load_before
    )
    print(text)
    if not args.no_results:
        write_results(text)


if __name__ == "__main__":
    main()
