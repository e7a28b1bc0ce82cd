"""Reading a gazetteer CSV file (place name → district): its columns and every problem by line.

Checked whole before anything is written (`actions.import_gazetteer_places`): a refused file
names each bad line, so an administrator fixes them all in one go.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from muhafiz.catalogue.csvfiles import FALSE_WORDS, TRUE_WORDS, open_csv, refuse_lines
from muhafiz.catalogue.models import place_key

REQUIRED_COLUMNS = ("name", "district")
OPTIONAL_COLUMNS = ("source", "active", "notes")
COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)
MAX_ROWS = 20_000


@dataclass(frozen=True)
class PlaceRow:
    line: int
    name: str
    key: str
    district: str
    source: str
    active: bool
    notes: str


@dataclass
class PlaceImport:
    """What an import did: places added and changed (by name), rows unchanged."""

    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    unchanged: int = 0


def read_place_rows(
    data: bytes, *, districts: frozenset[str], default_source: str = ""
) -> list[PlaceRow]:
    """Parse and check a gazetteer CSV file against the district codes there are; raise
    ValidationError naming every bad line."""
    reader, names = open_csv(data, REQUIRED_COLUMNS, OPTIONAL_COLUMNS)
    rows: list[PlaceRow] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise ValidationError(_("The file has more than %(n)d places.") % {"n": MAX_ROWS})
            if len(cells) != len(names):
                errors.append(
                    _("Line %(line)d has %(got)d values; the first line names %(want)d.")
                    % {"line": line, "got": len(cells), "want": len(names)}
                )
                continue
            value = {name: cell.strip() for name, cell in zip(names, cells, strict=True)}
            problems = []
            name = " ".join(value["name"].split())
            key = place_key(name)
            district = value["district"].upper()
            if not key:
                problems.append(_("give the place's name"))
            elif len(name) > 120:
                problems.append(_("the place's name is longer than 120 characters"))
            elif key in seen:
                problems.append(_("the same place as line %(other)d") % {"other": seen[key]})
            if not district:
                problems.append(_("give the district's code"))
            elif district not in districts:
                problems.append(
                    _("no district has the code “%(code)s”") % {"code": value["district"]}
                )
            active_word = value.get("active", "yes").lower() or "yes"
            if active_word not in TRUE_WORDS | FALSE_WORDS:
                problems.append(
                    _("active is “%(word)s”; write yes or no") % {"word": value["active"]}
                )
            source = value.get("source", "") or default_source.strip()
            if not source:
                problems.append(_("give the source (a column, or the form's default source)"))
            if problems:
                errors.append(
                    _("Line %(line)d: %(problems)s.")
                    % {"line": line, "problems": "; ".join(problems)}
                )
                continue
            seen[key] = line
            rows.append(
                PlaceRow(
                    line=line,
                    name=name,
                    key=key,
                    district=district,
                    source=source,  # a longer one is refused by the model, naming its line
                    active=active_word in TRUE_WORDS,
                    notes=value.get("notes", ""),
                )
            )
    except csv.Error as exc:
        errors.append(
            _("Line %(line)d is not valid CSV: %(error)s") % {"line": reader.line_num, "error": exc}
        )
    if errors:
        raise refuse_lines(errors)
    if not rows:
        raise ValidationError(_("The file names no places."))
    return rows
