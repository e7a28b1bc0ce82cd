"""What every server-side `muhafiz` subcommand needs: Django set up, management commands called."""

from __future__ import annotations

import os

import click


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


def start_checks() -> None:
    """Migrate, then run the system checks against the database (field keys must read the data)."""
    call("migrate", "--no-input", "-v", "0")
    call("check", "--database", "default", "--fail-level", "ERROR")
