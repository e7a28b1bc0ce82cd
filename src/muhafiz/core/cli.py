"""What every server-side `muhafiz` subcommand needs: Django set up, management commands called,
and the database schema checked (serve and worker never migrate: `muhafiz migrate` does, once)."""

from __future__ import annotations

import os

import click

MIGRATE_COMMAND = "muhafiz migrate"


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "muhafiz.settings")
    import django

    django.setup()


def call(name: str, *args: str) -> None:
    """Run a management command; its CommandError becomes a one-line message and exit code 1."""
    setup_django()
    from django.core.management import CommandError, call_command

    try:
        call_command(name, *args)
    except CommandError as exc:
        raise click.ClickException(str(exc)) from exc


def unapplied_migrations() -> list[str]:
    """The migrations this code has that the database has not applied, as `app.name`."""
    setup_django()
    from django.db import connections
    from django.db.migrations.executor import MigrationExecutor

    connection = connections["default"]
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


def require_current_schema() -> None:
    """Stop with a message naming the command to run when the schema is behind the code.

    Many web and worker processes start at once on a server; if each migrated, they would race.
    One `muhafiz migrate` is run per release, before the processes are (re)started.
    """
    from django.db import DatabaseError

    try:
        pending = unapplied_migrations()
    except DatabaseError as exc:
        raise click.ClickException(f"the database cannot be reached: {exc}") from exc
    if pending:
        shown = ", ".join(pending[:3]) + (
            f" and {len(pending) - 3} more" if len(pending) > 3 else ""
        )
        raise click.ClickException(
            f"the database schema is not current ({len(pending)} migration(s) not applied: "
            f"{shown}). Run `{MIGRATE_COMMAND}` once, then start this again."
        )


def migrate() -> None:
    """Apply every migration (installing the shipped catalogue rows), then the system checks."""
    call("migrate", "--no-input", "-v", "0")
    call("check", "--database", "default", "--fail-level", "ERROR")


def start_checks() -> None:
    """Migrate, then run the system checks against the database (field keys must read the data).

    For a laptop's single process (`muhafiz demo`); servers run `muhafiz migrate` once instead.
    """
    migrate()


def serve_checks() -> None:
    """For `serve` and `worker`: the schema must be current, then the system checks."""
    require_current_schema()
    call("check", "--database", "default", "--fail-level", "ERROR")
