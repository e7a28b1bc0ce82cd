"""Linking a new scan to other cases: per-import streaming of every stored PDQ hash (before) vs
the standing cross-case index (after), on one database holding N stored images.

    .venv/bin/python benchmarks/linking/run.py --stored 1000000 [--database postgres://…]

Generates N stored image rows in other cases (random PDQ hashes, quality 90) and a new scan of
1,000 images (half near-duplicates of stored images, 1-8 bits flipped; half unrelated), then times
the PDQ linking of the new scan both ways in the same run, checks both find the same links, and
writes its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- linking:start -->", "<!-- linking:end -->"
NEW_IMAGES = 1000


def setup(data_dir: Path, database: str | None) -> None:
    os.environ["MUHAFIZ_DATA_DIR"] = str(data_dir)
    os.environ["MUHAFIZ_PROFILE"] = "development"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muhafiz.settings")
    if database:
        os.environ["DATABASE_URL"] = database
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", "-v", "0")


def random_pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def near(pdq: str, rng: random.Random) -> str:
    value = int(pdq, 16)
    for bit in rng.sample(range(256), rng.randint(1, 8)):
        value ^= 1 << bit
    return f"{value:064x}"


def generate(stored: int, seed: int = 14) -> tuple[Any, list[str]]:
    """The stored rows (in two other cases) and the new scan; returns it and the stored sample."""
    from django.db import connection, transaction
    from django.utils import timezone

    from muhafiz.cases import actions as case_actions
    from muhafiz.catalogue.models import Agency, District
    from muhafiz.evidence.models import MediaFile, Scan, ScanOrigin, ScanStatus
    from muhafiz.testing import make_people

    rng = random.Random(seed)
    people = make_people()

    def case(code: str) -> Any:
        return case_actions.create_case(
            people.lahore_investigator if code == "LHR" else people.kasur_investigator,
            district=District.objects.get(code=code),
            agency=Agency.objects.get(code="PB-POLICE"),
            fir_number="",
            reported_at=timezone.now(),
            facts={"victim_under_18"},
        )

    old_case, new_case = case("LHR"), case("KSR")

    def scan(owner: Any) -> Scan:
        return Scan.objects.create(case=owner, origin=ScanOrigin.UPLOAD, status=ScanStatus.IMPORTED)

    old_scan, new_scan = scan(old_case), scan(new_case)
    table = MediaFile._meta.db_table
    columns = [
        "scan_id", "case_id", "source_id", "path", "size", "mime", "md5", "sha1", "sha256",
        "pdq", "pdq_quality", "exif", "known_good", "matched", "category_scheme", "banked_in",
    ]  # fmt: skip
    # Every other column that may not be NULL takes its field's default (a column added later,
    # such as `deleted`, would otherwise stop the insert); one without a default stops here.
    extra: list[Any] = []
    for field in MediaFile._meta.concrete_fields:
        if field.primary_key or field.null or field.column in columns:
            continue
        if not field.has_default() and not field.empty_strings_allowed:
            raise SystemExit(f"MediaFile.{field.name} needs a value in benchmarks/linking")
        default = field.get_default()
        columns.append(field.column)
        extra.append(json.dumps(default) if isinstance(default, dict | list) else default)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
    sample: list[str] = []
    batch: list[tuple[Any, ...]] = []

    def row(owner: Scan, n: int, pdq: str) -> tuple[Any, ...]:
        sha = f"{rng.getrandbits(256):064x}"
        return (owner.pk, owner.case_id, 1, f"img/{n}.jpg", 1000, "image/jpeg", "", "", sha,
                pdq, 90, "{}", False, False, "", "", *extra)  # fmt: skip

    with transaction.atomic(), connection.cursor() as cursor:
        for n in range(stored):
            pdq = random_pdq(rng)
            if n % max(1, stored // 2000) == 0:
                sample.append(pdq)
            batch.append(row(old_scan, n, pdq))
            if len(batch) >= 20_000:
                cursor.executemany(sql, batch)
                batch = []
        for n in range(NEW_IMAGES):
            pdq = near(sample[n % len(sample)], rng) if n % 2 == 0 else random_pdq(rng)
            batch.append(row(new_scan, n, pdq))
        cursor.executemany(sql, batch)
    return new_scan, sample


def timed_links(scan: Any) -> tuple[float, set[tuple[int, int]]]:
    from muhafiz.evidence.links import _pdq_links

    started = time.perf_counter()
    found = {(f.this_media or 0, f.other_case) for f in _pdq_links(scan)}
    return time.perf_counter() - started, found


def run(stored: int, database: str | None, data_dir: Path) -> dict[str, Any]:
    setup(data_dir, database)
    from muhafiz.evidence import media_index

    load_before = os.getloadavg()
    started = time.perf_counter()
    new_scan, _sample = generate(stored)
    generated = time.perf_counter() - started
    # Before: no standing index, every stored hash streamed from the database.
    original = media_index.current_media_index
    media_index.current_media_index = lambda: media_index.EMPTY  # type: ignore[assignment]
    before, found_before = timed_links(new_scan)
    media_index.current_media_index = original  # type: ignore[assignment]
    # After: the index built once over the stored rows (and the new scan's, as the analysis job
    # would have extended it), then the same linking.
    started = time.perf_counter()
    media_index.extend_media_index()
    build = time.perf_counter() - started
    after, found_after = timed_links(new_scan)
    assert found_after == found_before, "the index found other links than streaming"
    return {
        "stored": stored,
        "database": "PostgreSQL" if database else "SQLite",
        "generated": generated,
        "before": before,
        "after": after,
        "build": build,
        "links": len(found_after),
        "load_before": load_before,
        "load_after": os.getloadavg(),
    }


def write_results(results: list[dict[str, Any]], command: str) -> None:
    uptime = subprocess.run(
        ["uptime"], capture_output=True, text=True, check=False, env={**os.environ, "TZ": "UTC"}
    ).stdout
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}`.",
        "",
        f"Machine: {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"`uptime` at the end: `{uptime.strip()}` (the machine is shared with other work).",
        "",
        f"A new scan of {NEW_IMAGES:,} images (half near-duplicates of stored images, 1-8 bits "
        "flipped; half unrelated) linked by PDQ against N stored images of other cases. Before: "
        "every stored hash streamed from the database into in-memory indexes per import (the "
        "earlier code path). After: the standing cross-case index (evidence.media_index), "
        "built once, extended after each analysis; only rows above its high-water mark are read "
        "from the database. Both find the same links (checked).",
        "",
        "| stored images | database | before (streaming) | after (standing index) | speed-up "
        "| index build, once | links found | load before / after |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['stored']:,} | {r['database']} | {r['before']:.2f} s | {r['after']:.3f} s "
            f"| {r['before'] / r['after']:.0f}× | {r['build']:.1f} s | {r['links']} "
            f"| {' '.join(f'{x:.1f}' for x in r['load_before'])} / "
            f"{' '.join(f'{x:.1f}' for x in r['load_after'])} |"
        )
    text = "\n".join(lines)
    content = RESULTS.read_text(encoding="utf-8")
    if START not in content:
        content += f"\n## Cross-case linking (issue 14)\n{START}\n{END}\n"
    head, rest = content.split(START, 1)
    _, tail = rest.split(END, 1)
    RESULTS.write_text(f"{head}{START}\n{text}\n{END}{tail}", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--stored",
        default="1000000",
        help="stored images, or several sizes separated by commas (one table row each)",
    )
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite in a fresh dir)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-linking")
    parser.add_argument("--no-results", action="store_true", help="Leave RESULTS.md alone.")
    args = parser.parse_args()
    import shutil

    sizes = [int(size) for size in args.stored.split(",")]
    if len(sizes) == 1:
        shutil.rmtree(args.data_dir, ignore_errors=True)
        args.data_dir.mkdir(parents=True)
        results = [run(sizes[0], args.database, args.data_dir)]
        print(json.dumps(results[0]), flush=True)
    else:
        # Django is set up once a process, on one database: each size runs in its own process.
        results = []
        for stored in sizes:
            command = [sys.executable, __file__, "--stored", str(stored), "--no-results"]
            command += ["--data-dir", str(args.data_dir / str(stored))]
            command += ["--database", args.database] if args.database else []
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(done.stdout.strip().splitlines()[-1], flush=True)
            shutil.rmtree(args.data_dir / str(stored), ignore_errors=True)  # GBs at 10 M
    if not args.no_results:
        write_results(results, " ".join(["python", *sys.argv]))


if __name__ == "__main__":
    main()
