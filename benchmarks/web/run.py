"""The web server under load: `muhafiz serve` (gunicorn) against the development server
(`muhafiz serve --dev`) in the same run, on one database.

    .venv/bin/python benchmarks/web/run.py [--clients 20] [--requests 25] [--database URL]

Seeds a fresh installation (SQLite in its own data directory unless --database names a
PostgreSQL database) with the test people, a case and a hash-matcher API client, starts each
server in turn on 127.0.0.1, and sends from `--clients` concurrent clients (threads, each with
its own keep-alive connection) `--requests` requests each to: a signed-in case page, and
`POST /api/v1/match` with 100 hashes a request (bearer token). Requests per second and the
95th percentile latency go to benchmarks/RESULTS.md with the load average.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"

SEED = """
from muhafiz.core.cli import setup_django
setup_django()
import json
from django.utils import timezone
from muhafiz.cases import actions as case_actions
from muhafiz.catalogue.models import Agency, District
from muhafiz.testing import make_api_client, make_people, signed_in
people = make_people()
case = case_actions.create_case(
    people.lahore_investigator,
    district=District.objects.get(code="LHR"),
    agency=Agency.objects.get(code="PB-POLICE"),
    fir_number="",
    reported_at=timezone.now(),
    facts={"victim_under_18"},
)
_client, token = make_api_client("hash_matcher")
print(json.dumps({
    "case": case.reference,
    "session": signed_in(people.lahore_investigator).cookies["sessionid"].value,
    "token": token,
}))
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def muhafiz(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "muhafiz", *args], env=env, check=True)


def start(env: dict[str, str], port: int, dev: bool, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "muhafiz", "serve", "--bind", f"127.0.0.1:{port}"]
    if dev:
        command.append("--dev")
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


def stop(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    server.wait(timeout=60)


def load(port: int, clients: int, requests: int, request: dict[str, Any]) -> dict[str, float]:
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        barrier.wait()
        for _ in range(requests):
            started = time.perf_counter()
            connection.request(request["method"], request["path"], request.get("body"),
                               request["headers"])  # fmt: skip
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                with lock:
                    failures.append(str(response.status))
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed: {sorted(set(failures))}")
    ordered = sorted(latencies)
    return {
        "rps": len(ordered) / elapsed,
        "p50": ordered[len(ordered) // 2] * 1000,
        "p95": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25, help="per client and endpoint")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn workers")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds, best kept")
    parser.add_argument("--database", help="a PostgreSQL URL (default: SQLite)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var" / "bench-web")
    parser.add_argument("--no-results", action="store_true")
    args = parser.parse_args()
    shutil.rmtree(args.data_dir, ignore_errors=True)
    args.data_dir.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUHAFIZ_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    env |= {"MUHAFIZ_DATA_DIR": str(args.data_dir), "MUHAFIZ_DEBUG": "false",
            "MUHAFIZ_PROFILE": "development"}  # fmt: skip
    if args.database:
        env["DATABASE_URL"] = args.database
    if args.workers:
        env["MUHAFIZ_WEB_WORKERS"] = str(args.workers)
    muhafiz(env, "migrate")
    seeded = json.loads(
        subprocess.run(
            [sys.executable, "-c", SEED], env=env, capture_output=True, text=True, check=True
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    rng = random.Random(14)
    hashes = [{"type": "pdq", "value": f"{rng.getrandbits(256):064x}"} for _ in range(50)]
    hashes += [{"type": "sha256", "value": f"{rng.getrandbits(256):064x}"} for _ in range(50)]
    endpoints = {
        "signed-in case page": {
            "method": "GET",
            "path": f"/cases/{seeded['case']}/",
            "headers": {"Cookie": f"sessionid={seeded['session']}"},
        },
        "POST /api/v1/match (100 hashes)": {
            "method": "POST",
            "path": "/api/v1/match",
            "body": json.dumps({"hashes": hashes}),
            "headers": {
                "Authorization": f"Bearer {seeded['token']}",
                "Content-Type": "application/json",
            },
        },
    }
    results: dict[tuple[str, str], dict[str, float]] = {}
    loads = [os.getloadavg()]
    # Interleaved rounds, best round kept: the machine is shared, and the load moves.
    for _round in range(args.rounds):
        for name, dev in (("gunicorn (muhafiz serve)", False), ("development server", True)):
            port = free_port()
            server = start(env, port, dev, args.data_dir / f"{'dev' if dev else 'gunicorn'}.log")
            try:
                for endpoint, request in endpoints.items():
                    load(port, args.clients, 3, request)  # every worker loads its code first
                    measured = load(port, args.clients, args.requests, request)
                    print(name, endpoint, measured, flush=True)
                    best = results.get((name, endpoint))
                    if best is None or measured["rps"] > best["rps"]:
                        results[(name, endpoint)] = measured
            finally:
                stop(server)
            loads.append(os.getloadavg())
    if not args.no_results:
        write_results(results, loads, args, " ".join(["python", *sys.argv]))


def write_results(
    results: dict[tuple[str, str], dict[str, float]],
    loads: list[tuple[float, float, float]],
    args: argparse.Namespace,
    command: str,
) -> None:
    from muhafiz.ops.web import default_workers

    uptime = subprocess.run(
        ["uptime"], capture_output=True, text=True, check=False, env={**os.environ, "TZ": "UTC"}
    ).stdout
    workers = args.workers or default_workers()
    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}`.",
        "",
        f"Machine: {os.cpu_count()} cores, shared with other work; `uptime` at the end: "
        f"`{uptime.strip()}`. Load average (1/5/15 min) before and after each server's turn: "
        f"{' / '.join(' '.join(f'{x:.1f}' for x in la) for la in loads)}.",
        "",
        f"{args.clients} concurrent clients on 127.0.0.1, {args.requests} requests each per "
        f"endpoint after 3 each to warm up, keep-alive, best of {args.rounds} interleaved "
        f"rounds; {'PostgreSQL' if args.database else 'SQLite (WAL)'}; gunicorn "
        f"with {workers} workers × 2 threads (the default for this core count); DEBUG off. "
        "The match request carries 50 PDQ and 50 SHA-256 hashes against the installation's "
        "(empty) banks, so it measures the request path, not bank size (benchmarks/banks does).",
        "",
        "| endpoint | server | requests/s | p50 | p95 |",
        "|---|---|---:|---:|---:|",
    ]
    for (server, endpoint), r in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        lines.append(
            f"| {endpoint} | {server} | {r['rps']:.1f} | {r['p50']:.0f} ms | {r['p95']:.0f} ms |"
        )
    text = "\n".join(lines)
    # One section per database, so that a run on one leaves the other's figures.
    kind = "postgresql" if args.database else "sqlite"
    start, end = f"<!-- web-{kind}:start -->", f"<!-- web-{kind}:end -->"
    content = RESULTS.read_text(encoding="utf-8")
    if start not in content:
        title = "PostgreSQL" if args.database else "SQLite"
        content += f"\n## Web server on {title} (issue 14)\n{start}\n{end}\n"
    head, rest = content.split(start, 1)
    _, tail = rest.split(end, 1)
    RESULTS.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
