"""`muhafiz scan` and `muhafiz report`: the field laptop's commands (no Django is imported).

Exit codes (docs/triage/investigators.md):
  0  the scan or report is complete; per-file problems are in the scan file's errors
  1  unexpected internal failure (a bug: please report it with the message)
  2  wrong usage (unknown option, missing --out, ...)
  3  a source cannot be opened (no such folder or file)
  4  a hash list cannot be read (the message names the line), or it changed before --resume
  5  the scan file cannot be created, opened or resumed (already exists, not a scan file, ...)
  130  interrupted (Ctrl-C); everything done so far is saved: continue with --resume
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import NoReturn

import click

EXIT_OK = 0
EXIT_SOURCE = 3
EXIT_BANK = 4
EXIT_SCAN_FILE = 5
EXIT_INTERRUPTED = 130


def _default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


@click.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option("--out", "out", type=click.Path(path_type=Path), help="Scan file to create.")
@click.option(
    "--bank", "banks", multiple=True, type=click.Path(path_type=Path),
    help="Known-bad hash list or bank directory (repeatable).",
)  # fmt: skip
@click.option(
    "--known-good", "known_good", multiple=True, type=click.Path(path_type=Path),
    help="Known-good hash list (e.g. NSRL): matching files are set aside from review.",
)  # fmt: skip
@click.option("--case", "case_ref", help="Case reference, e.g. FIR number.")
@click.option("--examiner", help="Name of the examiner running the scan.")
@click.option(
    "--workers", type=click.IntRange(1, 64), default=_default_workers, show_default="CPU count",
    help="Worker processes.",
)  # fmt: skip
@click.option(
    "--max-distance", type=click.IntRange(0, 256), default=31, show_default=True,
    help="Largest PDQ Hamming distance counted as a near match.",
)  # fmt: skip
@click.option(
    "--resume", "resume", type=click.Path(path_type=Path),
    help="Continue an interrupted scan file (sources, banks and settings come from it).",
)  # fmt: skip
@click.option(
    "--ios-password-file", "ios_password_files", multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File whose first line is an encrypted iOS backup's password ('-': standard input; "
    "repeatable). Needed again with --resume. Never give a password on the command line.",
)  # fmt: skip
@click.option("--quiet", is_flag=True, help="No progress bar.")
def scan(  # noqa: PLR0917 - click passes every option as an argument
    sources: tuple[Path, ...],
    out: Path | None,
    banks: tuple[Path, ...],
    known_good: tuple[Path, ...],
    case_ref: str | None,
    examiner: str | None,
    workers: int,
    max_distance: int,
    resume: Path | None,
    ios_password_files: tuple[Path, ...],
    quiet: bool,
) -> None:
    """Hash, identify and match SOURCE folders and files (archives included) into a scan file.

    The sources are opened read-only. Per-file problems (corrupt images, password-protected
    archives, unreadable files) are recorded in the scan file and the scan goes on.
    """
    from muhafiz.triage import engine
    from muhafiz.triage.settings import ScanSettings

    if resume is not None and (sources or out or banks or known_good):
        raise click.UsageError(
            "--resume takes only the scan file (and --workers, --ios-password-file)"
        )
    if resume is None and (not sources or out is None):
        raise click.UsageError("give at least one SOURCE and --out SCAN (or --resume SCAN)")
    if resume is None:
        from muhafiz.triage.sources.directory import read_write_warning

        warning = read_write_warning(sources)
        if warning:
            click.echo(f"Warning: {warning}", err=True)
    passwords = engine.Passwords(tuple(_read_password(p) for p in ios_password_files))
    # Quiet: no progress bar at all, not a hidden one (rich's import and an update per file cost
    # more CPU in the process that writes the scan file than the small files' own records).
    progress = None if quiet else _RichProgress()
    try:
        with progress if progress is not None else contextlib.nullcontext():
            if resume is not None:
                outcome = engine.resume_scan(resume, workers, progress, passwords)
            else:
                assert out is not None
                options = engine.ScanOptions(
                    sources=sources,
                    out=out,
                    banks=banks,
                    known_good=known_good,
                    case_ref=case_ref,
                    examiner=examiner,
                    workers=workers,
                    settings=ScanSettings(max_distance=max_distance),
                    passwords=passwords,
                )
                outcome = engine.start_scan(options, progress)
    except engine.SourceError as exc:
        _fail(str(exc), EXIT_SOURCE)
    except (engine.HashListError, engine.BankChangedError) as exc:
        _fail(f"hash list: {exc}", EXIT_BANK)
    except engine.ScanFileError as exc:
        _fail(str(exc), EXIT_SCAN_FILE)
    except KeyboardInterrupt:  # before the scan began or after it was saved
        _fail("interrupted", EXIT_INTERRUPTED)
    if not outcome.complete:
        click.echo(
            f"Interrupted. {outcome.files} files are saved in {outcome.path}; "
            f"continue with: muhafiz scan --resume {outcome.path}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)
    click.echo(
        f"{outcome.path}: {outcome.files} files, {outcome.matched_files} matching known-bad "
        f"banks, {outcome.errors} errors and warnings recorded."
    )


@click.command()
@click.argument("scan_file", type=click.Path(path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "vics", "html", "pdf", "vpdq"]), required=True,
    help="Report format (vpdq: a folder of vPDQ files, one per video, named by SHA-256).",
)  # fmt: skip
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="File to write.")
def report(scan_file: Path, fmt: str, out: Path) -> None:
    """Write a CSV, VICS 2.0, HTML or PDF report from a scan file, or its videos' frame hashes
    as vPDQ files. No report shows an image or a frame."""
    from muhafiz.triage.reports import write_report
    from muhafiz.triage.scanfile import ScanFileError

    try:
        write_report(scan_file, fmt, out)
    except ScanFileError as exc:
        _fail(str(exc), EXIT_SCAN_FILE)
    click.echo(f"{out}: {fmt} report of {scan_file}")


def _read_password(path: Path) -> bytes:
    """The first line of a password file (its line ending removed); '-' reads standard input."""
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise click.BadParameter(
            f"{path}: {exc.strerror or exc}", param_hint="--ios-password-file"
        ) from None
    password = data.split(b"\n", 1)[0].removesuffix(b"\r")
    if not password:
        raise click.BadParameter(f"{path}: the file is empty", param_hint="--ios-password-file")
    return password


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


class _RichProgress:
    """A progress bar with files/s, MB/s and ETA on stderr."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            ProgressColumn,
            Task,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.text import Text

        class FilesColumn(ProgressColumn):
            def render(self, task: Task) -> Text:
                files = task.fields.get("files", 0)
                total = task.fields.get("total_files", 0)
                elapsed = task.elapsed or 0.0
                rate = (files - task.fields.get("start_files", 0)) / elapsed if elapsed else 0.0
                return Text(f"{files}/{total} files {rate:,.0f} files/s")

        self._progress = Progress(
            TextColumn("scanning"),
            BarColumn(),
            TaskProgressColumn(),
            FilesColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),
        )
        self._task = self._progress.add_task("scan", total=None, files=0, total_files=0)

    def __enter__(self) -> _RichProgress:
        self._progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.__exit__(None, None, None)

    def start(self, total_files: int, total_bytes: int, done_files: int, done_bytes: int) -> None:
        self._progress.reset(self._task, total=max(total_bytes, 1), completed=done_bytes)
        self._progress.update(
            self._task, files=done_files, total_files=total_files, start_files=done_files
        )

    def advance(self, files: int, nbytes: int) -> None:
        task = self._progress.tasks[0]
        self._progress.update(self._task, advance=nbytes, files=task.fields.get("files", 0) + files)
