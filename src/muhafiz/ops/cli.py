"""Server-side `muhafiz` subcommands (serve, worker, audit, keys, backup, restore, manage): they
set up Django and hand over to management commands."""

from __future__ import annotations

import sys

import click

from muhafiz.core.cli import call, setup_django, start_checks


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def manage(args: tuple[str, ...]) -> None:
    """Run a Django management command (`muhafiz manage migrate`, …)."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["muhafiz manage", *args])


@click.command()
@click.option("--addr", default="127.0.0.1:8000", show_default=True, help="Address to listen on.")
def serve(addr: str) -> None:
    """Serve the web application (a development server; use a WSGI server in production)."""
    start_checks()
    call("runserver", "--noreload", addr)


@click.command()
@click.option("--queue", "queues", multiple=True, help="Queue to drain (default: all).")
@click.option("--batch", is_flag=True, help="Exit when the queue is empty.")
def worker(queues: tuple[str, ...], batch: bool) -> None:
    """Run background jobs from the database queue; start as many as you like."""
    args = ["--queue-name", ",".join(queues) if queues else "*"]
    if batch:
        args.append("--batch")
    start_checks()
    call("db_worker", *args)


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
