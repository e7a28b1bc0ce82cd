"""CSV that a spreadsheet opens as data: the one writer for every CSV the platform gives out.

A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a
formula (`=cmd|' /C calc'!A0`), and case fields, file names and bank notes are typed by people or
come from seized media. Every such text cell gets a leading apostrophe, which spreadsheets show as
text and do not run. Plain Python, no Django: the triage reports on the field laptop use it too.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any, Protocol

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A plain number ("-3", "+2.5") is data to a spreadsheet; it keeps its sign and stays a number.
_PLAIN_NUMBER = re.compile(r"[-+]?[0-9]+(\.[0-9]+)?")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def safe_cell(value: Any) -> Any:
    """The value as a CSV cell that no spreadsheet runs; None becomes an empty cell."""
    if value is None:
        return ""
    if (
        isinstance(value, str)
        and value.startswith(FORMULA_START)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` whose every row goes through `safe_cell`."""

    def __init__(self, stream: _Writable) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: _Writable) -> SafeWriter:
    return SafeWriter(stream)
