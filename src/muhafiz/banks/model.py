"""The records every hash-list format reads into and the index matches against.

This is the contract between `muhafiz.banks` (formats, index) and its users (triage, the server).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from muhafiz.banks.reasons import Reason, reason


class BankKind(StrEnum):
    KNOWN_BAD = "known-bad"
    KNOWN_GOOD = "known-good"
    WATCH = "watch"


class HashKind(StrEnum):
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    PDQ = "pdq"
    PHOTODNA = "photodna"


EXACT_BY_LENGTH = {32: HashKind.MD5, 40: HashKind.SHA1, 64: HashKind.SHA256}


def exact_hashes_by_kind(values: Iterable[str]) -> dict[str, list[str]]:
    """Hex digests grouped by kind from their length (MD5, SHA-1, SHA-256), lower case and
    without repeats; anything else is left out."""
    groups: dict[str, list[str]] = {}
    for value in sorted({v.strip().lower() for v in values if v}):
        kind = EXACT_BY_LENGTH.get(len(value))
        if kind is not None:
            groups.setdefault(kind.value, []).append(value)
    return groups


@dataclass(frozen=True, slots=True)
class HashEntry:
    """One entry of a hash list: any subset of hashes plus what the list says about it.

    Hex digests are lowercase. `line` is the 1-based line (or record) number in the source file,
    so that errors and provenance can name it.
    """

    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    photodna: str | None = None  # opaque, passed through untouched
    category: int | None = None
    series: str | None = None
    victim_identified: bool | None = None
    offender_identified: bool | None = None
    tags: tuple[str, ...] = field(default=())
    note: str | None = None
    line: int = 0


# What one entry of a hash list may hold: the server stores these, and a list is refused (by
# line) past them rather than filling the database with one 300 MB comment.
MAX_NOTE_CHARS = 10_000
MAX_SERIES_CHARS = 200
MAX_TAG_CHARS = 100
MAX_TAGS = 50
MAX_PHOTODNA_CHARS = 2_000
CATEGORY_RANGE = (-32_768, 32_767)


def entry_limit_error(entry: HashEntry) -> Reason | None:
    """Why `entry` is past the limits above, or None when it is within them."""
    checks = (
        ("note", entry.note, MAX_NOTE_CHARS),
        ("series", entry.series, MAX_SERIES_CHARS),
        ("photodna", entry.photodna, MAX_PHOTODNA_CHARS),
    )
    for what, value, limit in checks:
        if value is not None and len(value) > limit:
            return reason(f"{what}_too_long", length=len(value), limit=limit)
        if value is not None and "\x00" in value:
            return reason(f"{what}_has_nul")
    if len(entry.tags) > MAX_TAGS:
        return reason("too_many_tags", count=len(entry.tags), limit=MAX_TAGS)
    for tag in entry.tags:
        if len(tag) > MAX_TAG_CHARS or "\x00" in tag:
            return reason("tag_too_long", limit=MAX_TAG_CHARS)
    low, high = CATEGORY_RANGE
    if entry.category is not None and not low <= entry.category <= high:
        return reason("category_out_of_range", value=str(entry.category)[:12], low=low, high=high)
    return None


class HashListError(ValueError):
    """A hash list could not be read; names the file and the line or record at fault.

    `reason` says why with a stable code and its values (`banks.reasons`), for a server to say
    it in its reader's language; `message` is its English sentence."""

    def __init__(self, source: str, line: int | None, why: Reason | str) -> None:
        self.source = source
        self.line = line
        self.reason = why if isinstance(why, Reason) else Reason.text(why)
        self.message = self.reason.message
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {self.message}")


@dataclass(frozen=True, slots=True)
class BankInfo:
    """A bank as a matcher loaded it: where it came from and how big it is.

    `sha256` is the SHA-256 of the source hash-list file, or of an exported bank directory's
    manifest (which lists its segments), so a report can name exactly what was matched against.
    """

    name: str
    kind: BankKind
    path: Path
    sha256: str
    entries: int
    format: str = ""
