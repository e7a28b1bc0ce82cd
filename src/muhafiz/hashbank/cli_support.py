"""What every server `muhafiz bank` subcommand shares: Django set up, bank errors as one-line
messages (an unmigrated database says to migrate), and who the command acts as."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def server_command(func: F) -> F:
    """Set up Django first; turn bank errors into a clear message and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from muhafiz.core.cli import setup_django

        setup_django()
        from django.core.exceptions import PermissionDenied
        from django.db import DatabaseError

        from muhafiz.hashbank.actions import BankError

        try:
            return func(*args, **kwargs)
        except BankError as exc:
            raise click.ClickException(str(exc)) from exc
        except DatabaseError as exc:
            if _unmigrated():
                raise click.ClickException(
                    "the database has no bank tables yet: run `muhafiz manage migrate` first "
                    "(`muhafiz serve` and `muhafiz demo` migrate too)"
                ) from exc
            raise
        except PermissionDenied as exc:
            raise click.ClickException(
                f"MUHAFIZ_OPERATOR may not do this (it needs {exc or 'a permission'})"
            ) from exc

    return wrapper  # type: ignore[return-value]


def _unmigrated() -> bool:
    """True when the hash banks' migrations have not run on the database."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        targets = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "hashbank"]
        return bool(executor.migration_plan(targets))
    except Exception:
        return True


def _operator() -> Any:
    """Who runs a server command: the user named by MUHAFIZ_OPERATOR (who must hold the
    permission the command needs), else the system (whoever has the server's shell)."""
    import os

    from muhafiz.core.permissions import SYSTEM

    username = os.environ.get("MUHAFIZ_OPERATOR", "").strip()
    if not username:
        return SYSTEM
    from muhafiz.accounts.models import User

    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise click.ClickException(f"MUHAFIZ_OPERATOR={username!r} is not an active user")
    return user
