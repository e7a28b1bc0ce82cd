"""`muhafiz demo`: set up a demo installation with synthetic data and serve it, with a worker
beside the web server; `muhafiz demo-code USER`: a demo person's current sign-in code."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from muhafiz.core.cli import call, setup_django, start_checks

DEBUG_ENV = "MUHAFIZ_DEBUG"
# How long a stopping worker may take to finish its task before it is killed.
WORKER_STOP_SECONDS = 10


def demo_debug(flag: bool) -> str:
    """The MUHAFIZ_DEBUG the demo runs with: off (the platform's own error pages, no
    tracebacks) unless `--debug` is given or MUHAFIZ_DEBUG is set."""
    if flag:
        return "true"
    return os.environ.get(DEBUG_ENV, "false")


def serving_url(addr: str) -> str:
    """The address the development server will answer on, as runserver reads `addr`
    (`8000`, `0.0.0.0:8000`, `127.0.0.1:8000`, `[::1]:8000`)."""
    if addr.isdigit():
        return f"http://127.0.0.1:{addr}"
    host, _sep, port = addr.rpartition(":")
    if host in {"0.0.0.0", ""}:  # noqa: S104 - describing, not binding
        return f"http://127.0.0.1:{port or '8000'}"
    return f"http://{host}:{port}"


def start_worker() -> subprocess.Popen[bytes]:
    """A `muhafiz worker` beside the demo's web server, so that queued scans and the clock job
    run; it inherits the demo's environment (data directory, database)."""
    return subprocess.Popen([sys.executable, "-m", "muhafiz", "worker"], env=os.environ.copy())


def stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=WORKER_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


@click.command()
@click.option("--addr", default="127.0.0.1:8000", show_default=True)
@click.option("--no-serve", is_flag=True, help="Set up and seed the demo, then exit.")
@click.option(
    "--no-worker",
    is_flag=True,
    help="Do not start a background worker (queued scans then wait for `muhafiz worker`).",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Serve with Django's debug pages (tracebacks); off unless given or MUHAFIZ_DEBUG=1.",
)
def demo(addr: str, no_serve: bool, no_worker: bool, debug: bool) -> None:
    """Set up a demo installation with synthetic data and serve it."""
    # Settings read the environment once, when Django starts: decide before that.
    os.environ[DEBUG_ENV] = demo_debug(debug)
    start_checks()
    url = serving_url(addr)
    call("seed_demo", "--url", url)
    if no_serve:
        return
    worker = None if no_worker else start_worker()
    if worker is not None:
        click.echo(f"A background worker runs queued scans and clocks (process {worker.pid}).")
    click.echo(f"Serving Muhafiz at {url}/  (Ctrl-C to stop)")
    try:
        # With DEBUG off the development server serves no static files; WhiteNoise does.
        call("runserver", "--noreload", addr)
    finally:
        if worker is not None:
            stop_worker(worker)


@click.command("demo-code")
@click.argument("username")
def demo_code(username: str) -> None:
    """Print a demo person's current six-digit sign-in code (demo installations only)."""
    setup_django()
    from muhafiz.demo.codes import DemoCodeRefusedError, current_demo_code

    try:
        click.echo(current_demo_code(username))
    except DemoCodeRefusedError as exc:
        raise click.ClickException(str(exc)) from exc
