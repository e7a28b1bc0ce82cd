"""`muhafiz intake import-cybertips FILE|DIR`: import CyberTipline referral files (XML, CSV)."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group()
def intake() -> None:
    """Intake: import CyberTipline referrals into the district queues."""


@intake.command("import-cybertips")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
def import_cybertips(path: Path) -> None:
    """Import the referral file PATH, or every .xml and .csv file in the folder PATH.

    Each referral is imported whole or not at all; one already imported is skipped. Referrals
    that cannot be imported are named with every reason, and the command exits 1.

    It acts as the user named by MUHAFIZ_OPERATOR (who needs intake.handle at national
    jurisdiction: the NCCIA desk), else as the system (whoever has the server's shell).
    """
    from muhafiz.core.cli import setup_django

    setup_django()
    from django.core.exceptions import PermissionDenied

    from muhafiz.hashbank.cli_support import _operator
    from muhafiz.intake import actions

    actor = _operator()
    files = (
        sorted(p for p in path.iterdir() if p.suffix.lower() in (".xml", ".csv") and p.is_file())
        if path.is_dir()
        else [path]
    )
    if not files:
        raise click.ClickException(f"no .xml or .csv files in {path}")
    failed = False
    for file in files:
        with file.open("rb") as handle:
            try:
                result = actions.import_cybertips(actor, handle, name=file.name)
            except PermissionDenied as exc:
                raise click.ClickException(
                    f"MUHAFIZ_OPERATOR may not import referrals (it needs {exc})"
                ) from exc
        click.echo(
            f"{file.name}: {result.imported} imported, {result.already_imported} already "
            f"imported, {len(result.refused)} refused; {result.routed_to_districts} to districts, "
            f"{result.national_queue} to the national queue; {result.matches} matches, "
            f"{result.alerts} alerts"
        )
        for problem in result.refused:
            click.echo(f"  refused {problem}", err=True)
        if result.file_error:
            click.echo(f"  {result.file_error}", err=True)
        failed = failed or bool(result.refused or result.file_error)
    sys.exit(1 if failed else 0)
