"""`muhafiz bank lookup`: against exported bank directories (`--bank-dir`, the library's
Django-free command), or, without one, against the server's own banks (its database and match
index), as the API's /match does. Same JSON lines either way."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

import click

from muhafiz.banks.cli import lookup as library_lookup
from muhafiz.banks.index.pdq import MATCH_DISTANCE
from muhafiz.banks.lookup import LOOKUP_BATCH


@click.command("lookup")
@click.option(
    "--bank-dir",
    "bank_dirs",
    multiple=True,
    type=click.Path(exists=True, file_okay=True, dir_okay=True, path_type=Path),
    help="An exported bank directory, a folder of them, or a hash-list file. Repeatable. "
    "Without it, the server's enabled banks are used.",
)
@click.option("--bank", "bank_names", multiple=True, help="Only match these banks (by name).")
@click.option(
    "--max-distance",
    default=MATCH_DISTANCE,
    show_default=True,
    type=click.IntRange(0, 256),
    help="Largest PDQ Hamming distance reported.",
)
@click.argument("hashes", type=click.File("r", encoding="utf-8"), default="-")
@click.pass_context
def lookup(
    ctx: click.Context,
    bank_dirs: tuple[Path, ...],
    bank_names: tuple[str, ...],
    max_distance: int,
    hashes: TextIO,
) -> None:
    """Look up one hex hash a line from HASHES (a file or - for standard input).

    MD5, SHA-1 and SHA-256/PDQ are told apart by length; a 64-character value is matched both
    as SHA-256 (exactly) and as PDQ (within --max-distance). Writes one JSON line per input
    hash: {"hash", "line", "kinds", "matches": [{"bank", "bank_kind", "kind", "distance",
    "entry"}]} or {"hash", "line", "error"} for a line that is not a hash. With --bank-dir it
    runs offline; without, it asks the server's banks (as MUHAFIZ_OPERATOR or the system,
    audited by counts like the API's matching).
    """
    if bank_dirs:
        ctx.invoke(
            library_lookup,
            bank_dirs=bank_dirs,
            bank_names=bank_names,
            max_distance=max_distance,
            hashes=hashes,
        )
        return
    from muhafiz.hashbank.cli_support import server_command

    errors = server_command(_server_lookup)(bank_names, max_distance, hashes, sys.stdout)
    if errors:
        sys.exit(1)


def _server_lookup(
    bank_names: tuple[str, ...], max_distance: int, hashes: TextIO, out: TextIO
) -> int:
    from muhafiz.hashbank.actions import record_request
    from muhafiz.hashbank.cli_support import _operator
    from muhafiz.hashbank.matching import QueryError, match_hashes, parse_query
    from muhafiz.hashbank.models import Bank

    actor = _operator()
    if bank_names:
        known = set(Bank.objects.filter(name__in=bank_names).values_list("name", flat=True))
        unknown = sorted(set(bank_names) - known)
        if unknown:
            raise click.ClickException(f"no bank named {', '.join(unknown)} on this server")
    errors = queried = matched = 0
    banks: set[str] = set()
    batch: list[tuple[int, str]] = []

    def flush() -> None:
        nonlocal errors, queried, matched
        records: list[dict[str, Any]] = []
        queries = []
        owners = []
        for number, text in batch:
            record: dict[str, Any] = {"hash": text.lower(), "line": number}
            records.append(record)
            try:
                parsed = parse_query(text)
            except QueryError:
                record["error"] = "not a hex MD5 (32), SHA-1 (40), SHA-256 or PDQ (64) value"
                errors += 1
                continue
            record["kinds"] = [q.kind.value for q in parsed]
            record["matches"] = []
            queries.extend(parsed)
            owners.extend([len(records) - 1] * len(parsed))
        outcome = match_hashes(queries, max_distance=max_distance, banks=bank_names)
        for owner, found in zip(owners, outcome.results, strict=True):
            records[owner]["matches"].extend(_match_json(m) for m in found)
        banks.update(outcome.banks)
        queried += sum(1 for r in records if "kinds" in r)
        matched += sum(1 for r in records if r.get("matches"))
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        batch.clear()

    for number, raw in enumerate(hashes, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        batch.append((number, text))
        if len(batch) >= LOOKUP_BATCH:
            flush()
    if batch:
        flush()
    out.flush()
    record_request(
        actor,
        action="bank.match",
        endpoint="cli.lookup",
        queried=queried,
        matched=matched,
        banks=sorted(banks),
    )
    return errors


def _match_json(found: Any) -> dict[str, Any]:
    entry = found.entry
    data: dict[str, Any] = {
        name: getattr(entry, name)
        for name in (
            "md5",
            "sha1",
            "sha256",
            "pdq",
            "category",
            "victim_identified",
            "offender_identified",
        )
        if getattr(entry, name) not in (None, "")
    }
    if entry.series:
        data["series"] = entry.series
    if entry.tags:
        data["tags"] = list(entry.tags)
    return {
        "bank": entry.bank.name,
        "bank_kind": entry.bank.kind,
        "kind": found.kind.value,
        "distance": found.distance,
        "entry": data,
    }
