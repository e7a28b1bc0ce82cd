"""Reading a police-station CSV file: its columns, its limits and every problem by line.

The file is checked whole before anything is written (`actions.import_police_stations`): a
refused file names each bad line, so an administrator fixes them all in one go.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from muhafiz.catalogue.csvfiles import (
    FALSE_WORDS,
    MAX_BYTES,
    TRUE_WORDS,
    open_csv,
    refuse_lines,
)

__all__ = ["COLUMNS", "MAX_BYTES", "StationImport", "read_station_rows", "refuse_lines"]

REQUIRED_COLUMNS = ("district", "name")
OPTIONAL_COLUMNS = ("name_ur", "source", "source_url", "verified", "notes")
COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
MAX_ROWS = 20_000


@dataclass(frozen=True)
class StationRow:
    line: int
    district: str
    name: str
    name_ur: str
    source: str
    source_url: str
    verified: bool
    notes: str
    columns: frozenset[str]  # the optional columns the file has: only those change a station

    def values(self) -> dict[str, Any]:
        """The station's fields this row sets (its district is its key; a column the file
        does not have leaves an existing station's value alone)."""
        values: dict[str, Any] = {"name": self.name, "source": self.source}
        for name in ("name_ur", "source_url", "verified", "notes"):
            if name in self.columns:
                values[name] = getattr(self, name)
        return values


@dataclass
class StationImport:
    """What an import did: stations added and changed (as `DISTRICT/name`), rows unchanged."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0


def read_station_rows(
    data: bytes, *, districts: frozenset[str], default_source: str = ""
) -> list[StationRow]:
    """Parse and check a station CSV file against the district codes there are; raise
    ValidationError naming every bad line."""
    reader, names = open_csv(data, REQUIRED_COLUMNS, OPTIONAL_COLUMNS)
    optional = frozenset(names) & frozenset(OPTIONAL_COLUMNS)
    rows: list[StationRow] = []
    errors: list[str] = []
    seen: dict[tuple[str, str], int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationError(
                    _("The file has more than %(n)d stations; split it by province.")
                    % {"n": MAX_ROWS}
                )
            if len(cells) != len(names):
                errors.append(
                    _("Line %(line)d has %(got)d values; the first line names %(want)d.")
                    % {"line": line, "got": len(cells), "want": len(names)}
                )
                continue
            value = {name: cell.strip() for name, cell in zip(names, cells, strict=True)}
            row_errors = []
            district = value.get("district", "").upper()
            name = " ".join(value.get("name", "").split())
            if not district:
                row_errors.append(_("give the district's code"))
            elif district not in districts:
                row_errors.append(
                    _("no district has the code “%(code)s”") % {"code": value["district"]}
                )
            if not name:
                row_errors.append(_("give the station's name"))
            verified_word = value.get("verified", "").lower()
            if verified_word not in TRUE_WORDS | FALSE_WORDS:
                row_errors.append(
                    _("verified is “%(word)s”; write yes or no") % {"word": value["verified"]}
                )
            source = value.get("source", "") or default_source.strip()
            if not source:
                row_errors.append(_("give the source (a column, or the form's default source)"))
            key = (district, name.casefold())
            if district and name and key in seen:
                row_errors.append(_("the same station as line %(other)d") % {"other": seen[key]})
            if row_errors:
                errors.append(
                    _("Line %(line)d: %(problems)s.")
                    % {"line": line, "problems": "; ".join(row_errors)}
                )
                continue
            seen[key] = line
            rows.append(
                StationRow(
                    line=line,
                    district=district,
                    name=name,
                    name_ur=value.get("name_ur", ""),
                    source=source,
                    source_url=value.get("source_url", ""),
                    verified=verified_word in TRUE_WORDS,
                    notes=value.get("notes", ""),
                    columns=optional,
                )
            )
    except csv.Error as exc:
        errors.append(
            _("Line %(line)d is not valid CSV: %(error)s") % {"line": reader.line_num, "error": exc}
        )
    if errors:
        raise refuse_lines(errors)
    if not rows:
        raise ValidationError(_("The file names no stations."))
    return rows
