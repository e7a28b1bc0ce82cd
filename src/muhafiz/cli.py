"""The `muhafiz` command: one entry point for the field laptop and the server.

Subcommands are loaded lazily so that `muhafiz scan` on an air-gapped laptop never imports
Django, and `muhafiz --help` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

# name -> "module:attribute" of a click command; modules are imported only when used.
LAZY_COMMANDS: dict[str, str] = {
    "scan": "muhafiz.triage.cli:scan",
    "report": "muhafiz.triage.cli:report",
    "bank": "muhafiz.hashbank.cli:bank",
    "intake": "muhafiz.intake.cli:intake",
    "demo": "muhafiz.demo.cli:demo",
    "demo-code": "muhafiz.demo.cli:demo_code",
    "serve": "muhafiz.ops.cli:serve",
    "migrate": "muhafiz.ops.cli:migrate_command",
    "worker": "muhafiz.ops.cli:worker",
    "audit": "muhafiz.ops.cli:audit",
    "keys": "muhafiz.ops.cli:keys",
    "backup": "muhafiz.ops.cli:backup",
    "restore": "muhafiz.ops.cli:restore",
    "manage": "muhafiz.ops.cli:manage",
}


class LazyGroup(click.Group):
    """A click group whose subcommands live in other modules and load on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(LAZY_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                raise click.ClickException(f"'{cmd_name}' is not available in this build") from exc
            raise
        command: click.Command = getattr(module, attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="muhafiz")
def main() -> None:
    """Muhafiz (محافظ): triage seized media, run the case database, keep the register."""
    from muhafiz.core.datadir import private_umask

    private_umask()  # scan files, reports and the data directory are the owner's only


def run(*args: Any) -> None:  # pragma: no cover - convenience for `python -m muhafiz`
    main(*args)
