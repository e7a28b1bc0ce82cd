"""Reading a police-station CSV file: its columns, its limits and every problem by line.

The file is checked whole before anything is written (`actions.import_police_stations`): a
refused file names each bad line, so an administrator fixes them all in one go.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

REQUIRED_COLUMNS = ("district", "name")
OPTIONAL_COLUMNS = ("name_ur", "source", "source_url", "verified", "notes")
COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 20_000
# How many problems a refused file lists; the rest are counted.
MAX_ERRORS_SHOWN = 50
TRUE_WORDS = frozenset({"1", "true", "yes", "y"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "n"})


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


def refuse_lines(errors: list[str]) -> ValidationError:
    shown = errors[:MAX_ERRORS_SHOWN]
    if len(errors) > MAX_ERRORS_SHOWN:
        shown.append(_("… and %(n)d more problems.") % {"n": len(errors) - MAX_ERRORS_SHOWN})
    return ValidationError(shown)


def read_station_rows(
    data: bytes, *, districts: frozenset[str], default_source: str = ""
) -> list[StationRow]:
    """Parse and check a station CSV file against the district codes there are; raise
    ValidationError naming every bad line."""
    if len(data) > MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(mb)d MB; split it by province.")
            % {"mb": MAX_BYTES // (1024 * 1024)}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _("The file is not UTF-8 text (byte %(at)d). Save it as “CSV UTF-8”.")
            % {"at": exc.start + 1}
        ) from exc
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(_("The file is empty.")) from None
    except csv.Error as exc:
        raise ValidationError(_("Line 1 is not valid CSV: %(error)s") % {"error": exc}) from exc
    names = [column.strip().lower() for column in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    unknown = [c for c in names if c not in COLUMNS]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(_("missing column: %(c)s") % {"c": ", ".join(missing)})
        if unknown:
            problems.append(_("unknown column: %(c)s") % {"c": ", ".join(unknown)})
        raise ValidationError(
            _("The first line must name the columns (%(columns)s); %(problems)s.")
            % {"columns": ", ".join(COLUMNS), "problems": "; ".join(problems)}
        )
    if len(set(names)) != len(names):
        raise ValidationError(_("A column is named twice on the first line."))

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
