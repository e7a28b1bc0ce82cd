"""Exporting a bank: VICS 2.0 JSON, a PDQ list, or a bank directory the triage CLI loads offline.

Writers are the banks library's (`vics`, `pdq` formats and `create_bank_dir`); this module
checks the permission (BANK_MANAGE on the bank: an export hands out the whole list), chooses
the entries (active ones), writes atomically, and audits the export.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.db import transaction
from django.utils import timezone

from muhafiz.audit.actions import record
from muhafiz.banks.bankdir import create_bank_dir
from muhafiz.banks.formats import HashListFormat, get_format
from muhafiz.banks.model import HashEntry, HashListError
from muhafiz.core.permissions import Perm, check_perm
from muhafiz.hashbank.errors import BankError
from muhafiz.hashbank.models import Bank, BankEntry, BankImport, ImportStatus

EXPORT_FORMATS = {"vics": "vics", "pdq": "pdq", "dir": "dir"}


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    written: int


def _active_entries(bank: Bank) -> Iterator[HashEntry]:
    rows = BankEntry.objects.active().filter(bank=bank).order_by("pk").iterator(chunk_size=5000)
    for row in rows:
        yield row.to_hash_entry()


def export_bank(actor: Any, bank: Bank, fmt: str, out: Path) -> ExportResult:
    """Write `bank`'s active entries to `out` as `fmt` (vics, pdq or dir); audited."""
    check_perm(actor, Perm.BANK_MANAGE, bank)
    if fmt not in EXPORT_FORMATS:
        raise BankError(f"unknown export format {fmt!r}; choose one of: vics, pdq, dir")
    written = _export_dir(bank, out) if fmt == "dir" else _export_file(bank, fmt, out)
    with transaction.atomic():
        record(actor, "bank.export", bank, format=fmt, entries=written)
    return ExportResult(out, fmt, written)


def write_bank(actor: Any, bank: Bank, fmt: str, handle: TextIO) -> int:
    """Write `bank`'s active entries to an open text stream as vics or pdq; audited."""
    check_perm(actor, Perm.BANK_MANAGE, bank)
    if fmt not in ("vics", "pdq"):
        raise BankError(f"cannot stream {fmt!r}; choose vics or pdq")
    written = _writer(fmt).write(_active_entries(bank), handle)
    with transaction.atomic():
        record(actor, "bank.export", bank, format=fmt, entries=written)
    return written


def _writer(fmt: str) -> HashListFormat:
    try:
        return get_format(EXPORT_FORMATS[fmt])
    except HashListError as exc:
        raise BankError(f"the banks library has no {fmt} writer yet: {exc}") from exc


def _export_file(bank: Bank, fmt: str, out: Path) -> int:
    writer = _writer(fmt)
    if out.is_dir():
        raise BankError(f"{out} is a directory; give a file name")
    temporary = out.with_name(f".{out.name}.part")
    try:
        with temporary.open("w", encoding="utf-8", newline="\n") as handle:
            written = writer.write(_active_entries(bank), handle)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(out)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return written


def _export_dir(bank: Bank, out: Path) -> int:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BankError(f"{out} already exists; give a new or empty directory")
    provenance = [
        {
            "source_name": i.source_name,
            "source_sha256": i.source_sha256,
            "format": i.format,
            "imported_at": i.imported_at.isoformat(),
            "added": i.added,
        }
        for i in BankImport.objects.filter(bank=bank, status=ImportStatus.COMPLETED).order_by("pk")
    ]
    try:
        built = create_bank_dir(
            out,
            name=bank.name,
            kind=bank.bank_kind,
            entries=_active_entries(bank),
            provenance={
                "exported_from": "muhafiz server",
                "exported_at": timezone.now().isoformat(timespec="seconds"),
                "imports": provenance,
            },
            details={
                "agency": bank.agency.code if bank.agency else None,
                "category_scheme": bank.category_scheme.code if bank.category_scheme else None,
            },
        )
    except HashListError as exc:
        shutil.rmtree(out, ignore_errors=True)
        raise BankError(str(exc)) from exc
    return built.entry_count


def export_collection(actor: Any, out: Path) -> list[ExportResult]:
    """Every enabled bank as a bank directory under `out`: the folder a laptop's triage CLI
    takes as one `--bank-dir` (known-good banks included, keeping their kind). Needs
    BANK_MANAGE over every bank (national)."""
    check_perm(actor, Perm.BANK_MANAGE)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BankError(f"{out} already exists; give a new or empty directory")
    out.mkdir(parents=True, exist_ok=True)
    results = []
    try:
        for bank in Bank.objects.filter(enabled=True).order_by("name"):
            results.append(export_bank(actor, bank, "dir", out / f"bank-{bank.pk:04d}"))
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return results
