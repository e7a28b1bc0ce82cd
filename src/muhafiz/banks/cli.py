"""`muhafiz bank …`: the Django-free bank commands, for a laptop with no server.

`lookup` matches hashes against exported bank directories or hash-list files; `build-dir`,
`append-dir`, `compact-dir` and `export-dir` make and maintain exported bank directories from
hash-list files. The server's subcommands (import, export, list, stats against its database)
attach to this same group: `from muhafiz.banks.cli import bank`, then `@bank.command()`.
"""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from muhafiz.banks.bankdir import (
    append_segment_to_bank_dir,
    compact_bank_dir,
    create_bank_dir_from_segment,
    imported_sources,
)
from muhafiz.banks.export import EXPORT_FORMATS, export_bank, export_videos
from muhafiz.banks.index.pdq import MATCH_DISTANCE
from muhafiz.banks.lookup import UnknownBankError, lookup_hashes, open_banks
from muhafiz.banks.model import BankKind, HashListError
from muhafiz.banks.segment import Segment, SegmentBuilder

if TYPE_CHECKING:
    from muhafiz.banks.formats import HashListFormat

# `lookup` (the command a laptop runs most, often once per hash list) never needs the format
# registry: it and every module that imports it load only in the commands that read lists.
# Its plain forms do not even come here: `muhafiz.banks.lookup.plain_lookup` runs them.


@click.group()
def bank() -> None:
    """Hash banks: look hashes up against exported banks (and, on a server, manage banks)."""


@bank.command()
@click.option(
    "--bank-dir",
    "bank_dirs",
    multiple=True,
    required=True,
    type=click.Path(exists=True, file_okay=True, dir_okay=True, path_type=Path),
    help="An exported bank directory, a folder of them, or a hash-list file. Repeatable.",
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
def lookup(
    bank_dirs: tuple[Path, ...], bank_names: tuple[str, ...], max_distance: int, hashes: TextIO
) -> None:
    """Look up one hex hash a line from HASHES (a file or - for standard input).

    MD5, SHA-1 and SHA-256/PDQ are told apart by length; a 64-character value is matched both
    as SHA-256 (exactly) and as PDQ (within --max-distance). Writes one JSON line per input
    hash: {"hash", "line", "kinds", "matches": [{"bank", "bank_kind", "kind", "distance",
    "entry"}]} or {"hash", "line", "error"} for a line that is not a hash.
    """
    try:
        matcher = open_banks(bank_dirs, bank_names)
    except (HashListError, UnknownBankError) as exc:
        raise click.ClickException(str(exc)) from exc
    if lookup_hashes(matcher, hashes, max_distance, sys.stdout):
        sys.exit(1)


class _FormatChoice(click.Choice):  # type: ignore[type-arg]
    """The registry's format names, read when a command that takes --format is used."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from muhafiz.banks.formats import formats

        return tuple(f.name for f in formats())

    @choices.setter
    def choices(self, value: object) -> None:
        pass


KIND_NAMES = [kind.value for kind in BankKind]


@bank.command("build-dir")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--name", required=True, help="Bank name (unique among the banks you load).")
@click.option("--kind", type=click.Choice(KIND_NAMES), required=True)
@click.option(
    "--format",
    "format_name",
    type=_FormatChoice(),
    default=None,
    help="Format of every FILE (default: detected per file).",
)
def build_dir(
    directory: Path, files: tuple[Path, ...], name: str, kind: str, format_name: str | None
) -> None:
    """Make an exported bank DIRECTORY from hash-list FILES (all or nothing)."""
    try:
        segment, provenance = _read_sources(files, format_name)
        bank_dir = create_bank_dir_from_segment(
            directory, name=name, kind=BankKind(kind), segment=segment, provenance=provenance
        )
    except HashListError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps({"bank": bank_dir.name, "counts": bank_dir.manifest["counts"]}))


@bank.command("append-dir")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "format_name", type=_FormatChoice(), default=None)
def append_dir(directory: Path, files: tuple[Path, ...], format_name: str | None) -> None:
    """Add FILES to a bank DIRECTORY as a new segment, matchable at once.

    A file whose SHA-256 is already in the bank's provenance is skipped: importing the same
    file twice adds nothing.
    """
    from muhafiz.banks.formats import file_sha256

    try:
        known = imported_sources(directory)
        fresh = [f for f in files if file_sha256(f) not in known]
        for skipped in sorted(set(files) - set(fresh)):
            click.echo(f"{skipped}: already imported, skipped", err=True)
        if not fresh:
            return
        segment, provenance = _read_sources(tuple(fresh), format_name)
        bank_dir = append_segment_to_bank_dir(directory, segment, provenance)
    except HashListError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps({"bank": bank_dir.name, "counts": bank_dir.manifest["counts"]}))


@bank.command("compact-dir")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def compact_dir(directory: Path) -> None:
    """Merge the segments of a bank DIRECTORY into one (a full rebuild)."""
    try:
        bank_dir = compact_bank_dir(directory)
    except HashListError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps({"bank": bank_dir.name, "segments": bank_dir.manifest["segments"]}))


@bank.command("export-dir")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "format_name", type=click.Choice(EXPORT_FORMATS), required=True)
@click.option("--out", type=click.Path(path_type=Path), required=True)
def export_dir(directory: Path, format_name: str, out: Path) -> None:
    """Write a bank DIRECTORY as a VICS 2.0 JSON hash set or a PDQ list, or its videos as vPDQ
    files (`--format vpdq`: OUT is a folder, one `<video>.vpdq` file per video)."""
    if format_name == "vpdq":
        try:
            videos = export_videos(directory, out)
        except HashListError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(json.dumps({"written": sum(videos.values()), "videos": len(videos)}))
        return
    temporary = out.with_name(out.name + ".part")
    try:
        with temporary.open("w", encoding="utf-8") as handle:
            written = export_bank(directory, format_name, handle)
        temporary.replace(out)
    except HashListError as exc:
        temporary.unlink(missing_ok=True)
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps({"written": written, "out": str(out)}))


def _read_sources(
    files: tuple[Path, ...], format_name: str | None
) -> tuple[Segment, list[dict[str, Any]]]:
    """One segment built from all FILES (all or nothing), and a provenance record per file."""
    from muhafiz.banks.formats import detect_format, file_sha256, get_format

    builder = SegmentBuilder(", ".join(str(f) for f in files))
    provenance: list[dict[str, Any]] = []
    for path in files:
        fmt: HashListFormat = get_format(format_name) if format_name else detect_format(path)
        provenance.append(
            {
                "source": path.name,
                "sha256": file_sha256(path),
                "size": path.stat().st_size,
                "format": fmt.name,
                "imported_by": getpass.getuser(),
                "entries_read": builder.add_source(fmt, path),
            }
        )
    return builder.build(), provenance
