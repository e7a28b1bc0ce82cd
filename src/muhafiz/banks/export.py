"""Hash lists out of a bank: every entry of an exported bank directory, written in a format
that can write (VICS 2.0 JSON, PDQ list)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from muhafiz.banks.bankdir import iter_segment_entries, open_bank_dir
from muhafiz.banks.model import HashEntry, HashListError

EXPORT_FORMATS = ("vics", "pdq", "vpdq")


def bank_entries(path: Path) -> Iterator[HashEntry]:
    """Every entry of the bank directory at `path`, segment by segment."""
    bank = open_bank_dir(path)
    for segment in bank.segments:
        yield from iter_segment_entries(segment)


def export_bank(path: Path, format_name: str, out: TextIO) -> int:
    """Write the bank at `path` to `out` as `format_name`; return how many entries were written."""
    from muhafiz.banks.formats import get_format

    fmt = get_format(format_name)
    if format_name == "vpdq":
        raise HashListError(format_name, None, "vPDQ is one file per video: use export_videos")
    if not fmt.can_write:
        raise HashListError(format_name, None, f"cannot export as {format_name}")
    return fmt.write(bank_entries(path), out)


def export_videos(path: Path, out_dir: Path) -> dict[str, int]:
    """Write each video of the bank at `path` as `<video>.vpdq` in `out_dir` (a vPDQ file holds
    one video); return frames written per video. Entries that are not video frames are left
    out. Reading the files back (`build-dir`) gives the same videos."""
    from muhafiz.banks.formats.vpdq import video_of

    videos: dict[str, list[HashEntry]] = {}
    for entry in bank_entries(path):
        if "vpdq" in entry.tags and entry.pdq is not None:
            videos.setdefault(video_of(entry) or "video", []).append(entry)
    out_dir.mkdir(parents=True, exist_ok=True)
    from muhafiz.banks.formats import get_format

    fmt = get_format("vpdq")
    written = {}
    for video, entries in sorted(videos.items()):
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in video) or "video"
        entries.sort(key=lambda e: e.line)
        with (out_dir / f"{safe}.vpdq").open("w", encoding="utf-8") as handle:
            written[video] = fmt.write(entries, handle)
    return written
