"""What the catalogue's CSV imports share (police stations, gazetteer places): the file's size,
encoding and header checked before any line is read, yes/no words, and one refusal naming
every bad line."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_BYTES = 2 * 1024 * 1024
# How many problems a refused file lists; the rest are counted.
MAX_ERRORS_SHOWN = 50
TRUE_WORDS = frozenset({"1", "true", "yes", "y"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "n"})


def refuse_lines(errors: list[str]) -> ValidationError:
    shown = errors[:MAX_ERRORS_SHOWN]
    if len(errors) > MAX_ERRORS_SHOWN:
        shown.append(_("… and %(n)d more problems.") % {"n": len(errors) - MAX_ERRORS_SHOWN})
    return ValidationError(shown)


def open_csv(
    data: bytes, required: tuple[str, ...], optional: tuple[str, ...]
) -> tuple[Any, list[str]]:
    """A CSV reader past its header, and the header's column names (lower case); a file too
    large, not UTF-8, empty, or whose header misses or misnames a column is refused whole."""
    columns = (*required, *optional)
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
    missing = [c for c in required if c not in names]
    unknown = [c for c in names if c not in columns]
    if missing or unknown:
        problems = []
        if missing:
            problems.append(_("missing column: %(c)s") % {"c": ", ".join(missing)})
        if unknown:
            problems.append(_("unknown column: %(c)s") % {"c": ", ".join(unknown)})
        raise ValidationError(
            _("The first line must name the columns (%(columns)s); %(problems)s.")
            % {"columns": ", ".join(columns), "problems": "; ".join(problems)}
        )
    if len(set(names)) != len(names):
        raise ValidationError(_("A column is named twice on the first line."))
    return reader, names
