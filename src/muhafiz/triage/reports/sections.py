"""The sections of the human-readable reports (HTML and PDF), in order, as plain tables."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from muhafiz.triage.reports.data import ReportData, karachi_time, summary_lines, volume_rows

# Very long lists are cut in the printed reports; the CSV always holds everything.
MAX_ROWS = 5000


@dataclass
class Section:
    title: str
    intro: str
    header: tuple[str, ...]
    rows: Sequence[Sequence[str]]
    note: str = ""


def _limited(rows: Sequence[Sequence[str]]) -> tuple[Sequence[Sequence[str]], str]:
    if len(rows) <= MAX_ROWS:
        return rows, ""
    return rows[:MAX_ROWS], f"First {MAX_ROWS:,} of {len(rows):,} rows; the CSV report has all."


def _s(value: object) -> str:
    return "" if value is None else str(value)


def _device(row: dict[str, object]) -> str:
    path = _s(row.get("device_path"))
    return f"{path} (deleted)" if path and row.get("deleted") else path


def flags(row: dict[str, object]) -> str:
    """Deleted and carved files said in words: where the file came from matters in court."""
    words = []
    if row.get("deleted"):
        words.append("deleted")
    if row.get("carved"):
        words.append(f"carved at byte {row.get('carved_offset')}")
    return ", ".join(words)


def _percent(value: object) -> str:
    return "" if value is None else f"{float(str(value)):.1f}"


def _times(text: object, limit: int = 30) -> str:
    times = _s(text).split(",") if text else []
    shown = ", ".join(times[:limit])
    return shown + (f" … ({len(times):,} in all)" if len(times) > limit else "")


def sections(data: ReportData) -> list[Section]:
    out = [
        Section(
            "Summary",
            "No image is shown in this report. Files were identified by their hashes only.",
            ("Item", "Value"),
            summary_lines(data),
        )
    ]
    match_rows = [
        (
            _s(m["path"]), flags(m), _device(m), _s(m["bank"]), _s(m["bank_kind"]), _s(m["kind"]),
            _s(m["distance"]), _s(m["category"]), _s(m["size"]), _s(m["md5"]), _s(m["sha256"]),
        )
        for m in data.matches
    ]  # fmt: skip
    rows, note = _limited(match_rows)
    out.append(
        Section(
            "Matches",
            "Known-bad and watch-list matches first, then known-good files set aside. "
            "Distance 0 is an exact match; PDQ distances are out of 256 bits. The device path is "
            "where a phone extraction says the file lived (deleted files are marked). In a disk "
            "image the path reads image!partition/path; a carved picture has no name, only the "
            "byte offset where it starts in the image.",
            ("Path", "Flags", "Device path", "Bank", "Bank kind", "Hash", "Distance", "Category",
             "Size", "MD5", "SHA-256"),
            rows,
            note,
        )
    )  # fmt: skip
    rows, note = _limited(
        [(_s(f["path"]), _s(f["mime"]), _s(f["size"]), _s(f["sha256"])) for f in data.mismatched]
    )
    out.append(
        Section(
            "Extension does not match content",
            "Files whose name says one type while their bytes are another (a picture renamed "
            "to .txt or .dll is a common way to hide it). The content type is read from the "
            "bytes.",
            ("Path", "Content type (from its bytes)", "Size", "SHA-256"),
            rows,
            note,
        )
    )
    video_rows = [
        (
            _s(m["path"]), _device(m), _s(m["bank"]),
            "whole video" if m["kind"] == "vpdq" else "known picture as a frame",
            _s(m["entry_hash"]) if m["kind"] == "vpdq" else _s(m["entry_line"]),
            _percent(m["query_percent"]), _percent(m["compared_percent"]),
            _times(m["frame_times"]),
        )
        for m in data.matches
        if m["kind"] in ("vpdq", "pdq-frame")
    ]  # fmt: skip
    rows, note = _limited(video_rows)
    out.append(
        Section(
            "Video matches",
            "Videos matched by vPDQ: one PDQ hash per second of video; a known video is matched "
            "when at least "
            f"{data.settings.get('video_accept_percent', 80):g} % of the unique frames on either "
            "side match (query % of this video's frames, compared % of the known video's). A "
            "known picture seen in a video is listed with the times it appears. Times are "
            "seconds from the start; no frame is shown.",
            ("Path", "Device path", "Bank", "Match", "Known video / entry line", "Query %",
             "Compared %", "At (s)"),
            rows,
            note,
        )
    )  # fmt: skip
    volumes = volume_rows(data)
    if volumes or data.image_hashes:
        out.append(
            Section(
                "Disk images: acquisition hashes",
                "The hashes the acquisition tool stored in each image, against the media as this "
                "scan read it from end to end. A mismatch means the image is damaged or was "
                "altered after acquisition.",
                ("Source", "Result", "Algorithm", "Stored → computed"),
                [
                    (
                        _s(h["source_id"]), _s(h["result"]).upper(), _s(h["algorithm"]),
                        f"{_s(h['stored'])} → {_s(h['computed']) or '(not computed)'}",
                    )
                    for h in data.image_hashes
                ],
            )
        )  # fmt: skip
        out.append(
            Section(
                "Disk images: partitions and file systems",
                "Every partition (p1, p2, ... in table order) and the space no partition claims. "
                "A file system The Sleuth Kit cannot read is an error; its space is still carved.",
                ("Source", "Volume", "Start (byte)", "Length", "File system", "Status", "Files",
                 "Deleted"),
                volumes,
            )
        )  # fmt: skip
    out.append(
        Section(
            "Statistics by type",
            "Content type is read from the file's bytes, not from its name.",
            ("Content type", "Files", "Bytes"),
            [(_s(r["mime"]), f"{r['files']:,}", f"{r['bytes']:,}") for r in data.by_type],
        )
    )
    gps_rows = [
        (
            _s(g["path"]), f"{g['gps_lat']:.6f}", f"{g['gps_lon']:.6f}",
            _s(g["exif_datetime"]) + (f" {g['exif_offset']}" if g["exif_offset"] else ""),
            " ".join(x for x in (_s(g["exif_make"]), _s(g["exif_model"])) if x),
        )
        for g in data.gps
    ]  # fmt: skip
    rows, note = _limited(gps_rows)
    out.append(
        Section(
            "EXIF locations",
            "GPS positions in decimal degrees (WGS 84) as the camera recorded them; capture "
            "times are the camera's local time unless an offset is shown.",
            ("Path", "Latitude", "Longitude", "Captured", "Camera"),
            rows,
            note,
        )
    )
    error_rows = [
        (_s(e["path"]), _s(e["severity"]), _s(e["code"]), _s(e["message"])) for e in data.errors
    ]
    rows, note = _limited(error_rows)
    out.append(
        Section(
            "Errors and warnings",
            "Files that could not be fully examined, and why. The scan went on past each.",
            ("Path", "Severity", "Code", "Message"),
            rows,
            note,
        )
    )
    out.append(
        Section(
            "Custody log",
            "What was done, when (UTC, and the same moment in Pakistan time) and by whom.",
            ("Time (UTC)", "Time (Asia/Karachi)", "By", "Action", "Detail"),
            [
                (
                    _s(c["at"]),
                    karachi_time(_s(c["at"])),
                    _s(c["actor"]),
                    _s(c["action"]),
                    _s(c["detail"]),
                )
                for c in data.custody
            ],
        )
    )
    setting_rows = [(key, json.dumps(value)) for key, value in sorted(data.settings.items())]
    setting_rows += [(f"environment: {k}", v) for k, v in sorted(data.environment.items())]
    setting_rows += [
        (
            f"bank {b['name']}",
            f"{b['kind']}, {b['format']}, {b['entries']:,} entries, "
            f"SHA-256 {b['sha256']}, {b['path']}",
        )
        for b in data.banks
    ]
    out.append(
        Section(
            "Tool version and settings",
            f"{data.meta.get('tool', 'muhafiz')} {data.meta.get('tool_version', '')}; every "
            "setting that shapes the results is listed, so the scan can be repeated.",
            ("Setting", "Value"),
            setting_rows,
        )
    )
    out.append(declaration(data))
    return out


def declaration(data: ReportData) -> Section:
    """The examiner's declaration and a signature block, signed on the printed report."""
    return Section(
        "Examiner's declaration",
        "I declare that I examined the sources listed in this report with the tool and settings "
        "stated; that the results above are those the tool recorded in the scan file named in "
        "the summary, whose SHA-256 is given there; that no file's content was altered by the "
        "examination; and that this report is true and complete to the best of my knowledge.",
        ("", ""),
        [
            ("Examiner", data.meta.get("examiner") or ""),
            ("Designation and agency", ""),
            ("Case reference", data.meta.get("case_ref") or ""),
            ("Place", ""),
            ("Date", ""),
            ("Signature", ""),
            ("Witnessed by (name, designation, signature)", ""),
        ],
    )
