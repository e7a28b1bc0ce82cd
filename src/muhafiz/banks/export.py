"""Hash lists out of a bank: every entry of an exported bank directory, written in a format
that can write (VICS 2.0 JSON, PDQ list)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from muhafiz.banks.bankdir import iter_segment_entries, open_bank_dir
from muhafiz.banks.formats import get_format
from muhafiz.banks.model import HashEntry, HashListError

EXPORT_FORMATS = ("vics", "pdq")


def bank_entries(path: Path) -> Iterator[HashEntry]:
    """Every entry of the bank directory at `path`, segment by segment."""
    bank = open_bank_dir(path)
    for segment in bank.segments:
        yield from iter_segment_entries(segment)


def export_bank(path: Path, format_name: str, out: TextIO) -> int:
    """Write the bank at `path` to `out` as `format_name`; return how many entries were written."""
    fmt = get_format(format_name)
    if not fmt.can_write:
        raise HashListError(format_name, None, f"cannot export as {format_name}")
    return fmt.write(bank_entries(path), out)
