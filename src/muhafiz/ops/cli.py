"""Server-side `muhafiz` subcommands (serve, migrate, worker, audit, keys, backup, restore, manage):
they set up Django and hand over to management commands or to gunicorn."""

from __future__ import annotations

import sys

import click

from muhafiz.core.cli import call, migrate, serve_checks, setup_django


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command (`muhafiz manage migrate`, …)."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["muhafiz manage", *args])


@click.command()
@click.option(
    "--bind",
    "--addr",
    "bind",
    default=None,
    help="Address to listen on (MUHAFIZ_WEB_BIND; default 127.0.0.1:8000).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (MUHAFIZ_WEB_WORKERS; default two per core plus one).",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Threads per worker process (MUHAFIZ_WEB_THREADS; default 2).",
)
@click.option(
    "--timeout",
    type=click.IntRange(min=1),
    default=None,
    help="Seconds before a silent worker is restarted (MUHAFIZ_WEB_TIMEOUT; default 120).",
)
@click.option("--dev", is_flag=True, help="Django's development server instead (one process).")
def serve(
    bind: str | None, workers: int | None, threads: int | None, timeout: int | None, dev: bool
) -> None:
    """Serve the web application with gunicorn (HUP reloads gracefully).

    The database schema must be current: run `muhafiz migrate` first, once per release.
    """
    from muhafiz.ops.web import WebServer, exec_server

    try:
        server = WebServer.from_environment(bind, workers, threads, timeout)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    serve_checks()
    if dev:
        call("runserver", "--noreload", server.bind)
        return
    from django.db import connections

    connections.close_all()
    click.echo(
        f"Serving Muhafiz at http://{server.bind}/ with gunicorn: {server.workers} worker(s) "
        f"x {server.threads} thread(s)",
        err=True,
    )
    exec_server(server)


@click.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date and install the shipped catalogue rows.

    Run it once per release, before (re)starting `serve` and `worker`, which refuse to start on a
    schema that is behind the code.
    """
    migrate()
    click.echo("The database schema is current.")


@click.command()
@click.option("--queue", "queues", multiple=True, help="Queue to drain (default: all).")
@click.option("--batch", is_flag=True, help="Exit when the queue is empty.")
def worker(queues: tuple[str, ...], batch: bool) -> None:
    """Run background jobs (the database queue, or RQ when REDIS_URL is set); start many."""
    serve_checks()
    from muhafiz.core.jobs import worker_command

    name, args = worker_command(list(queues), batch=batch)
    call(name, *args)


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the audit hash chain; name the first broken row."""
    setup_django()
    from muhafiz.audit.chain import verify_chain

    result = verify_chain()
    if result.ok:
        click.echo(f"Audit chain intact: {result.checked} rows verified.")
        click.echo(f"Head: row {result.head_sequence}, hash {result.head_hash}")
        return
    click.echo(f"Audit chain BROKEN at row {result.broken_id}: {result.reason}", err=True)
    sys.exit(1)


@click.group()
def keys() -> None:
    """Field-encryption keys."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every encrypted field with the newest key of the key ring."""
    call("rotate_field_keys")


@click.command()
@click.argument("target", type=click.Path(dir_okay=False))
def backup(target: str) -> None:
    """Write a consistent snapshot of the database and data directory to one file."""
    call("backup", target)


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
def restore(source: str) -> None:
    """Restore a backup file into an empty data directory and database."""
    call("restore", source)
