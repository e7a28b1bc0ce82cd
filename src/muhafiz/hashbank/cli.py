"""`muhafiz bank …`: the banks library's offline commands plus the server's own (import,
export, export-all, list, stats, remove, enable, disable, rebuild-index, and lookup against the
server's banks when no --bank-dir is given: `cli_lookup.py`).

Django is imported only inside the server subcommands, so `muhafiz bank lookup --bank-dir …`
runs on an air-gapped laptop with no database and no settings.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from muhafiz.banks.cli import bank as library_bank
from muhafiz.hashbank.cli_lookup import lookup as server_lookup
from muhafiz.hashbank.cli_support import _operator, server_command

KINDS = ("known-bad", "known-good", "watch")


@click.group()
def bank() -> None:
    """Hash banks: import, export, list and inspect banks; look hashes up offline."""


for _name, _command in library_bank.commands.items():
    bank.add_command(_command, _name)
# On a server, `lookup` without --bank-dir asks the server's own banks.
bank.add_command(server_lookup, "lookup")


@bank.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--name", required=True, help="Bank to import into (created if it is new).")
@click.option("--kind", type=click.Choice(KINDS), help="Kind of a new bank.")
@click.option("--format", "fmt", help="Hash-list format (default: detected from the content).")
@click.option("--agency", help="Owning agency's code, for a new bank.")
@click.option("--scheme", help="Category scheme code for a new bank (projectvic-us, uk-caid, …).")
@click.option("--create/--no-create", default=None, help="Require a new bank (or an existing).")
@click.option("--allow-partial", is_flag=True, help="Import the good rows of a file with bad ones.")
@server_command
def import_(  # noqa: PLR0917 - click passes every option as an argument
    file: Path,
    name: str,
    kind: str | None,
    fmt: str | None,
    agency: str | None,
    scheme: str | None,
    create: bool | None,
    allow_partial: bool,
) -> None:
    """Import a hash list FILE into bank NAME, all or nothing, with provenance.

    A new bank needs --kind. Importing the same file twice adds nothing. With --create the
    bank must be new (a name collision is an error); with --no-create it must exist.
    """
    from muhafiz.core.locks import LockHeldError, process_lock

    try:
        with process_lock(f"hashbank.cli.import.{name.strip().casefold()}"):
            _import(file, name, kind, fmt, agency, scheme, create, allow_partial)
    except LockHeldError as exc:
        raise click.ClickException(
            f"another `muhafiz bank import` into bank {name!r} is running; "
            "try again when it has finished"
        ) from exc


def _import(  # noqa: PLR0917 - the command's options, checked in turn
    file: Path,
    name: str,
    kind: str | None,
    fmt: str | None,
    agency: str | None,
    scheme: str | None,
    create: bool | None,
    allow_partial: bool,
) -> None:
    from muhafiz.catalogue.models import Agency
    from muhafiz.hashbank import actions
    from muhafiz.hashbank.models import Bank, CategoryScheme, ImportStatus

    actor = _operator()
    existing = Bank.objects.filter(name=name).first()
    if existing is not None and actions.is_unfinished_new_bank(existing):
        # Left by an earlier run of this command that was killed before its first import
        # finished (this command holds the name's lock, so that run is gone): start again as
        # if the bank were new, keeping what that run was told unless told otherwise now.
        actions.abandon_interrupted_imports(actor, existing)
        kind = kind or existing.kind
        agency = agency or (existing.agency.code if existing.agency else None)
        scheme = scheme or (existing.category_scheme.code if existing.category_scheme else None)
        actions.discard_new_bank(actor, existing, reason="its first import was interrupted")
        click.echo(f"Bank {name!r} was left unfinished by an interrupted import; starting again.")
        existing = None
    if existing is not None and create:
        raise click.ClickException(f"a bank named {name!r} already exists; choose another name")
    if existing is None and create is False:
        raise click.ClickException(f"no bank named {name!r}")
    if existing is not None and kind and kind != existing.kind:
        raise click.ClickException(
            f"bank {name!r} is {existing.kind}, not {kind}; use another name for a {kind} bank"
        )
    if existing is None:
        if not kind:
            raise click.ClickException(f"bank {name!r} is new: say its --kind ({', '.join(KINDS)})")
        owner = None
        if agency:
            owner = Agency.objects.filter(code=agency).first()
            if owner is None:
                raise click.ClickException(f"no agency with code {agency!r}")
        category_scheme = None
        if scheme:
            category_scheme = CategoryScheme.objects.filter(code=scheme).first()
            if category_scheme is None:
                codes = ", ".join(CategoryScheme.objects.values_list("code", flat=True))
                raise click.ClickException(f"no category scheme {scheme!r} (known: {codes})")
        # A new bank stays out of matching until its first import is in; if that import fails
        # the bank is removed again, so no empty bank is left behind under the name.
        existing = actions.create_bank(
            actor,
            name=name,
            kind=kind,
            agency=owner,
            category_scheme=category_scheme,
            enabled=False,
        )
        created = True
        click.echo(f"Created bank {name!r} ({kind}).")
    else:
        created = False
    try:
        result = actions.import_hash_list(
            actor, existing, file, fmt=fmt, allow_partial=allow_partial
        )
    except actions.ImportRejectedError as exc:
        if created:
            actions.discard_new_bank(actor, existing, reason="its first import was rejected")
        click.echo(f"{file}: {exc.bank_import.bad} bad row(s); nothing imported.", err=True)
        for error in exc.errors:
            where = f"line {error['line']}" if error.get("line") is not None else "file"
            click.echo(f"  {where}: {error['message']}", err=True)
        if created:
            click.echo(f"Bank {name!r} was not kept.", err=True)
        sys.exit(1)
    except BaseException:
        if created:
            actions.discard_new_bank(actor, existing, reason="its first import failed")
        raise
    if created:
        actions.set_bank_enabled(actor, existing, True, reason="its first import completed")
    if result.status == ImportStatus.ALREADY_IMPORTED:
        click.echo(
            f"{file.name} (SHA-256 {result.source_sha256}) was already imported into "
            f"{name!r}: nothing added."
        )
        return
    click.echo(
        f"Imported {file.name} ({result.format}, SHA-256 {result.source_sha256}) into {name!r}: "
        f"{result.added} added, {result.duplicates} duplicate, {result.bad} bad."
    )


@bank.command("export")
@click.argument("name")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["vics", "pdq", "dir"]),
    required=True,
    help="vics: VICS 2.0 JSON; pdq: a PDQ list; dir: a bank directory for `bank lookup`.",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="File or directory.")
@server_command
def export(name: str, fmt: str, out: Path) -> None:
    """Export bank NAME's active entries."""
    from muhafiz.hashbank.actions import get_bank
    from muhafiz.hashbank.actions.exports import export_bank

    result = export_bank(_operator(), get_bank(name), fmt, out)
    click.echo(f"Exported {result.written} entries of {name!r} as {fmt} to {result.path}.")


@bank.command("export-all")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="A new directory.")
@server_command
def export_all(out: Path) -> None:
    """Export every enabled bank as bank directories in one folder, for an offline laptop
    (`muhafiz bank lookup --bank-dir FOLDER`, or a scan's bank option)."""
    from muhafiz.hashbank.actions.exports import export_collection

    results = export_collection(_operator(), out)
    for result in results:
        click.echo(f"  {result.path.name}: {result.written} entries")
    click.echo(f"Exported {len(results)} banks to {out}.")


@bank.command("list")
@server_command
def list_() -> None:
    """List the banks with their kind, owner, state and size."""
    from django.db.models import Count

    from muhafiz.hashbank.models import Bank, active_entry

    banks = Bank.objects.select_related("agency").annotate(
        active=Count("entries", filter=active_entry("entries__"))
    )
    rows = [
        (
            b.name,
            b.kind,
            b.agency.code if b.agency else "-",
            "enabled" if b.enabled else "disabled",
            str(b.active),
        )
        for b in banks
    ]
    if not rows:
        click.echo("No banks yet. Import one with `muhafiz bank import FILE --name N --kind K`.")
        return
    header = ("NAME", "KIND", "AGENCY", "STATE", "ENTRIES")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


@bank.command("stats")
@click.argument("name")
@server_command
def stats(name: str) -> None:
    """Show bank NAME's counts by hash type and category, and its import history."""
    from muhafiz.hashbank.actions import get_bank
    from muhafiz.hashbank.selectors import bank_stats

    data = bank_stats(get_bank(name))
    click.echo(
        f"Bank {data['name']} ({data['kind']}, {'enabled' if data['enabled'] else 'disabled'})"
    )
    click.echo(
        f"  agency: {data['agency'] or '-'}   category scheme: {data['category_scheme'] or '-'}"
    )
    click.echo(f"  entries: {data['entries']} active, {data['removed']} removed")
    click.echo("  by hash: " + ", ".join(f"{k} {v}" for k, v in data["by_hash"].items()))
    if data["by_category"]:
        click.echo(
            "  by category: " + ", ".join(f"{k}: {v}" for k, v in data["by_category"].items())
        )
    click.echo("  imports:")
    for i in data["imports"]:
        click.echo(
            f"    #{i['id']} {i['imported_at'][:19]} {i['source_name']} ({i['format']}) "
            f"{i['status']}: +{i['added']} dup {i['duplicates']} bad {i['bad']} "
            f"sha256 {i['source_sha256'][:16]}…"
        )


@bank.command("remove")
@click.argument("name")
@click.argument("hash_value")
@click.option("--reason", required=True, help="Why the entry is removed (kept with the row).")
@server_command
def remove(name: str, hash_value: str, reason: str) -> None:
    """Remove the entry of bank NAME holding HASH_VALUE from matching (soft delete, audited)."""
    from muhafiz.hashbank import actions

    entries = actions.find_entries(actions.get_bank(name), hash_value)
    if not entries:
        raise click.ClickException(f"bank {name!r} has no active entry with {hash_value}")
    for entry in entries:
        actions.remove_entry(_operator(), entry, reason=reason)
        click.echo(f"Removed entry {entry.pk} from {name!r}.")


@bank.command("enable")
@click.argument("name")
@server_command
def enable(name: str) -> None:
    """Enable bank NAME for matching (at once; the index catches up in the background)."""
    from muhafiz.hashbank import actions

    actions.set_bank_enabled(_operator(), actions.get_bank(name), True)
    click.echo(f"Bank {name!r} enabled.")


@bank.command("disable")
@click.argument("name")
@click.option("--reason", required=True, help="Why the bank stops matching (audited).")
@server_command
def disable(name: str, reason: str) -> None:
    """Disable bank NAME: its entries stop matching at once; nothing is deleted."""
    from muhafiz.hashbank import actions

    actions.set_bank_enabled(_operator(), actions.get_bank(name), False, reason=reason)
    click.echo(f"Bank {name!r} disabled.")


@bank.command("rebuild-index")
@click.option("--full", is_flag=True, help="Build every bank from scratch (no carry-over).")
@server_command
def rebuild_index(full: bool) -> None:
    """Rebuild the server's match index now (normally a background job does this)."""
    from muhafiz.hashbank.index import build_index

    result = build_index(full=full)
    click.echo(
        f"Index {result.generation}: {result.banks} banks, {result.entries} entries "
        f"(entries up to id {result.max_entry_id}; {len(result.rebuilt)} banks rebuilt, "
        f"{len(result.extended)} carried over with their new entries)."
    )
