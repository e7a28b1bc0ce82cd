"""The records a scan produces: one per file or archive member, and the issues found on the way."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class IssueCode(StrEnum):
    """Why a file could not be fully processed. The scan goes on; the issue is recorded."""

    UNREADABLE = "unreadable"
    VANISHED = "vanished"
    ZERO_BYTE = "zero-byte"
    SYMLINK_LOOP = "symlink-loop"
    NOT_REGULAR = "not-regular-file"
    NON_UTF8_NAME = "non-utf8-name"
    UNSAFE_MEMBER_NAME = "unsafe-member-name"
    PASSWORD_PROTECTED = "password-protected"  # noqa: S105 - an issue code, not a secret
    CORRUPT_ARCHIVE = "corrupt-archive"
    ZIP_BOMB = "zip-bomb"
    EXPANDED_SIZE_LIMIT = "expanded-size-limit"
    DEPTH_LIMIT = "depth-limit"
    TOO_LARGE_IN_ARCHIVE = "nested-archive-too-large"
    CORRUPT_IMAGE = "corrupt-image"
    CORRUPT_VIDEO = "corrupt-video"
    VIDEO_TOO_LARGE = "video-too-large-in-archive"
    STORED_HASH_MISMATCH = "stored-hash-mismatch"
    ENCRYPTED_BACKUP = "encrypted-backup"
    WRONG_PASSWORD = "wrong-password"  # noqa: S105 - an issue code, not a secret
    NOT_IN_EXTRACTION = "not-in-extraction"
    DECOMPRESSION_BOMB = "decompression-bomb"
    EXIF_UNREADABLE = "exif-unreadable"
    SIZE_MISMATCH = "size-mismatch"
    INTERNAL_ERROR = "internal-error"
    FILE_SYSTEM_UNREADABLE = "file-system-unreadable"
    ACQUISITION_HASH_MISMATCH = "acquisition-hash-mismatch"
    IMAGE_NOT_OPENED = "image-in-archive-not-opened"


class Severity(StrEnum):
    ERROR = "error"  # part of the file's content could not be examined
    WARNING = "warning"  # examined fully, but something about it needs a human's attention


WARNINGS = frozenset(
    {
        IssueCode.ZERO_BYTE,
        IssueCode.NON_UTF8_NAME,
        IssueCode.UNSAFE_MEMBER_NAME,
        IssueCode.NOT_REGULAR,
        IssueCode.SYMLINK_LOOP,  # links are never followed, so nothing was missed
    }
)


@dataclass(frozen=True, slots=True)
class Issue:
    source_id: int
    path: str
    code: IssueCode
    message: str

    @property
    def severity(self) -> Severity:
        return Severity.WARNING if self.code in WARNINGS else Severity.ERROR


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One sampled frame of a video: its number, its time, and its PDQ hash (None: too small)."""

    frame: int
    seconds: float
    quality: int
    pdq: str | None


@dataclass(slots=True)
class VideoInfo:
    """What the container says about a video, and its vPDQ frame hashes (one per second)."""

    container: str | None = None
    codec: str | None = None
    duration: float | None = None  # seconds
    frame_rate: float | None = None
    created: str | None = None  # the container's creation time, ISO 8601
    location: str | None = None  # ISO 6709 (e.g. "+31.5204+074.3587/") as the camera wrote it
    frames: list[VideoFrame] = field(default_factory=list)


@dataclass(slots=True)
class FileRecord:
    """What the scan learned about one file. Times are ISO 8601; `None` means unknown."""

    source_id: int
    path: str
    parent: str | None  # the containing archive's path, None for a top-level file
    depth: int  # 0 for files in the source itself, 1 inside an archive, 2 nested, ...
    kind: str = "file"  # file | symlink | special
    size: int | None = None
    path_raw: bytes | None = None  # the name's bytes when they are not valid UTF-8
    mtime: str | None = None
    atime: str | None = None
    ctime: str | None = None
    time_zone: str | None = None
    timestamps_reliable: bool = False
    timestamp_note: str | None = None
    mime: str | None = None
    ext_mismatch: bool = False
    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    width: int | None = None
    height: int | None = None
    exif_make: str | None = None
    exif_model: str | None = None
    exif_software: str | None = None
    exif_datetime: str | None = None
    exif_offset: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    link_target: str | None = None
    archive_format: str | None = None
    deleted: bool = False  # the source says the file was deleted (still recoverable)
    device_path: str | None = None  # where the file lived on the seized device (phones)
    created: str | None = None  # birth time where the source records one
    carved: bool = False  # recovered from unallocated space by its content, not by a listing
    carved_offset: int | None = None  # a carved file's first byte in the image's media
    inode: int | None = None  # the file system's metadata address (inode, MFT entry)
    video: VideoInfo | None = None
    # Hashes the source recorded for the file (a phone extraction's report): checked against
    # the bytes when they have been hashed; a disagreement is a `stored-hash-mismatch`.
    stored_md5: str | None = None
    stored_sha256: str | None = None
    # A disk image or phone extraction found inside an archive and opened (`triage.spool`): its
    # format, the acquisition-hash verdict ('' for an extraction) and rows (algorithm, stored,
    # computed, result), and what its walk learned (a UFDR's device); `nested_images`.
    nested_image: (
        tuple[str, str, list[tuple[str, str | None, str | None, str]], dict[str, Any] | None] | None
    ) = None
    issues: list[Issue] = field(default_factory=list)

    def add_issue(self, code: IssueCode, message: str) -> None:
        self.issues.append(Issue(self.source_id, self.path, code, message))


def display_name(name: str) -> tuple[str, bytes | None]:
    """A name as text for the scan file, and its raw bytes when they are not valid UTF-8.

    Names from the file system and from tar arrive with undecodable bytes as surrogates; they
    are shown as `\\xNN` so that the text stays printable and the raw bytes stay on record.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raw = name.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "backslashreplace"), raw
    return name, None


def iso_utc(ns: int) -> str:
    """Nanoseconds since the epoch as ISO 8601 UTC with microseconds (…T10:00:00.000000Z)."""
    seconds, rest = divmod(ns, 1_000_000_000)
    if 0 <= seconds < _YEAR_10000:  # the common case, without datetime (three per file)
        t = time.gmtime(seconds)
        return (
            f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:"
            f"{t.tm_sec:02d}.{rest // 1000:06d}Z"
        )
    moment = _EPOCH + dt.timedelta(seconds=seconds, microseconds=rest // 1000)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_YEAR_10000 = 253_402_300_800
