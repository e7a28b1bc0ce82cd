"""A server scan fanned out into shards on 1, 2 and 4 RQ workers, against the engine alone.

    .venv/bin/python benchmarks/fanout/run.py --gigabytes 5 [--workers 1,2,4]
        [--redis redis://127.0.0.1:6379/11] [--database postgres://…] [--disk-image]

Generates a folder of small files (`--file-kb`, 256 by default, 1 % of them pictures) under a
fresh data directory, then for each worker count starts that many `muhafiz worker` processes on
RQ, queues a server scan of the folder and times it from the queueing to the merged scan file's
import (listing, shards, merge, import of the rows; not the bank matching after it). The same
folder is scanned once by the engine alone in this process (`start_scan`, one process: what a
field laptop does) for the cost of the fan-out itself. Checks that every run's court report
(CSV) is byte-identical to the engine's. Writes its section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def setup(data_dir: Path, database: str | None, redis: str) -> None:
    os.environ["MUHAFIZ_DATA_DIR"] = str(data_dir)
    os.environ["MUHAFIZ_PROFILE"] = "development"
    os.environ["REDIS_URL"] = redis
    os.environ["MUHAFIZ_SCAN_ROOTS"] = str(data_dir / "sources")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muhafiz.settings")
    if database:
        os.environ["DATABASE_URL"] = database
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--no-input", "-v", "0")


def source(
    data_dir: Path, gigabytes: float, file_kb: int, *, disk_image: bool = False
) -> tuple[Path, int, int]:
    """The generated folder; with `disk_image`, the same folder as an ext4 raw disk image (made
    with `mke2fs -d`, nothing mounted), the folder itself removed."""
    from muhafiz.testing import generate_scan_source

    folder = data_dir / "sources" / "seized-share"
    files = max(1, int(gigabytes * 1024**3 / (file_kb * 1024)))
    total = generate_scan_source(folder, files, file_bytes=file_kb * 1024, images=files // 100)
    if not disk_image:
        return folder, files + files // 100, total
    image = data_dir / "sources" / "seized-disk.raw"
    size = int(total * 1.2) + 64 * 1024 * 1024
    subprocess.run(["truncate", "-s", str(size), str(image)], check=True)
    inodes = str(files * 2 + 4096)  # the default ratio leaves too few for small files
    subprocess.run(
        ["mke2fs", "-q", "-F", "-t", "ext4", "-N", inodes, "-d", str(folder), str(image)],
        check=True,
    )
    shutil.rmtree(folder)
    return image, files + files // 100, total


def report_sha256(scan_file: Path, out: Path) -> str:
    from muhafiz.triage.reports import write_report

    write_report(scan_file, "csv", out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    out.unlink()
    return digest


def engine_alone(folder: Path, data_dir: Path) -> dict[str, Any]:
    from muhafiz.triage.engine import ScanOptions, start_scan

    out = data_dir / "engine-alone.scan"
    load = os.getloadavg()
    began = time.perf_counter()
    start_scan(ScanOptions(sources=[folder], out=out, case_ref="bench", examiner="bench"))
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "report": report_sha256(out, data_dir / "r.csv"), "load": load}


def workers_run(count: int, folder: Path, case: Any, actor: Any, env: dict[str, str]) -> dict:
    import django_rq

    from muhafiz.core.jobs import worker_command
    from muhafiz.evidence import actions
    from muhafiz.evidence.actions.scans import stored_file
    from muhafiz.evidence.models import Scan, ScanShard, ScanStatus

    django_rq.get_connection().flushdb()
    name, args = worker_command(["scans", "default"], batch=False)
    logs = Path(env["MUHAFIZ_DATA_DIR"]) / "logs"
    logs.mkdir(exist_ok=True)
    workers = []
    for number in range(count):
        with (logs / f"worker-{count}-{number}.log").open("wb") as log:
            workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "django", name, *args, "--name", f"w{count}-{number}"],
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
    time.sleep(3)  # every worker listening before the scan is queued
    load = os.getloadavg()
    began = time.perf_counter()
    try:
        scan = actions.queue_server_scan(actor, case, str(folder))
        while Scan.objects.get(pk=scan.pk).status == ScanStatus.QUEUED:
            time.sleep(0.2)
        seconds = time.perf_counter() - began
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
    scan.refresh_from_db()
    if scan.status != ScanStatus.IMPORTED:
        raise SystemExit(f"the scan with {count} workers failed: {scan.failure}")
    shards = ScanShard.objects.filter(scan=scan, number__gt=0)
    return {
        "workers": count,
        "seconds": seconds,
        "shards": shards.count(),
        "retried": sum(1 for s in shards if s.attempts > 1),
        "report": report_sha256(stored_file(scan), Path(env["MUHAFIZ_DATA_DIR"]) / "r.csv"),
        "load": load,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    shutil.rmtree(args.data_dir, ignore_errors=True)
    args.data_dir.mkdir(parents=True)
    setup(args.data_dir, args.database, args.redis)
    from django.conf import settings
    from django.utils import timezone

    from muhafiz.cases import actions as case_actions
    from muhafiz.catalogue.models import Agency, District
    from muhafiz.testing import make_people

    folder, files, total = source(
        args.data_dir, args.gigabytes, args.file_kb, disk_image=args.disk_image
    )
    people = make_people()
    case = case_actions.create_case(
        people.lahore_investigator,
        district=District.objects.get(code="LHR"),
        agency=Agency.objects.get(code="PB-POLICE"),
        fir_number="",
        reported_at=timezone.now(),
        facts={"victim_under_18"},
    )
    env = {
        **os.environ,
        "DATABASE_URL": args.database or f"sqlite:///{settings.DATABASES['default']['NAME']}",
        "MUHAFIZ_SCAN_SHARD_FILES": str(args.shard_files),
        "MUHAFIZ_SCAN_SHARD_BYTES": str(args.shard_mb * 1024 * 1024),
    }
    alone = engine_alone(folder, args.data_dir)
    runs = [
        workers_run(count, folder, case, people.lahore_investigator, env) for count in args.workers
    ]
    for r in runs:
        if r["report"] != alone["report"]:
            raise SystemExit(f"the report with {r['workers']} workers differs from the engine's")
    return {
        "files": files,
        "bytes": total,
        "alone": alone,
        "runs": runs,
        "database": "PostgreSQL" if args.database else "SQLite",
        "source": "an ext4 disk image of" if args.disk_image else "a folder of",
        "shard_files": args.shard_files,
        "shard_mb": args.shard_mb,
    }


def write_results(result: dict[str, Any], command: str) -> None:
    sys.path.insert(0, str(ROOT))
    from benchmarks.results import uptime, write_section

    gb = result["bytes"] / 1024**3
    alone = result["alone"]
    one = next((r for r in result["runs"] if r["workers"] == 1), result["runs"][0])
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}`.",
        "",
        f"Machine: {os.cpu_count()} cores; Python {platform.python_version()}; "
        f"`uptime` at the end: `{uptime()}`.",
        "",
        f"{result['source'].capitalize()} {result['files']:,} files, {gb:.2f} GB (1 % pictures), "
        "scanned on the "
        f"server in shards of at most about {result['shard_files']:,} files or "
        f"{result['shard_mb']} MB by N RQ workers ({result['database']}), timed from queueing "
        "to the merged file's import; the engine alone (one process, no queue) for comparison. "
        "Every run's CSV court report is byte-identical to the engine's (checked).",
        "",
        "| run | time | GB/s | files/s | vs 1 worker | shards (retried) | load before |",
        "|---|---:|---:|---:|---:|---:|---|",
        f"| engine alone | {alone['seconds']:.1f} s | {gb / alone['seconds']:.3f} "
        f"| {result['files'] / alone['seconds']:,.0f} | | | "
        f"{' '.join(f'{x:.1f}' for x in alone['load'])} |",
    ]
    for r in result["runs"]:
        lines.append(
            f"| {r['workers']} worker{'s' if r['workers'] > 1 else ''} | {r['seconds']:.1f} s "
            f"| {gb / r['seconds']:.3f} | {result['files'] / r['seconds']:,.0f} "
            f"| {one['seconds'] / r['seconds']:.2f}× | {r['shards']} ({r['retried']}) "
            f"| {' '.join(f'{x:.1f}' for x in r['load'])} |"
        )
    key = "fanout-disk" if result["source"].startswith("an ext4") else "fanout"
    title = "Server scans fanned out into shards (issue 14)" + (
        ": a disk image" if key == "fanout-disk" else ""
    )
    write_section(key, title, "\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gigabytes", type=float, default=5.0)
    parser.add_argument("--file-kb", type=int, default=256)
    parser.add_argument(
        "--workers", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2, 4]
    )
    parser.add_argument("--shard-files", type=int, default=2000)
    parser.add_argument("--shard-mb", type=int, default=256)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/11", help="emptied each run")
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite in a fresh dir)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-fanout")
    parser.add_argument("--no-results", action="store_true", help="Leave RESULTS.md alone.")
    parser.add_argument(
        "--disk-image", action="store_true", help="Scan the folder as an ext4 raw disk image."
    )
    args = parser.parse_args()
    result = run(args)
    print(result)
    if not args.no_results:
        write_results(result, " ".join(["python", *sys.argv]))


if __name__ == "__main__":
    main()
