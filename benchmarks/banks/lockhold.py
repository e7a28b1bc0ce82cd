"""How long a bank import holds SQLite's write lock, and how long a case write waits meanwhile
(issue 8, finding 5 at NSRL scale), one command:

    .venv/bin/python -m benchmarks.banks.lockhold                  # 1,000,000-row NSRL set
    .venv/bin/python -m benchmarks.banks.lockhold --rows 50000 --no-results   # a smoke run

It generates an NSRL RDS v3 set (a `FILE` table of random MD5/SHA-1/SHA-256 hex, no real list),
migrates one SQLite database (WAL, the application's settings), then imports the set into a new
bank: read once into a temporary table (no lock on the database), then moved into the bank in
chunks sized to hold the write lock about `CHUNK_SECONDS["sqlite"]`, with a pause after each.
Earlier figures (1 M rows, idle): one `INSERT … SELECT` for the move, longest wait 18.9 s;
2,000-row move chunks after 20,000-row staging transactions, 3.3 s.

Meanwhile a separate writer process (plain sqlite3, the application's 30 s busy timeout) makes a
small write every 50 ms (`BEGIN IMMEDIATE`, one UPDATE, COMMIT) and records how long each waited
for the write lock: its longest wait is the longest time the import held the lock. Figures go
to the bank-import section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- bank-import-lock:start -->", "<!-- bank-import-lock:end -->"
BUSY_SECONDS = 30  # the application's default (MUHAFIZ_SQLITE_BUSY_SECONDS)

WRITER = r"""
import json, sqlite3, sys, time
database, stop_file = sys.argv[1], sys.argv[2]
conn = sqlite3.connect(database, timeout=float(sys.argv[3]), isolation_level=None)
UPDATE = "UPDATE catalogue_agency SET name = ? WHERE id = (SELECT min(id) FROM catalogue_agency)"
waits, failures, n = [], 0, 0
while True:
    n += 1
    started = time.monotonic()
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(UPDATE, (f"write {n}",))
        conn.execute("COMMIT")
        waits.append(time.monotonic() - started)
    except sqlite3.OperationalError:
        failures += 1
        try:
            conn.execute("ROLLBACK")
        except sqlite3.OperationalError:
            pass
    try:
        open(stop_file).close()
        break
    except FileNotFoundError:
        time.sleep(0.05)
print(json.dumps({"waits": waits, "failures": failures}))
"""


def make_nsrl(path: Path, rows: int, seed: int = 20261207) -> None:
    """An RDS v3-shaped set: `FILE` with the three hash columns, uppercase hex, random."""
    rng = random.Random(seed)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE FILE (sha256 TEXT, sha1 TEXT, md5 TEXT, file_name TEXT)")
        batch = 50_000
        for start in range(0, rows, batch):
            conn.executemany(
                "INSERT INTO FILE VALUES (?, ?, ?, ?)",
                [
                    (
                        f"{rng.getrandbits(256):064X}",
                        f"{rng.getrandbits(160):040X}",
                        f"{rng.getrandbits(128):032X}",
                        f"file{start + i}.dll",
                    )
                    for i in range(min(batch, rows - start))
                ],
            )
    conn.close()


def configure(database: Path, data_dir: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["MUHAFIZ_DATA_DIR"] = str(data_dir)
    os.environ["MUHAFIZ_PROFILE"] = "development"
    os.environ["MUHAFIZ_DEBUG"] = "false"
    os.environ["MUHAFIZ_LOG_LEVEL"] = "WARNING"
    os.environ["DJANGO_SETTINGS_MODULE"] = "muhafiz.settings"
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def use_database(path: Path) -> None:
    from django.db import connections

    connections.close_all()
    connections["default"].settings_dict["NAME"] = str(path)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_side(label: str, database: Path, nsrl: Path) -> dict[str, Any]:
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.hashbank import actions
    from muhafiz.hashbank.actions import imports
    from muhafiz.hashbank.models import BankEntry

    use_database(database)
    bank = actions.create_bank(SYSTEM, name=f"NSRL {label}", kind="known-good", enabled=False)
    stop = database.with_suffix(".stop")
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(database), str(stop), str(BUSY_SECONDS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    load_before = os.getloadavg()[0]
    cpu = cpu_seconds()
    started = time.perf_counter()
    result = imports.import_hash_list(SYSTEM, bank, nsrl)
    wall = time.perf_counter() - started
    cpu = cpu_seconds() - cpu
    time.sleep(1.0)
    stop.touch()
    out, _ = writer.communicate(timeout=BUSY_SECONDS + 60)
    written = json.loads(out.strip().splitlines()[-1])
    waits = sorted(written["waits"])
    return {
        "side": label,
        "added": result.added,
        "visible": BankEntry.objects.active().filter(bank=bank).count(),
        "import_s": wall,
        "import_cpu_s": cpu,
        "writes": len(waits),
        "failed_writes": written["failures"],
        "longest_wait_s": waits[-1] if waits else 0.0,
        "p99_wait_s": waits[int(0.99 * (len(waits) - 1))] if waits else 0.0,
        "waits_over_1s": sum(1 for w in waits if w > 1.0),
        "load": f"{load_before:.1f} → {os.getloadavg()[0]:.1f}",
    }


def table(rows: int, results: list[dict[str, Any]], chunk: float) -> str:
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version} (WAL). "
        f"NSRL set: {rows:,} rows (generated). Writer: one small write every 50 ms, busy "
        f"timeout {BUSY_SECONDS} s. Chunks sized to hold the lock about {chunk:.2f} s.",
        "",
        '| side | import wall (CPU) | writes | failed ("database is locked") | longest wait '
        "= longest lock hold | p99 wait | waits > 1 s | load |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r['side']} | {r['import_s']:.1f} s ({r['import_cpu_s']:.1f} s) | {r['writes']} | "
            f"{r['failed_writes']} | **{r['longest_wait_s']:.2f} s** | {r['p99_wait_s']:.2f} s | "
            f"{r['waits_over_1s']} | {r['load']} |"
        )
    rows_option = f" --rows {rows}" if rows != 1_000_000 else ""
    lines += ["", f"Command: `.venv/bin/python -m benchmarks.banks.lockhold{rows_option}`"]
    return "\n".join(lines)


def write_results(text: str) -> None:
    current = RESULTS.read_text(encoding="utf-8")
    block = f"{START}\n{text}\n{END}"
    if START in current:
        head, rest = current.split(START, 1)
        current = head + block + rest.split(END, 1)[1]
    else:
        current = (
            current.rstrip("\n")
            + "\n\n## Bank import and the write lock (issue 8, finding 5)\n\n"
            + block
            + "\n"
        )
    RESULTS.write_text(current, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--no-results", action="store_true", help="print, do not write RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="muhafiz-lockhold-"))
    try:
        template = work / "template.sqlite3"
        configure(template, work / "data")
        from django.core.management import call_command

        from muhafiz.hashbank.actions import imports

        chunk = imports.CHUNK_SECONDS["sqlite"]
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        nsrl = work / "rds.db"
        make_nsrl(nsrl, args.rows)
        print(f"prepared in {time.perf_counter() - started:.1f} s", flush=True)
        from django.db import connections

        connections.close_all()
        results = []
        for label in ("temporary table, time-sized chunks (now)",):
            database = work / f"{len(results)}.sqlite3"
            shutil.copy(template, database)
            results.append(run_side(label, database, nsrl))
            print(json.dumps(results[-1]), flush=True)
        text = table(args.rows, results, chunk)
        print(text)
        if not args.no_results:
            write_results(text)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
