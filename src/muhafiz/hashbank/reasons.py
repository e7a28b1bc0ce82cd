"""The banks library's reasons for a bad row or an unreadable list, in the reader's language.

The library (`muhafiz.banks.reasons`, no Django) gives each reason a stable code and its values
and keeps the English sentence for the command line and the logs. Here each code has the same
sentence with `%(name)s` places, marked for translation (the Urdu is in this app's catalogue);
`reason_in_words` fills it with the values as the English shows them (`Reason.shown`) through
`core.words.in_words`, which isolates each value in a right-to-left language. A bad row stored
before rows kept their code (only `line` and `message`) reads as it was stored.

A test holds that every library code has its sentence here, that the English here is the
library's word for word, and that each has its Urdu.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext, gettext_noop

from muhafiz.banks.reasons import ENGLISH, Reason, fields
from muhafiz.banks.reasons import PLACES as LIBRARY_PLACES
from muhafiz.core.words import in_words, phrase

MESSAGES: dict[str, str] = {
    "line_too_long": gettext_noop("a line longer than %(kib)s KiB"),
    "binary_data": gettext_noop("binary data in a text hash list"),
    "not_utf8": gettext_noop("not UTF-8 text (%(detail)s)"),
    "unknown_format": gettext_noop("unknown hash-list format; known formats: %(known)s"),
    "cannot_read": gettext_noop("cannot read: %(detail)s"),
    "empty_file": gettext_noop("empty file"),
    "no_known_format": gettext_noop("not a hash list in a known format (%(known)s)"),
    "unreadable": gettext_noop("cannot be read (%(detail)s)"),
    "not_hex": gettext_noop("%(kind)s %(value)s is not hexadecimal"),
    "wrong_hex_length": gettext_noop(
        "%(kind)s %(value)s has %(length)s hex characters, expected %(expected)s"
    ),
    "contradicts_line": gettext_noop(
        "%(kind)s %(value)s is also on line %(first_line)s with different details"
    ),
    "contradicts_line_of_file": gettext_noop(
        "%(kind)s %(value)s is also on line %(first_line)s of %(first_source)s "
        "with different details"
    ),
    "note_too_long": gettext_noop("the note has %(length)s characters; at most %(limit)s are kept"),
    "series_too_long": gettext_noop(
        "the series has %(length)s characters; at most %(limit)s are kept"
    ),
    "photodna_too_long": gettext_noop(
        "the PhotoDNA value has %(length)s characters; at most %(limit)s are kept"
    ),
    "note_has_nul": gettext_noop("the note holds a NUL character"),
    "series_has_nul": gettext_noop("the series holds a NUL character"),
    "photodna_has_nul": gettext_noop("the PhotoDNA value holds a NUL character"),
    "too_many_tags": gettext_noop("%(count)s tags; at most %(limit)s are kept"),
    "tag_too_long": gettext_noop(
        "a tag is longer than %(limit)s characters or holds a NUL character"
    ),
    "category_out_of_range": gettext_noop(
        "category %(value)s… is out of range (%(low)s to %(high)s)"
    ),
    "header_after_hash": gettext_noop("header %(value)s after the first hash"),
    "plain_not_hex": gettext_noop("%(value)s is not a hexadecimal hash"),
    "plain_hash_length": gettext_noop(
        "hash of %(length)s hex characters; expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256)"
    ),
    "checksum_line": gettext_noop(
        "expected '<hex>  <file name>' as md5sum/sha1sum/sha256sum print"
    ),
    "checksum_hash_length": gettext_noop(
        "hash of %(length)s characters; expected 32, 40 or 64 hex characters"
    ),
    "mixed_kinds": gettext_noop("%(kind)s line in a list of %(list_kind)s"),
    "hashdeep_version": gettext_noop("unsupported hashdeep version %(version)s"),
    "hashdeep_columns_end": gettext_noop("hashdeep column line must end with 'filename'"),
    "hashdeep_unknown_columns": gettext_noop("unknown hashdeep column(s) %(columns)s"),
    "hashdeep_no_hash_column": gettext_noop("no MD5, SHA-1 or SHA-256 column"),
    "hashdeep_no_header": gettext_noop("missing the %(header)s header"),
    # No values: shown as written, its four percent signs as they are.
    "hashdeep_no_column_line": gettext_noop("file line before the '%%%% size,…' column line"),
    "field_count": gettext_noop("%(count)s fields, expected %(expected)s (%(columns)s)"),
    "size_not_number": gettext_noop("size %(value)s is not a whole number"),
    "pdq_quality": gettext_noop("PDQ quality %(value)s is not a whole number 0-100"),
    "pdq_line": gettext_noop("expected '<64 hex>[,quality][,note]'"),
    "vpdq_field_count": gettext_noop(
        "%(count)s fields, expected 4 (frameNumber,quality,pdqHex,timestampSeconds)"
    ),
    "frame_not_number": gettext_noop("frame number %(value)s is not a whole number"),
    "timestamp_not_seconds": gettext_noop("timestamp %(value)s is not seconds"),
    "vics_no_version": gettext_noop(
        "no '@odata.context' or 'odata.metadata': unknown VICS version"
    ),
    "vics_no_value": gettext_noop("no 'value' array of media or cases"),
    "vics_context_not_text": gettext_noop("the OData context must be a string"),
    "vics_unknown_version": gettext_noop(
        "unknown VICS version %(version)s; supported: %(supported)s"
    ),
    "vics_not_media_or_cases": gettext_noop("not a VICS Media or Cases document: %(value)s"),
    "vics_case_without_media": gettext_noop("case has no 'Media' array"),
    "media_not_object": gettext_noop("a media record must be a JSON object"),
    "hash_not_text": gettext_noop("%(kind)s must be a string"),
    "alternatives_not_list": gettext_noop("AlternativeHashes must be a list"),
    "alternative_not_object": gettext_noop("each AlternativeHashes item must be an object"),
    "photodna_not_text": gettext_noop(
        "PhotoDNA must be a string (base64 or hex), passed through untouched"
    ),
    "media_without_hash": gettext_noop("no MD5, SHA1, SHA256, PDQ or PhotoDNA value"),
    "category_not_number": gettext_noop("Category %(value)s is not a number"),
    "vics_category_out_of_range": gettext_noop("Category is out of range (-32768 to 32767)"),
    "flag_not_boolean": gettext_noop("%(field)s %(value)s is not true or false"),
    "field_not_text": gettext_noop("%(field)s must be text"),
    "tags_not_list": gettext_noop("Tags must be a list of strings"),
    "json_ends_in_character": gettext_noop("file ends inside a UTF-8 character"),
    "json_expected": gettext_noop("expected %(what)s (%(char)s), found %(found)s"),
    "json_expected_at_end": gettext_noop(
        "expected %(what)s (%(char)s), found the end of the file (truncated?)"
    ),
    "json_key_expected": gettext_noop("expected a quoted key in %(what)s"),
    "json_separator": gettext_noop("expected ',' or %(close)s in %(what)s, found %(found)s"),
    "json_separator_at_end": gettext_noop(
        "expected ',' or %(close)s in %(what)s, found the end of the file (truncated?)"
    ),
    "json_too_deep": gettext_noop("JSON nested too deeply"),
    "json_value_too_long": gettext_noop("a value longer than %(mib)s MiB"),
    "json_truncated": gettext_noop("file ends in the middle of a value (truncated?)"),
    "json_malformed": gettext_noop("malformed JSON: %(detail)s"),
    "json_trailing_data": gettext_noop("unexpected data after the end of the JSON document"),
    "not_sqlite": gettext_noop("not an SQLite database (or truncated header)"),
    "sqlite_truncated": gettext_noop(
        "truncated SQLite file: header says %(pages)s pages of %(page_size)s bytes "
        "(%(expected)s bytes), file has %(size)s"
    ),
    "sqlite_cannot_open": gettext_noop("cannot open SQLite database: %(detail)s"),
    "sqlite_value_too_large": gettext_noop(
        "a value in the database is larger than %(limit)s bytes"
    ),
    "nsrl_damaged": gettext_noop("damaged or truncated NSRL database: %(detail)s"),
    "sqlite_damaged": gettext_noop("damaged SQLite database: %(detail)s"),
    "nsrl_generated_columns": gettext_noop(
        "not an NSRL RDS v3 database: %(table)s has generated hash columns"
    ),
    "nsrl_no_hash_table": gettext_noop(
        "not an NSRL RDS v3 database: no METADATA or FILE table with hash columns "
        "(views are not read)"
    ),
    "column_not_text": gettext_noop("%(column)s is not text"),
    "no_hash": gettext_noop("no hash"),
}

# Where in the file, said before the reason (`banks.reasons.PLACES`).
PLACES: dict[str, str] = {
    "record": gettext_noop("record %(record)s: %(reason)s"),
    "record_media": gettext_noop("record %(record)s (MediaID %(media_id)s): %(reason)s"),
}

# The places of a JSON document a `json_*` reason names (`banks.reasons.JSON_PLACES`); a place
# not here (a reader added later) reads as the library wrote it.
JSON_PLACES: dict[str, str] = {
    "the start of the VICS document": gettext_noop("the start of the VICS document"),
    "the VICS document": gettext_noop("the VICS document"),
    "the start of 'value'": gettext_noop("the start of 'value'"),
    "the start of a case's 'Media'": gettext_noop("the start of a case's 'Media'"),
    "a case's 'Media'": gettext_noop("a case's 'Media'"),
    "the start of record at line {line}": gettext_noop("the start of record at line %(line)s"),
    "record at line {line}": gettext_noop("record at line %(line)s"),
    "a colon after a key": gettext_noop("a colon after a key"),
}
_AT_LINE = re.compile(r"(.*record at line )(\d+)")


def reason_in_words(why: Reason) -> str:
    """`why` in the active language (its English when the code has no sentence here)."""
    message = MESSAGES.get(why.code)
    if message is None:
        return why.message
    try:
        values: dict[str, Any] = why.shown()
        if "what" in values:
            values["what"] = _json_place(values["what"])
        if why.place not in PLACES:
            return in_words(message, values)
        return in_words(PLACES[why.place], {**values, "reason": phrase(message, **values)})
    except (KeyError, TypeError, ValueError):  # values that do not fit the code: as stored
        return why.message


def row_in_words(row: Mapping[str, Any]) -> str:
    """A stored bad row's reason (`{"line", "message", "code"?, "place"?, "params"?}`) in the
    active language; a row stored without its code reads as it was stored."""
    why = stored_reason(row)
    return str(row.get("message", "")) if why is None else reason_in_words(why)


def stored_reason(row: Mapping[str, Any]) -> Reason | None:
    """The reason of a stored bad row, or None for one stored without its code."""
    code, params, place = row.get("code"), row.get("params"), row.get("place") or ""
    if not isinstance(code, str) or not code or not isinstance(params, Mapping):
        return None
    if not isinstance(place, str) or code not in ENGLISH or place not in LIBRARY_PLACES:
        return None
    if not all(
        isinstance(value, (str, int)) and not isinstance(value, bool) for value in params.values()
    ):
        return None
    needed = {name for name, _, _ in fields(ENGLISH[code]) + fields(LIBRARY_PLACES[place])}
    if not needed <= params.keys():
        return None
    return Reason(code, dict(params), place)


def _json_place(what: str) -> Any:
    found = _AT_LINE.fullmatch(what)
    key, line = (found[1] + "{line}", found[2]) if found else (what, None)
    words = JSON_PLACES.get(key)
    if words is None:
        return what
    return phrase(words, line=line) if line is not None else phrase(words)


# An upload's failure (`BankUpload.failure`) as the API says it: a list rejected for its bad
# rows as `ImportRejectedError` words it (the English word for word), each row's reason in the
# reader's language; the job's own reasons (`actions.uploads`) through the catalogue; anything
# else as kept.
REJECTED = gettext_noop("%(file)s: %(bad)s bad row(s), nothing imported: %(rows)s")
REJECTED_ROW = gettext_noop("line %(line)s: %(reason)s")
REJECTED_MORE = gettext_noop("(and %(more)s more)")
REJECTED_SHOWN = 20  # rows `ImportRejectedError` names


def upload_failure_in_words(
    failure: str, *, bad: int, errors: list[dict[str, Any]], file: str
) -> str:
    """An upload's failure in the active language (`failure` as kept when it has no words)."""
    if not failure:
        return ""
    if not bad or not errors:
        return gettext(failure)
    rows = [
        in_words(REJECTED_ROW, {"line": row["line"], "reason": row_in_words(row)})
        if row.get("line") is not None
        else row_in_words(row)
        for row in errors[:REJECTED_SHOWN]
    ]
    said = in_words(REJECTED, {"file": file, "bad": bad, "rows": "; ".join(rows)})
    if bad > REJECTED_SHOWN:
        said += " " + in_words(REJECTED_MORE, {"more": bad - REJECTED_SHOWN})
    return said
