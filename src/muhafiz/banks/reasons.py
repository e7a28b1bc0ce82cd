"""Why a hash list, or one row of it, cannot be read: a stable code, its values and the English
sentence the command line and the logs print.

The server shows the same reason in the reader's language from the code and the values
(`muhafiz.hashbank.reasons`, through gettext), and its API hands both to clients: codes and the
names of their values are a contract. Never rename one or change what a value means; a new
reason gets a new code (a test on the server fails until it has its Urdu).

A value is the text or number the sentence shows (a hash as found in the file, a line count, a
detail from Python or SQLite); `shown()` gives each as the English sentence writes it (`{x!r}`
quotes it, `{n:,}` groups digits), so every language shows the same values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Formatter
from typing import Any

Value = str | int

# Every reason: its code and its English sentence (Python format fields name its values).
ENGLISH: dict[str, str] = {
    # Any text file.
    "line_too_long": "a line longer than {kib} KiB",
    "binary_data": "binary data in a text hash list",
    "not_utf8": "not UTF-8 text ({detail})",
    # The file as a whole.
    "unknown_format": "unknown hash-list format; known formats: {known}",
    "cannot_read": "cannot read: {detail}",
    "empty_file": "empty file",
    "no_known_format": "not a hash list in a known format ({known})",
    "unreadable": "cannot be read ({detail})",
    # Hashes.
    "not_hex": "{kind} {value!r} is not hexadecimal",
    "wrong_hex_length": "{kind} {value!r} has {length} hex characters, expected {expected}",
    "contradicts_line": "{kind} {value} is also on line {first_line} with different details",
    "contradicts_line_of_file": (
        "{kind} {value} is also on line {first_line} of {first_source} with different details"
    ),
    # What one entry may hold (`model.entry_limit_error`).
    "note_too_long": "the note has {length:,} characters; at most {limit:,} are kept",
    "series_too_long": "the series has {length:,} characters; at most {limit:,} are kept",
    "photodna_too_long": (
        "the PhotoDNA value has {length:,} characters; at most {limit:,} are kept"
    ),
    "note_has_nul": "the note holds a NUL character",
    "series_has_nul": "the series holds a NUL character",
    "photodna_has_nul": "the PhotoDNA value holds a NUL character",
    "too_many_tags": "{count} tags; at most {limit} are kept",
    "tag_too_long": "a tag is longer than {limit} characters or holds a NUL character",
    "category_out_of_range": "category {value}… is out of range ({low} to {high})",
    # One hash a line.
    "header_after_hash": "header {value!r} after the first hash",
    "plain_not_hex": "{value!r} is not a hexadecimal hash",
    "plain_hash_length": (
        "hash of {length} hex characters; expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256)"
    ),
    # md5sum / sha1sum / sha256sum output.
    "checksum_line": "expected '<hex>  <file name>' as md5sum/sha1sum/sha256sum print",
    "checksum_hash_length": "hash of {length} characters; expected 32, 40 or 64 hex characters",
    "mixed_kinds": "{kind} line in a list of {list_kind}",
    # hashdeep.
    "hashdeep_version": "unsupported hashdeep version {version!r}",
    "hashdeep_columns_end": "hashdeep column line must end with 'filename'",
    "hashdeep_unknown_columns": "unknown hashdeep column(s) {columns}",
    "hashdeep_no_hash_column": "no MD5, SHA-1 or SHA-256 column",
    "hashdeep_no_header": "missing the {header!r} header",
    "hashdeep_no_column_line": "file line before the '%%%% size,…' column line",
    "field_count": "{count} fields, expected {expected} ({columns})",
    "size_not_number": "size {value!r} is not a whole number",
    # PDQ and vPDQ lists.
    "pdq_quality": "PDQ quality {value!r} is not a whole number 0-100",
    "pdq_line": "expected '<64 hex>[,quality][,note]'",
    "vpdq_field_count": (
        "{count} fields, expected 4 (frameNumber,quality,pdqHex,timestampSeconds)"
    ),
    "frame_not_number": "frame number {value!r} is not a whole number",
    "timestamp_not_seconds": "timestamp {value!r} is not seconds",
    # VICS documents.
    "vics_no_version": "no '@odata.context' or 'odata.metadata': unknown VICS version",
    "vics_no_value": "no 'value' array of media or cases",
    "vics_context_not_text": "the OData context must be a string",
    "vics_unknown_version": "unknown VICS version {version!r}; supported: {supported}",
    "vics_not_media_or_cases": "not a VICS Media or Cases document: {value!r}",
    "vics_case_without_media": "case has no 'Media' array",
    "media_not_object": "a media record must be a JSON object",
    "hash_not_text": "{kind} must be a string",
    "alternatives_not_list": "AlternativeHashes must be a list",
    "alternative_not_object": "each AlternativeHashes item must be an object",
    "photodna_not_text": "PhotoDNA must be a string (base64 or hex), passed through untouched",
    "media_without_hash": "no MD5, SHA1, SHA256, PDQ or PhotoDNA value",
    "category_not_number": "Category {value!r} is not a number",
    "vics_category_out_of_range": "Category is out of range (-32768 to 32767)",
    "flag_not_boolean": "{field} {value!r} is not true or false",
    "field_not_text": "{field} must be text",
    "tags_not_list": "Tags must be a list of strings",
    # JSON read as a stream (`formats.jsonstream`); `what` is one of `JSON_PLACES`.
    "json_ends_in_character": "file ends inside a UTF-8 character",
    "json_expected": "expected {what} ({char!r}), found {found!r}",
    "json_expected_at_end": "expected {what} ({char!r}), found the end of the file (truncated?)",
    "json_key_expected": "expected a quoted key in {what}",
    "json_separator": "expected ',' or {close!r} in {what}, found {found!r}",
    "json_separator_at_end": (
        "expected ',' or {close!r} in {what}, found the end of the file (truncated?)"
    ),
    "json_too_deep": "JSON nested too deeply",
    "json_value_too_long": "a value longer than {mib} MiB",
    "json_truncated": "file ends in the middle of a value (truncated?)",
    "json_malformed": "malformed JSON: {detail}",
    "json_trailing_data": "unexpected data after the end of the JSON document",
    # NSRL RDS (SQLite).
    "not_sqlite": "not an SQLite database (or truncated header)",
    "sqlite_truncated": (
        "truncated SQLite file: header says {pages} pages of {page_size} bytes "
        "({expected} bytes), file has {size}"
    ),
    "sqlite_cannot_open": "cannot open SQLite database: {detail}",
    "sqlite_value_too_large": "a value in the database is larger than {limit} bytes",
    "nsrl_damaged": "damaged or truncated NSRL database: {detail}",
    "sqlite_damaged": "damaged SQLite database: {detail}",
    "nsrl_generated_columns": "not an NSRL RDS v3 database: {table} has generated hash columns",
    "nsrl_no_hash_table": (
        "not an NSRL RDS v3 database: no METADATA or FILE table with hash columns "
        "(views are not read)"
    ),
    "column_not_text": "{column} is not text",
    "no_hash": "no hash",
    # A reason given as plain text (a format added from outside, an older caller): no code.
    "": "{text}",
}

# Where in a file a reason was found, said before it (`Reason.place`).
PLACES: dict[str, str] = {
    "": "",
    "record": "record {record}: ",
    "record_media": "record {record} (MediaID {media_id}): ",
}

# The places of a JSON document `json_*` reasons name in `what`, as the stream says them.
JSON_PLACES = (
    "the start of the VICS document",
    "the VICS document",
    "the start of 'value'",
    "'value'",
    "the start of a case's 'Media'",
    "a case's 'Media'",
    "the start of record at line {line}",
    "record at line {line}",
    "a colon after a key",
)


@dataclass(frozen=True, slots=True)
class Reason:
    """One reason: its code (a key of `ENGLISH`), its values, and where in the file (a key of
    `PLACES`, whose values are among `params` too)."""

    code: str
    params: Mapping[str, Value] = field(default_factory=dict)
    place: str = ""

    @classmethod
    def text(cls, message: str) -> Reason:
        """A reason known only by its English text (no code: shown as written)."""
        return cls("", {"text": message})

    def at(self, place: str, **params: Value) -> Reason:
        """This reason found at a place in the file (a database record, a VICS record)."""
        return Reason(self.code, {**self.params, **params}, place)

    @property
    def message(self) -> str:
        """The English sentence."""
        values = self.shown()
        return _fill(PLACES[self.place], values) + _fill(ENGLISH[self.code], values)

    def shown(self) -> dict[str, str]:
        """Each value as the English sentence shows it (quoted, digits grouped)."""
        shown: dict[str, str] = {}
        for template in (PLACES[self.place], ENGLISH[self.code]):
            for name, spec, conversion in fields(template):
                if name in self.params and name not in shown:
                    shown[name] = _show(self.params[name], spec, conversion)
        return shown

    def as_json(self) -> dict[str, Any]:
        """The code, the place and the values, as stored and as the API gives them."""
        params = dict(self.params)
        return {"code": self.code, "place": self.place, "params": params}


def reason(code: str, **params: Value) -> Reason:
    """A reason by its code; refuses a code `ENGLISH` does not know, or a missing value."""
    if code not in ENGLISH:
        raise KeyError(f"no reason {code!r}")
    missing = {name for name, _, _ in fields(ENGLISH[code])} - params.keys()
    if missing:
        raise KeyError(f"reason {code!r} needs {sorted(missing)}")
    return Reason(code, params)


def fields(template: str) -> list[tuple[str, str, str]]:
    """The (name, format spec, conversion) of each field of an English template."""
    return [
        (name, spec or "", conversion or "")
        for _, name, spec, conversion in Formatter().parse(template)
        if name
    ]


def _show(value: Any, spec: str, conversion: str) -> str:
    if conversion == "r":
        value = repr(value)
    elif conversion == "s":
        value = str(value)
    return format(value, spec)


def _fill(template: str, shown: Mapping[str, str]) -> str:
    """The template with each field replaced by its shown value (conversion and spec applied
    already)."""
    parts: list[str] = []
    for literal, name, _, _ in Formatter().parse(template):
        parts.append(literal)
        if name:
            parts.append(shown[name])
    return "".join(parts)
