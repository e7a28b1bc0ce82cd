"""Server-database imports: a PDQ list and an NSRL RDS database into a bank (the file read once
into a temporary table, `COPY` on PostgreSQL and `executemany` on SQLite, then moved into the
bank in chunks with the bank's unique indexes dropping duplicates).

    .venv/bin/python benchmarks/imports/run.py --pdq 1000000 --nsrl 0 [--database postgres://…]
        [--existing 1000000]

Generates the files (random PDQ hashes; NSRL rows of random SHA-256/SHA-1/MD5) under a
temporary folder, imports each into a fresh bank with `hashbank.actions.import_hash_list` (the
same action as `muhafiz bank import`), and prints wall seconds, this process's CPU seconds, rows
per second and the load average, plus its section of benchmarks/RESULTS.md (written with
--write-results).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
START, END = "<!-- imports:start -->", "<!-- imports:end -->"


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


def pdq_list(path: Path, count: int, seed: int = 6) -> Path:
    rng = random.Random(seed)
    with path.open("w", encoding="ascii") as out:
        for _ in range(count):
            out.write(f"{rng.getrandbits(256):064x},100\n")
    return path


NSRL_SCHEMA = """
CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR NOT NULL,
  crc32 VARCHAR, file_name VARCHAR, file_size INTEGER, package_id INTEGER);
CREATE TABLE VERSION (version VARCHAR, build_set VARCHAR, build_date TIMESTAMP,
  release_date TIMESTAMP, description VARCHAR);
CREATE VIEW DISTINCT_HASH AS SELECT DISTINCT sha256, sha1, md5, crc32 FROM FILE;
"""


def nsrl_database(path: Path, count: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(NSRL_SCHEMA)
        batch = 100_000
        for start in range(0, count, batch):
            connection.executemany(
                "INSERT INTO FILE (sha256, sha1, md5, file_name, file_size, package_id) "
                "VALUES (?, ?, ?, ?, ?, 1)",
                (
                    (
                        f"{rng.getrandbits(256):064X}",
                        f"{rng.getrandbits(160):040X}",
                        f"{rng.getrandbits(128):032X}",
                        f"file{start + i}.dll",
                        rng.randint(1, 1 << 20),
                    )
                    for i in range(min(batch, count - start))
                ),
            )
        connection.execute("INSERT INTO VERSION VALUES ('2026.09.1', 'modern', '', '', 'bench')")
        connection.commit()
    finally:
        connection.close()
    return path


def timed_import(source: Path, kind: str, label: str) -> dict[str, Any]:
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.hashbank.actions import create_bank, import_hash_list

    bank = create_bank(SYSTEM, name=f"bench-{label[:40]}-{time.time_ns()}", kind=kind)
    load = os.getloadavg()[0]
    server = server_cpu()
    cpu, wall = time.process_time(), time.perf_counter()
    result = import_hash_list(SYSTEM, bank, source)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server = server_cpu() - server
    reset(bank)
    return {
        "label": label,
        "added": result.added,
        "wall": wall,
        "cpu": cpu,
        "server": server,
        "rate": result.added / wall if wall else 0.0,
        "load": (load, os.getloadavg()[0]),
    }


def server_cpu() -> float:
    """PostgreSQL on this machine: the CPU seconds its process serving this connection has
    used (from /proc; the server's other processes, such as parallel workers, not counted);
    NaN otherwise."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return float("nan")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # another machine's server
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset(bank: Any) -> None:
    """Remove the run's entries (not timed), so that every run starts from the same table: the
    one before it would otherwise find the table larger (its indexes deeper, its keys' validation
    longer)."""
    from django.db import connection

    from muhafiz.hashbank.models import BankEntry

    table = connection.ops.quote_name(BankEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE bank_id = %s", [bank.pk])  # noqa: S608
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {table}")


def compare(
    source: Path,
    kind: str,
    vendor: str,
    caches: tuple[int, ...] = (),
    *,
    rows: int = 0,
    chunks_up_to: int = 0,
) -> list[dict[str, Any]]:
    """The paths before and the path now, same run, same database, each into a fresh bank.

    PostgreSQL: first, the entry table's foreign keys checked row by row (the move in chunks);
    then, dropped and added back around one move (decision 0107), each row still checked
    against the unique indexes (`ON CONFLICT DO NOTHING`); now, a list of one hash column
    moves the first row of each hash not in the bank in one plain `INSERT`. NSRL: before, a
    record (`HashEntry`) made for every row; now, rows read as tuples checked a batch at a
    time."""
    from muhafiz.banks.formats.nsrl import NsrlRds
    from muhafiz.hashbank.actions import imports

    before: list[tuple[Any, str, Any]] = []
    was, now = [], []
    earlier: list[tuple[str, list[tuple[Any, str, Any]]]] = []
    if vendor == "postgresql":
        before.append((imports, "BULK_ROWS", 1 << 62))
        was.append("keys checked per row")
        now.append(f"keys dropped from {imports.BULK_ROWS:,} rows")
        if kind != "known-good":  # NSRL rows fill three hash columns: ON CONFLICT still
            no_first = (imports._Staging, "first_of_each_hash", lambda *_: None)
            earlier.append((f"before: {now[0]}, ON CONFLICT per row", [no_first]))
            now.append("first of each hash, plain INSERT")
    if vendor == "sqlite" and rows <= chunks_up_to:
        # Before: the move in chunks of about 0.1 s. Above `chunks_up_to` rows it is not run:
        # at 5 M NSRL rows it had not finished after 47 minutes (RESULTS.md).
        before.append((imports, "BULK_ROWS", 1 << 62))
        was.append("moved in chunks")
    if vendor == "sqlite":
        now.append(f"unique indexes built again from {imports.BULK_ROWS:,} rows")
    if kind == "known-good" and (vendor != "sqlite" or rows <= chunks_up_to):  # NSRL

        def per_record(self: Any, path: Path, on_error: Any) -> Any:
            for e in self.read(path, on_error):
                yield (e.md5, e.sha1, e.sha256, e.line)

        before.append((NsrlRds, "read_plain", per_record))
        was.append("a record per row")
        now.append("rows checked a batch at a time")
    if not before:
        label = "now: " + ", ".join(now) if now else "one read, set-based"
        return [timed_import(source, kind, label)]
    runs = []
    with contextlib.ExitStack() as stack:
        for owner, name, value in before:
            stack.enter_context(mock.patch.object(owner, name, value))
        runs.append(timed_import(source, kind, "before: " + ", ".join(was)))
    for label, patches in earlier:
        with contextlib.ExitStack() as stack:
            for owner, name, value in patches:
                stack.enter_context(mock.patch.object(owner, name, value))
            runs.append(timed_import(source, kind, label))
    runs.append(timed_import(source, kind, "now: " + ", ".join(now)))
    for mib in caches if vendor == "sqlite" else ():  # a larger page cache, to measure
        with mock.patch.object(imports, "SQLITE_CACHE_KIB", mib * 1024):
            runs.append(timed_import(source, kind, f"now, page cache {mib} MiB"))
    return runs


def fill(folder: Path, count: int) -> None:
    """Another bank holding `count` PDQ hashes, imported before the timed runs (not timed): the
    keys' validation reads the whole entry table."""
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.hashbank.actions import create_bank, import_hash_list

    bank = create_bank(SYSTEM, name=f"bench-existing-{time.time_ns()}", kind="watch")
    import_hash_list(SYSTEM, bank, pdq_list(folder / "existing.pdq", count, seed=99))


def section(
    rows: list[tuple[str, int, list[dict[str, Any]]]], vendor: str, command: str, existing: int
) -> str:
    lines = [
        START,
        f"### Server-database imports ({vendor})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other sessions; "
        f"command: `{command}`. CPU: this process's, and on PostgreSQL on this machine the "
        "server process's serving it (from /proc). "
        f"The entry table held {existing:,} rows of another bank before the first run.",
        "",
        "| list | rows | path | wall s | CPU s (this process) | CPU s (server) | rows/s "
        "| load (start → end) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, count, runs in rows:
        for run in runs:
            server = "—" if run["server"] != run["server"] else f"{run['server']:.1f}"  # NaN
            lines.append(
                f"| {name} | {count:,} | {run['label']} | {run['wall']:.1f} | {run['cpu']:.1f} "
                f"| {server} | {run['rate']:,.0f} | {run['load'][0]:.1f} → {run['load'][1]:.1f} |"
            )
    lines.append(END)
    return "\n".join(lines)


def write_results(text: str, vendor: str) -> None:
    start, end = (
        START.replace("imports", f"imports-{vendor}"),
        END.replace("imports", f"imports-{vendor}"),
    )
    text = text.replace(START, start).replace(END, end)
    current = RESULTS.read_text(encoding="utf-8")
    if start in current and end in current:
        head, rest = current.split(start, 1)
        current = head + text + rest.split(end, 1)[1]
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS.write_text(current, encoding="utf-8")


def _masked(argument: str) -> str:
    """A database URL's password, if it has one, replaced by `***`."""
    from urllib.parse import urlsplit, urlunsplit

    if "://" not in argument:
        return argument
    parts = urlsplit(argument)
    if parts.password is None:
        return argument
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdq", type=int, default=1_000_000, help="PDQ hashes (0: skip)")
    parser.add_argument("--nsrl", type=int, default=0, help="NSRL rows (0: skip)")
    parser.add_argument("--database", help="DATABASE_URL (default: SQLite in a temporary folder)")
    parser.add_argument(
        "--existing", type=int, default=0, help="PDQ hashes in another bank before the runs"
    )
    parser.add_argument(
        "--sqlite-cache-mib",
        default="",
        help="SQLite: NSRL imported again with each of these page caches (comma-separated MiB)",
    )
    parser.add_argument(
        "--sqlite-chunks-up-to",
        type=int,
        default=1_000_000,
        help="SQLite: the move in chunks (before) is run beside the bulk move up to this many rows",
    )
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="muhafiz-imports-") as work:
        folder = Path(work)
        setup(folder / "data", args.database)
        from django.db import connection

        vendor = connection.vendor
        rows: list[tuple[str, int, list[dict[str, Any]]]] = []
        if args.existing:
            fill(folder, args.existing)
        if args.pdq:
            source = pdq_list(folder / "bench.pdq", args.pdq)
            rows.append(
                (
                    "PDQ",
                    args.pdq,
                    compare(
                        source,
                        "watch",
                        vendor,
                        rows=args.pdq,
                        chunks_up_to=args.sqlite_chunks_up_to,
                    ),
                )
            )
        if args.nsrl:
            source = nsrl_database(folder / "rds.db", args.nsrl)
            caches = tuple(int(m) for m in args.sqlite_cache_mib.split(",") if m)
            rows.append(
                (
                    "NSRL",
                    args.nsrl,
                    compare(
                        source,
                        "known-good",
                        vendor,
                        caches,
                        rows=args.nsrl,
                        chunks_up_to=args.sqlite_chunks_up_to,
                    ),
                )
            )
    # The whole command, the database URL with it (the trust-authenticated local server's:
    # no password; one given is masked).
    command = ".venv/bin/python benchmarks/imports/run.py " + " ".join(
        _masked(a) for a in sys.argv[1:]
    )
    text = section(rows, vendor, command, args.existing)
    print(text)
    if args.write_results:
        write_results(text, vendor)


if __name__ == "__main__":
    main()
