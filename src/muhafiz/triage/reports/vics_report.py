"""VICS 2.0 case export (Project VIC JSON, OData style): media de-duplicated by MD5."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from muhafiz.triage.reports.data import ReportData

CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"


EXIF_PROPERTIES = (
    ("Make", "exif_make"),
    ("Model", "exif_model"),
    ("Software", "exif_software"),
    ("DateTimeOriginal", "exif_datetime"),
    ("OffsetTimeOriginal", "exif_offset"),
    ("GPSLatitude", "gps_lat"),
    ("GPSLongitude", "gps_lon"),
)


EXIF_PROPERTIES = (
    ("Make", "exif_make"),
    ("Model", "exif_model"),
    ("Software", "exif_software"),
    ("DateTimeOriginal", "exif_datetime"),
    ("OffsetTimeOriginal", "exif_offset"),
    ("GPSLatitude", "gps_lat"),
    ("GPSLongitude", "gps_lon"),
)


def _media_wanted(file: dict[str, Any], matched: bool) -> bool:
    mime = file["mime"] or ""
    return file["md5"] is not None and (matched or mime.startswith(("image/", "video/")))


def _match_comment(m: dict[str, Any]) -> str:
    if m["kind"] == "vpdq":
        return (
            f"vpdq match in bank {m['bank']}: video {m['entry_hash']}, query "
            f"{m['query_percent']:.1f} %, compared {m['compared_percent']:.1f} %, at "
            f"{_first_times(m['frame_times'])} s"
        )
    if m["kind"] == "pdq-frame":
        return (
            f"known picture seen as a frame, bank {m['bank']} (distance {m['distance']}), at "
            f"{_first_times(m['frame_times'])} s"
        )
    return f"{m['kind']} match in bank {m['bank']} (distance {m['distance']})"


def _first_times(text: str | None, limit: int = 20) -> str:
    times = (text or "").split(",")
    return ",".join(times[:limit]) + (",…" if len(times) > limit else "")


def build(data: ReportData) -> dict[str, Any]:
    media: dict[str, dict[str, Any]] = {}
    for file in data.iter_files():
        key = (file["source_id"], file["path"])
        matches = [m for m in data.matches_by_file.get(key, []) if m["bank_kind"] != "known-good"]
        if not _media_wanted(file, bool(matches)):
            continue
        item = media.get(file["md5"])
        if item is None:
            alternatives = [{"HashName": "SHA256", "HashValue": file["sha256"]}]
            if file["pdq"]:
                alternatives.append({"HashName": "PDQ", "HashValue": file["pdq"]})
            exifs = [
                {"PropertyName": name, "PropertyValue": str(file[column])}
                for name, column in EXIF_PROPERTIES
                if file[column] is not None
            ]
            item = {
                "MediaID": len(media) + 1,
                "Category": None,
                "MD5": file["md5"].upper(),
                "SHA1": file["sha1"].upper(),
                "MediaSize": file["size"],
                "RelativeFilePath": file["path"],
                "MimeType": file["mime"],
                "IsSuspected": False,
                "AlternativeHashes": alternatives,
                "Exifs": exifs,
                "Comments": None,
                "MediaFiles": [],
            }
            media[file["md5"]] = item
        if matches:
            item["IsSuspected"] = True
            categories = [m["category"] for m in matches if m["category"] is not None]
            if categories and item["Category"] is None:
                item["Category"] = min(categories)
            item["Comments"] = "; ".join(sorted({_match_comment(m) for m in matches}))
        name = file["path"].rsplit("/", 1)[-1].rsplit("!", 1)[-1]
        item["MediaFiles"].append(
            {
                "MD5": file["md5"].upper(),
                "FileName": name,
                "FilePath": file["device_path"] or file["path"],
                "Created": file["created"],
                "Written": file["mtime"],
                "Accessed": file["atime"],
                "Deleted": bool(file["deleted"]),
                "Unallocated": bool(file["carved"]),
            }
        )
    meta = data.meta
    return {
        "@odata.context": CONTEXT,
        "value": [
            {
                "CaseID": 1,
                "CaseNumber": meta.get("case_ref") or "",
                "SourceApplicationName": "Muhafiz",
                "SourceApplicationVersion": meta.get("tool_version", ""),
                "Media": list(media.values()),
            }
        ],
    }


def write(data: ReportData, out: Path) -> None:
    out.write_text(json.dumps(build(data), indent=1, ensure_ascii=False), encoding="utf-8")
