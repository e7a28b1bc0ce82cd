"""Project VIC "VICS" JSON (OData style): hash sets (`…#Media`) and case exports (`…#Cases`),
versions 1.3 (`odata.metadata`) and 2.0 (`@odata.context`); read streamed, written as 2.0.

Liberal in what it reads (flags as "true"/"false" strings, categories as numeric strings, tags
as a list or one comma-separated string), strict in what it writes. PhotoDNA values are opaque:
stored and written back exactly as given.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar, TextIO

from muhafiz.banks.formats.base import HashListFormat
from muhafiz.banks.formats.jsonstream import JsonStream
from muhafiz.banks.formats.pdqlist import parse_quality
from muhafiz.banks.hexhash import normalize_hex
from muhafiz.banks.model import HashEntry, HashKind, HashListError
from muhafiz.banks.reasons import Reason, Value, reason

CONTEXT_KEYS = ("@odata.context", "odata.metadata")
VICS_20_MEDIA = (
    "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"
)
_VERSION = re.compile(r"/(?P<version>\d+\.\d+)\.xml", re.IGNORECASE)
SUPPORTED_VERSIONS = ("1.3", "2.0")
_SNIFF = re.compile(rb'^\s*\{\s*"(@odata\.context|odata\.metadata|value)"')


class VicsJson(HashListFormat):
    name: ClassVar[str] = "vics"
    description: ClassVar[str] = "Project VIC VICS 1.3 / 2.0 JSON hash set or case export"
    sniff_order: ClassVar[int] = 20
    can_write: ClassVar[bool] = True

    def sniff(self, path: Path, head: bytes) -> bool:
        return _SNIFF.match(head.removeprefix(b"\xef\xbb\xbf")) is not None

    def read(
        self, path: Path, on_error: Callable[[HashListError], None] | None = None
    ) -> Iterator[HashEntry]:
        """Stream the media records. With `on_error`, a media record that is well-formed JSON
        but not a valid entry (a wrong hash length, a bad flag) is reported and skipped, so a
        caller can name every bad record; broken JSON or an unknown version still stops."""
        source = str(path)
        with path.open("rb") as handle:
            stream = JsonStream(handle, source)
            context: str | None = None
            saw_value = False
            record = 0
            for key in stream.object_keys("the VICS document"):
                if key in CONTEXT_KEYS:
                    line = stream.line()
                    raw_context = stream.value()
                    context = _check_context(raw_context, source, line)
                elif key == "value":
                    saw_value = True
                    cases = context is not None and context.lower().endswith("#cases")
                    for line in stream.array_items("'value'"):
                        if cases or (context is None and stream.peek() == "{"):
                            for entry in _read_value_item(
                                stream, source, line, cases, record, on_error=on_error
                            ):
                                record += 1
                                if entry is not None:
                                    yield entry
                        else:
                            record += 1
                            entry = _checked_media(stream.value(), source, line, record, on_error)
                            if entry is not None:
                                yield entry
                else:
                    stream.value()
            stream.expect_end()
        if context is None:
            raise HashListError(source, None, reason("vics_no_version"))
        if not saw_value:
            raise HashListError(source, None, reason("vics_no_value"))

    def write(self, entries: Iterable[HashEntry], out: TextIO) -> int:
        out.write('{"@odata.context": ' + json.dumps(VICS_20_MEDIA) + ', "value": [\n')
        written = 0
        for entry in entries:
            if written:
                out.write(",\n")
            written += 1
            out.write(json.dumps(_media_json(entry, written), ensure_ascii=False))
        out.write("\n]}\n")
        return written


def _check_context(value: Any, source: str, line: int) -> str:
    if not isinstance(value, str):
        raise HashListError(source, line, reason("vics_context_not_text"))
    match = _VERSION.search(value)
    version = match["version"] if match else None
    if version not in SUPPORTED_VERSIONS:
        raise HashListError(
            source,
            line,
            reason(
                "vics_unknown_version",
                version=version or value,
                supported=", ".join(SUPPORTED_VERSIONS),
            ),
        )
    if not value.lower().endswith(("#media", "#cases")):
        raise HashListError(source, line, reason("vics_not_media_or_cases", value=value))
    return value


def _read_value_item(
    stream: JsonStream,
    source: str,
    line: int,
    cases: bool,
    record: int,
    *,
    on_error: Callable[[HashListError], None] | None,
) -> Iterator[HashEntry | None]:
    """One item of `value` walked key by key: a case (its Media streamed) or a media record."""
    fields: dict[str, Any] = {}
    was_case = False
    for key in stream.object_keys(f"record at line {line}"):
        if key == "Media" and stream.peek() == "[":
            was_case = True
            for media_line in stream.array_items("a case's 'Media'"):
                record += 1
                yield _checked_media(stream.value(), source, media_line, record, on_error)
        else:
            fields[key] = stream.value()
    if not was_case:
        if cases:
            raise HashListError(source, line, reason("vics_case_without_media"))
        yield _checked_media(fields, source, line, record + 1, on_error)


def _checked_media(
    media: Any,
    source: str,
    line: int,
    record: int,
    on_error: Callable[[HashListError], None] | None,
) -> HashEntry | None:
    if on_error is None:
        return media_entry(media, source, line, record)
    try:
        return media_entry(media, source, line, record)
    except HashListError as exc:
        on_error(exc)
        return None


def media_entry(media: Any, source: str, line: int, record: int) -> HashEntry:
    """One VICS Media object as a HashEntry; errors name the record and its MediaID."""
    where = "record"
    at: dict[str, Value] = {"record": record}
    if not isinstance(media, dict):
        raise HashListError(source, line, reason("media_not_object").at(where, **at))
    media_id = media.get("MediaID")
    if media_id is not None:
        # A whole number past 18 digits is not written out (a 5,000-digit one cannot be).
        shown = "…" if isinstance(media_id, int) and abs(media_id) >= 10**18 else None
        if shown is None:
            shown = str(media_id) if isinstance(media_id, int) else repr(media_id)
        where, at = "record_media", {"record": record, "media_id": shown[:40]}

    def fail(why: Reason) -> HashListError:
        return HashListError(source, line, why.at(where, **at))

    def digest(value: Any, kind: HashKind) -> str | None:
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise fail(reason("hash_not_text", kind=kind.value))
        try:
            return normalize_hex(value, kind, source, line)
        except HashListError as exc:
            raise fail(exc.reason) from exc

    md5 = digest(media.get("MD5"), HashKind.MD5)
    sha1 = digest(media.get("SHA1"), HashKind.SHA1)
    sha256 = digest(media.get("SHA256"), HashKind.SHA256)
    pdq: str | None = None
    pdq_quality: int | None = None
    alternatives = media.get("AlternativeHashes") or []
    if not isinstance(alternatives, list):
        raise fail(reason("alternatives_not_list"))
    for alternative in alternatives:
        if not isinstance(alternative, dict):
            raise fail(reason("alternative_not_object"))
        name = str(alternative.get("HashName", "")).strip().upper()
        value = alternative.get("HashValue")
        if name == "PDQ":
            pdq = digest(value, HashKind.PDQ)
            quality = alternative.get("Quality")
            if quality is not None:
                try:
                    pdq_quality = parse_quality(str(quality), source, line)
                except HashListError as exc:
                    raise fail(exc.reason) from exc
        elif name in ("SHA256", "SHA-256") and sha256 is None:
            sha256 = digest(value, HashKind.SHA256)
        elif name in ("MD5", "SHA1", "SHA-1"):
            kind = HashKind.MD5 if name == "MD5" else HashKind.SHA1
            other = digest(value, kind)
            if kind is HashKind.MD5 and md5 is None:
                md5 = other
            elif kind is HashKind.SHA1 and sha1 is None:
                sha1 = other
    photodna = media.get("PhotoDNA")
    if photodna is not None and not isinstance(photodna, str):
        raise fail(reason("photodna_not_text"))
    if photodna == "":
        photodna = None
    if not any((md5, sha1, sha256, pdq, photodna)):
        raise fail(reason("media_without_hash"))
    return HashEntry(
        md5=md5,
        sha1=sha1,
        sha256=sha256,
        pdq=pdq,
        pdq_quality=pdq_quality,
        photodna=photodna,
        category=_category(media.get("Category"), fail),
        series=_text(media.get("Series"), "Series", fail),
        victim_identified=_flag(media.get("VictimIdentified"), "VictimIdentified", fail),
        offender_identified=_flag(media.get("OffenderIdentified"), "OffenderIdentified", fail),
        tags=_tags(media.get("Tags"), fail),
        note=_text(media.get("Comments"), "Comments", fail),
        line=line,
    )


def _category(value: Any, fail: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise fail(reason("category_not_number", value=str(value)))
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    digits = text.removeprefix("-")
    if isinstance(value, int) or (digits.isascii() and digits.isdigit() and len(digits) <= 6):
        number = value if isinstance(value, int) else int(text)
        if -32_768 <= number <= 32_767:
            return number
        raise fail(reason("vics_category_out_of_range"))
    raise fail(reason("category_not_number", value=str(value)[:40]))


def _flag(value: Any, name: str, fail: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise fail(reason("flag_not_boolean", field=name, value=_plain(value)))


def _plain(value: Any) -> Value:
    """A JSON value as a reason's value: text and whole numbers as they are, anything else
    (a list, an object, a fraction) as its Python text, shortened."""
    if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
        return value if isinstance(value, int) or len(value) <= 80 else value[:80] + "…"
    return repr(value)[:80]


def _text(value: Any, name: str, fail: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    raise fail(reason("field_not_text", field=name))


def _tags(value: Any, fail: Any) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return tuple(tag.strip() for tag in value.split(",") if tag.strip())
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return tuple(tag for tag in value if tag)
    raise fail(reason("tags_not_list"))


def _media_json(entry: HashEntry, media_id: int) -> dict[str, Any]:
    media: dict[str, Any] = {"MediaID": media_id, "Category": entry.category}
    if entry.md5:
        media["MD5"] = entry.md5.upper()
    if entry.sha1:
        media["SHA1"] = entry.sha1.upper()
    if entry.photodna is not None:
        media["PhotoDNA"] = entry.photodna
    if entry.victim_identified is not None:
        media["VictimIdentified"] = entry.victim_identified
    if entry.offender_identified is not None:
        media["OffenderIdentified"] = entry.offender_identified
    if entry.series is not None:
        media["Series"] = entry.series
    if entry.tags:
        media["Tags"] = list(entry.tags)
    if entry.note is not None:
        media["Comments"] = entry.note
    alternatives: list[dict[str, Any]] = []
    if entry.sha256:
        alternatives.append({"HashName": "SHA256", "HashValue": entry.sha256})
    if entry.pdq:
        pdq: dict[str, Any] = {"HashName": "PDQ", "HashValue": entry.pdq}
        if entry.pdq_quality is not None:
            pdq["Quality"] = entry.pdq_quality
        alternatives.append(pdq)
    if alternatives:
        media["AlternativeHashes"] = alternatives
    return media
