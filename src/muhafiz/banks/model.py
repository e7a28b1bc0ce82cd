"""The records every hash-list format reads into and the index matches against.

This is the contract between `muhafiz.banks` (formats, index) and its users (triage, the server).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


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


class HashListError(ValueError):
    """A hash list could not be read; names the file and the line or record at fault."""

    def __init__(self, source: str, line: int | None, message: str) -> None:
        self.source = source
        self.line = line
        self.message = message
        where = f"{source}, line {line}" if line is not None else source
        super().__init__(f"{where}: {message}")


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
