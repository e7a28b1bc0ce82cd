"""The triage reader's reasons for refusing a scan file, in the reader's language.

The triage library (`muhafiz.triage.scanfile`, no Django) gives each refusal a stable code and
its values (`ScanFileError.code`, `.params`) and keeps the English sentence, with the file's
path, for the command line and the logs. Here each code has its sentence without the path (on
the server it is a stored or temporary file's, not the reader's), marked for translation (the
Urdu is in this app's catalogue), filled with the values as the English shows them through
`core.words.in_words`, which isolates each value in a right-to-left language.

A scan keeps a failure as such words (`reason_words`: `Scan.failure_words`,
`Scan.analysis_failure_words`) beside its English text; a scan kept before it had them, or a
reason without a code, reads as its English text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_noop

from muhafiz.core.words import phrase, value_in_words
from muhafiz.triage.scanfile import ScanFileError

MESSAGES: dict[str, str] = {
    "exists": gettext_noop("the scan file already exists"),
    "cannot_create": gettext_noop("the scan file cannot be created: %(detail)s"),
    "missing": gettext_noop("no such scan file"),
    "unreadable": gettext_noop("not a readable scan file (%(detail)s)"),
    "not_scan_file": gettext_noop("not a Muhafiz scan file"),
    "not_scan_file_because": gettext_noop("not a Muhafiz scan file (%(detail)s)"),
    "schema_not_text": gettext_noop("not a Muhafiz scan file (its schema is not text)"),
    "no_tables": gettext_noop("not a Muhafiz scan file (it has none of its tables)"),
    "schema_version": gettext_noop(
        "scan-file schema version %(version)s is not supported "
        "(this tool reads version %(supported)s)"
    ),
    "too_slow": gettext_noop("reading the scan file took longer than %(seconds)s seconds"),
    "foreign_object": gettext_noop(
        "holds a %(kind)s %(name)s that is not part of the scan-file schema; it is refused unread"
    ),
    "wrong_kind": gettext_noop(
        "%(name)s is a %(kind)s, not a %(expected)s as in the scan-file schema; "
        "it is refused unread"
    ),
    "defined_differently": gettext_noop(
        "%(kind)s %(name)s is defined differently from the scan-file schema; it is refused unread"
    ),
    "schema_missing": gettext_noop("the scan-file schema's %(listed)s is missing"),
    "other_columns": gettext_noop(
        "table %(table)s has other columns than the scan-file schema (%(parts)s)"
    ),
    "column_declared": gettext_noop(
        "table %(table)s, column %(column)s is declared differently from the scan-file schema "
        "(type, key or a generated column)"
    ),
    "damaged": gettext_noop("the scan file is damaged (%(detail)s)"),
    "bad_values": gettext_noop(
        "table %(table)s, column %(column)s: %(count)s value(s) are not %(what)s"
    ),
}

# The kinds of schema object a refusal names (SQLite's own words; another reads as written).
KINDS: dict[str, str] = {
    "table": gettext_noop("table"),
    "view": gettext_noop("view"),
    "index": gettext_noop("index"),
    "trigger": gettext_noop("trigger"),
    "virtual table": gettext_noop("virtual table"),
}

# A table's other columns (`other_columns`).
COLUMN_PARTS = {
    "missing": gettext_noop("missing %(columns)s"),
    "unexpected": gettext_noop("unexpected %(columns)s"),
}

# What a column may hold (`triage.scanfile.ColumnRule.describe`).
RULES: dict[str, str] = {
    "int": gettext_noop("whole numbers"),
    "real": gettext_noop("numbers"),
    "text": gettext_noop("text of at most %(length)s bytes without NUL characters"),
    "hex": gettext_noop("%(length)s lowercase hexadecimal digits"),
    "blob": gettext_noop("binary values of at most %(length)s bytes"),
}
BETWEEN = gettext_noop("%(what)s from %(low)s to %(high)s")
AT_LEAST = gettext_noop("%(what)s of at least %(low)s")
OR_EMPTY = gettext_noop("%(what)s or empty (NULL)")
BOTH_PARTS = gettext_noop("%(first)s; %(second)s")
# The scan-file schema's missing objects (`schema_missing`).
KIND_AND_NAME = gettext_noop("%(kind)s %(name)s")
AND_ALSO = gettext_noop("%(first)s, %(second)s")
_LISTED = re.compile(r"(table|view|index|trigger) ('[^']*')")


def stored_reason(exc: ScanFileError) -> dict[str, Any]:
    """What is kept of a refusal: its code and values (empty for one without a code)."""
    return {"code": exc.code, "params": dict(exc.params)} if exc.code in MESSAGES else {}


def stored_in_words(reason: Mapping[str, Any] | None, english: str) -> str:
    """A refusal (`{"code", "params"}`) in the active language; `english` when there is none,
    or its values do not fit its code."""
    return str(value_in_words(reason_words(reason, english)))


def reason_words(reason: Mapping[str, Any] | None, english: str) -> dict[str, Any]:
    """A refusal (`{"code", "params"}`) as words to keep and say later (`core.words`: its
    message and values); `english` as written when there is no code, or its values do not fit
    it."""
    as_written = phrase(english)
    if not reason:
        return as_written
    code, params = reason.get("code"), reason.get("params")
    message = MESSAGES.get(code) if isinstance(code, str) else None
    if message is None or not isinstance(params, Mapping):
        return as_written
    if not all(
        isinstance(value, (str, int)) and not isinstance(value, bool) for value in params.values()
    ):
        return as_written
    try:
        values: dict[str, Any] = ScanFileError(english, code=str(code), params=dict(params)).shown()
        if code in ("foreign_object", "wrong_kind", "defined_differently"):
            values["kind"] = _kind(str(params["kind"]))
        if code == "wrong_kind":
            values["expected"] = _kind(str(params["expected"]))
        if code == "schema_missing":
            values["listed"] = _listed(str(params["listed"]))
        if code == "other_columns":
            values["parts"] = _column_parts(params)
        if code == "bad_values":
            values["what"] = _rule(params)
        needed = set(re.findall(r"%\((\w+)\)s", message))
        if not needed <= values.keys():
            return as_written
        return phrase(message, **{name: values[name] for name in needed})
    except (KeyError, TypeError, ValueError):  # values that do not fit the code: as written
        return as_written


def _kind(kind: str) -> Any:
    words = KINDS.get(kind)
    return kind if words is None else phrase(words)


def _listed(listed: str) -> Any:
    """The schema's missing objects ("table 'custody', view 'x'": the library's own names),
    each kind in the reader's words."""
    found = _LISTED.findall(listed)
    if not found or ", ".join(f"{kind} {name}" for kind, name in found) != listed:
        raise ValueError(listed)
    parts = [phrase(KIND_AND_NAME, kind=_kind(kind), name=name) for kind, name in found]
    listed_words: Any = parts[0]
    for part in parts[1:]:
        listed_words = phrase(AND_ALSO, first=listed_words, second=part)
    return listed_words


def _column_parts(params: Mapping[str, Any]) -> Any:
    parts = [
        phrase(words, columns=str(params[name]))
        for name, words in COLUMN_PARTS.items()
        if params.get(name)
    ]
    if len(parts) == 2:
        return phrase(BOTH_PARTS, first=parts[0], second=parts[1])
    return parts[0]


def _rule(params: Mapping[str, Any]) -> Any:
    what: Any = phrase(RULES[str(params["rule"])], length=int(params["length"]))
    if params.get("low") and params.get("high"):
        what = phrase(BETWEEN, what=what, low=str(params["low"]), high=str(params["high"]))
    elif params.get("low"):
        what = phrase(AT_LEAST, what=what, low=str(params["low"]))
    if params.get("nullable"):
        what = phrase(OR_EMPTY, what=what)
    return what
