"""CSV: one row per file and match (a file without matches has one row with empty match fields).

Every row of a file inside a disk image or phone extraction (or of the image or extraction
itself) carries that image's acquisition-hash verdict (`acquisition_verification`: match,
mismatch, none-stored, not-verified) and that extraction's device (`extraction_device`: make,
model, IMEI, extraction type), for a source named on the command line and for one found inside
a folder alike: filtered to the matches, the sheet still says where each file came from and
whether the evidence it came from was verified."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from muhafiz.core import spreadsheet
from muhafiz.triage.reports.data import ReportData

HEADER = (
    "path", "size", "mime", "md5", "sha1", "sha256", "pdq", "pdq_quality", "match_bank",
    "match_kind", "match_distance", "error", "source_id", "kind", "parent", "ext_mismatch",
    "known_good", "match_bank_kind", "match_category", "match_note", "mtime", "atime", "ctime",
    "time_zone", "timestamps_reliable", "exif_make", "exif_model", "exif_software",
    "exif_datetime", "exif_offset", "gps_lat", "gps_lon", "duplicate_copies", "pdq_cluster",
    "device_path", "deleted", "created", "match_query_percent", "match_compared_percent",
    "match_frame_times", "carved", "carved_offset", "inode", "acquisition_verification",
    "extraction_device",
)  # fmt: skip


def write(data: ReportData, out: Path) -> None:
    with out.open("w", newline="", encoding="utf-8") as f:
        # File names are hostile input: the spreadsheet-safe writer keeps formulas from running.
        writer = spreadsheet.writer(f)
        writer.writerow(HEADER)
        seen: set[tuple[int, str]] = set()
        for file in data.iter_files():
            key = (file["source_id"], file["path"])
            seen.add(key)
            errors = "; ".join(
                f"{e['code']}: {e['message']}" for e in data.errors_by_file.get(key, [])
            )
            container = data.container_of(*key)
            base = {
                **file,
                "error": errors,
                "duplicate_copies": data.duplicates.get(file["sha256"] or "", ""),
                "pdq_cluster": data.clusters.get(key, ""),
                "acquisition_verification": container.verification if container else None,
                "extraction_device": container.device if container else None,
            }
            matches: list[dict[str, Any] | None] = list(data.matches_by_file.get(key, []))
            for match in matches or [None]:
                row = dict(base)
                if match is not None:
                    row.update(
                        match_bank=match["bank"],
                        match_kind=match["kind"],
                        match_distance=match["distance"],
                        match_bank_kind=match["bank_kind"],
                        match_category=match["category"],
                        match_note=match["note"],
                        match_query_percent=match["query_percent"],
                        match_compared_percent=match["compared_percent"],
                        match_frame_times=match["frame_times"],
                    )
                writer.writerow([row.get(column) for column in HEADER])
        # Problems with no file record of their own (an unreadable folder, a vanished entry).
        for key, orphan_errors in data.errors_by_file.items():
            if key not in seen:
                text = "; ".join(f"{e['code']}: {e['message']}" for e in orphan_errors)
                row = {"path": key[1], "source_id": key[0], "error": text}
                container = data.container_of(*key)
                if container is not None:
                    row["acquisition_verification"] = container.verification
                    row["extraction_device"] = container.device
                writer.writerow([row.get(column) for column in HEADER])
