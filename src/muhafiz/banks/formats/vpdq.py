"""vPDQ frame files: `frameNumber,quality,pdqHex,timestampSeconds` a line, one file per video.

Each frame becomes one PDQ entry; its note records the frame and time, so a match can name
where in the video it lies, and its tags say which video it belongs to (`vpdq`,
`video:<file stem>`), so `banks.video.match_video` can apply the whole-video rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import ClassVar, TextIO

from muhafiz.banks.formats.base import TextLineFormat, first_text_lines
from muhafiz.banks.formats.pdqlist import parse_quality
from muhafiz.banks.hexhash import normalize_hex
from muhafiz.banks.model import HashEntry, HashKind, HashListError
from muhafiz.banks.reasons import reason

_SNIFF = re.compile(r"^\d+,\d{1,3},[0-9A-Fa-f]{64},\d+(\.\d+)?$")
_TIME = re.compile(r"^\d+(\.\d+)?$")
_NOTE = re.compile(r"^frame (\d+) at (\d+(?:\.\d+)?) s$")
VIDEO_TAG_PREFIX = "video:"


def frame_line(frame: int, quality: int, pdq: str, seconds: float) -> str:
    """One line of a vPDQ file, exactly as the reference tool and `muhafiz report` write it."""
    return f"{frame},{quality},{pdq},{seconds:.3f}\n"


def video_of(entry: HashEntry) -> str:
    """The name of the video a frame entry belongs to (its `video:` tag), or ""."""
    for tag in entry.tags:
        if tag.startswith(VIDEO_TAG_PREFIX):
            return tag.removeprefix(VIDEO_TAG_PREFIX)
    return ""


class VpdqFrames(TextLineFormat):
    name: ClassVar[str] = "vpdq"
    description: ClassVar[str] = "vPDQ frames: frameNumber,quality,pdqHex,timestampSeconds"
    sniff_order: ClassVar[int] = 300
    can_write: ClassVar[bool] = True

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = first_text_lines(head, limit=1)
        return bool(lines) and all(_SNIFF.match(line) for line in lines)

    def read(self, path: Path) -> Iterator[HashEntry]:
        video = f"{VIDEO_TAG_PREFIX}{path.name.split('.')[0] or path.name}"
        for entry in super().read(path):
            yield HashEntry(
                pdq=entry.pdq,
                pdq_quality=entry.pdq_quality,
                note=entry.note,
                tags=("vpdq", video),
                line=entry.line,
            )

    def parse_line(
        self, text: str, source: str, line: int, state: dict[str, object]
    ) -> HashEntry | None:
        fields = [field.strip() for field in text.split(",")]
        if len(fields) != 4:
            raise HashListError(source, line, reason("vpdq_field_count", count=len(fields)))
        frame_text, quality_text, hex_text, time_text = fields
        if not (frame_text.isascii() and frame_text.isdigit() and len(frame_text) <= 12):
            raise HashListError(source, line, reason("frame_not_number", value=frame_text[:20]))
        if not (time_text.isascii() and len(time_text) <= 24 and _TIME.match(time_text)):
            raise HashListError(source, line, reason("timestamp_not_seconds", value=time_text[:24]))
        quality = parse_quality(quality_text, source, line)
        digest = normalize_hex(hex_text, HashKind.PDQ, source, line)
        return HashEntry(
            pdq=digest,
            pdq_quality=quality,
            note=f"frame {int(frame_text)} at {float(time_text):.3f} s",
            tags=("vpdq",),
            line=line,
        )

    def write(self, entries: Iterable[HashEntry], out: TextIO) -> int:
        """Frames of ONE video (a vPDQ file holds one); frame and time come back from the note
        the reader wrote, frames without them are numbered in order."""
        written = 0
        for entry in entries:
            if entry.pdq is None:
                continue
            match = _NOTE.match(entry.note or "")
            frame, seconds = (
                (int(match[1]), float(match[2])) if match else (written, float(written))
            )
            quality = 100 if entry.pdq_quality is None else entry.pdq_quality
            out.write(frame_line(frame, quality, entry.pdq, seconds))
            written += 1
        return written
