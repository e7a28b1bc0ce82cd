"""Everything a report shows, read once from a scan file opened read-only."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from muhafiz.triage.scanfile import open_readonly

_SEPARATOR = re.compile("[!/]")
# Sources and nested sources that are a phone extraction: their device is named in every report.
PHONE_KINDS = frozenset({"ufdr", "ios-backup", "android-backup"})

# Summary rows are printed in this order, first thing in every human-readable report.
SETTINGS_LABELS = {
    "max_distance": "PDQ near-match distance (at most)",
    "min_quality": "PDQ minimum quality",
}


@dataclass(frozen=True, slots=True)
class Container:
    """A disk image or phone extraction the scan's files lie in: a source named on the command
    line (`path` None) or one found inside a folder source (`path`: the image file's or backup
    folder's path there). `verification` is the acquisition-hash verdict of a disk image (match,
    mismatch, none-stored, not-verified), `device` one line about a phone extraction's device."""

    source_id: int
    path: str | None
    kind: str
    verification: str | None
    device: str


@dataclass
class ReportData:
    scan_path: Path
    scan_sha256: str
    meta: dict[str, str]
    settings: dict[str, Any]
    environment: dict[str, str]
    sources: list[dict[str, Any]]
    banks: list[dict[str, Any]]
    totals: dict[str, int]
    matches: list[dict[str, Any]]  # one row per (file, match), known-bad and watch banks first
    by_type: list[dict[str, Any]]  # mime, files, bytes
    gps: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    custody: list[dict[str, Any]]
    image_hashes: list[dict[str, Any]] = field(default_factory=list)  # disk images' verification
    nested_images: list[dict[str, Any]] = field(default_factory=list)  # images inside folders
    matches_by_file: dict[tuple[int, str], list[dict[str, Any]]] = field(default_factory=dict)
    errors_by_file: dict[tuple[int, str], list[dict[str, Any]]] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)  # sha256 -> copies
    clusters: dict[tuple[int, str], int] = field(default_factory=dict)
    # Files whose name says one type and whose bytes another (every report names them).
    mismatched: list[dict[str, Any]] = field(default_factory=list)
    # Every disk image and phone extraction, sources first, then those inside folders.
    containers: list[Container] = field(default_factory=list)
    _index: dict[tuple[int, str | None], Container] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _holding: set[int] = field(default_factory=set, init=False, repr=False, compare=False)

    def container_of(self, source_id: int, path: str) -> Container | None:
        """The disk image or extraction a file of the scan is in (or is): the outermost one
        found inside the folder whose path is a prefix of the file's up to a `!` or `/` (or the
        whole path), else the source itself if it is one."""
        if not self.containers:
            return None
        if not self._index:
            self._index = {(c.source_id, c.path): c for c in self.containers}
            self._holding = {c.source_id for c in self.containers if c.path is not None}
        index = self._index
        if source_id in self._holding:
            for cut in [m.start() for m in _SEPARATOR.finditer(path)] + [len(path)]:
                found = index.get((source_id, path[:cut]))
                if found is not None:
                    return found
        return index.get((source_id, None))

    def iter_files(self) -> Iterator[dict[str, Any]]:
        """Every file row in path order, read lazily: a scan may hold millions."""
        with closing(open_readonly(self.scan_path)) as conn:
            for row in conn.execute("SELECT * FROM files ORDER BY source_id, path"):
                yield dict(row)

    @property
    def complete(self) -> bool:
        return self.meta.get("status") == "complete"


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_report_data(scan_path: Path) -> ReportData:
    with closing(open_readonly(scan_path)) as conn:
        return _load(conn, scan_path)


def _rows(conn: sqlite3.Connection, sql: str, *params: Any) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql, params)]


def _nested_images(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Disk images found inside folder sources (absent from scan files written before them)."""
    present = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'nested_images'"
    ).fetchone()
    if present is None:
        return []
    return _rows(conn, "SELECT * FROM nested_images ORDER BY source_id, path")


def _nested_hash_rows(nested: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A nested image's acquisition-hash rows, shaped as a source's (`image_hashes`)."""
    rows: list[dict[str, Any]] = []
    for image in nested:
        try:
            hashes = json.loads(image["hashes"])
        except ValueError:
            hashes = []
        where = f"{image['source_id']}: {image['path']}"
        if not image["verification"]:
            continue  # a phone extraction opened from an archive: no acquisition hash
        if not hashes:
            rows.append(
                {"source_id": where, "algorithm": "", "stored": "", "computed": "",
                 "result": image["verification"]}
            )  # fmt: skip
        for row in hashes if isinstance(hashes, list) else []:
            if isinstance(row, list) and len(row) == 4:
                algorithm, stored, computed, result = row
                rows.append(
                    {"source_id": where, "algorithm": algorithm, "stored": stored,
                     "computed": computed, "result": result}
                )  # fmt: skip
    return rows


def _details(source: dict[str, Any]) -> dict[str, Any]:
    try:
        details = json.loads(source.get("details") or "null")
    except ValueError:
        return {}
    return details if isinstance(details, dict) else {}


def _containers(
    sources: list[dict[str, Any]], nested_images: list[dict[str, Any]]
) -> list[Container]:
    """The disk images (with their verification) and phone extractions (with their device) of
    the scan: each source that is one, then each found inside a folder source."""
    out: list[Container] = []
    verdicts = {(i["source_id"], i["path"]): i["verification"] for i in nested_images}
    learned = {(i["source_id"], i["path"]): _details(i) for i in nested_images}
    for source in sources:
        sid, kind = source["source_id"], str(source.get("kind") or "")
        details = _details(source)
        device = device_summary(details) if kind in PHONE_KINDS else ""
        if source.get("verification") or device:
            out.append(Container(sid, None, kind, source.get("verification"), device))
        nested = details.get("nested_images")
        for path, inner in sorted(nested.items()) if isinstance(nested, dict) else ():
            if not isinstance(inner, dict):
                continue
            inner_kind = str(inner.get("kind") or "")
            device = device_summary(inner) if inner_kind in PHONE_KINDS else ""
            verdict = verdicts.pop((sid, path), None)
            if verdict or device:
                out.append(Container(sid, path, inner_kind, verdict, device))
    # Disk images and phone extractions opened from inside an archive (`triage.spool`): a
    # row each, with what the walk learned (an extraction's device; '' verdict: none to check).
    for (sid, path), verdict in verdicts.items():
        inner = learned.get((sid, path)) or {}
        device = device_summary(inner) if verdict == "" else ""
        kind = "phone-extraction" if verdict == "" else "disk-image"
        out.append(Container(sid, path, kind, verdict or None, device))
    return out


def _load(conn: sqlite3.Connection, scan_path: Path) -> ReportData:
    meta = {row["key"]: row["value"] for row in conn.execute("SELECT key, value FROM meta")}
    matches = _rows(
        conn,
        "SELECT m.*, f.size, f.mime, f.md5, f.sha1, f.sha256, f.pdq, f.pdq_quality,"
        " f.device_path, f.deleted, f.carved, f.carved_offset"
        " FROM matches m JOIN files f USING (source_id, path)"
        " ORDER BY m.bank_kind = 'known-good', m.source_id, m.path, m.bank, m.kind, m.distance,"
        " m.entry_line",
    )
    errors = _rows(conn, "SELECT * FROM errors ORDER BY source_id, path, code")
    matches_by_file: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for m in matches:
        matches_by_file.setdefault((m["source_id"], m["path"]), []).append(m)
    errors_by_file: dict[tuple[int, str], list[dict[str, Any]]] = {}
    for e in errors:
        errors_by_file.setdefault((e["source_id"], e["path"]), []).append(e)
    duplicates = {
        row["sha256"]: row["copies"] for row in conn.execute("SELECT * FROM duplicate_groups")
    }
    clusters = {
        (row["source_id"], row["path"]): row["cluster"]
        for row in conn.execute("SELECT * FROM pdq_clusters")
    }
    bad_files = {(m["source_id"], m["path"]) for m in matches if m["bank_kind"] != "known-good"}
    exact_bad = {
        (m["source_id"], m["path"])
        for m in matches
        if m["bank_kind"] != "known-good" and m["kind"] != "pdq"
    }
    counts = conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(size), 0), COUNT(parent),"
        " SUM(mime LIKE 'image/%'), COUNT(pdq), SUM(known_good), SUM(ext_mismatch) FROM files"
    ).fetchone()
    totals = {
        "files": int(counts[0]),
        "bytes": int(counts[1]),
        "in_archives": int(counts[2]),
        "images": int(counts[3] or 0),
        "pdq_hashed": int(counts[4]),
        "matched_files": len(bad_files),
        "exact_matched_files": len(exact_bad),
        "near_only_files": len(bad_files - exact_bad),
        "known_good_files": int(counts[5] or 0),
        "errors": sum(1 for e in errors if e["severity"] == "error"),
        "warnings": sum(1 for e in errors if e["severity"] == "warning"),
        "duplicate_groups": len(duplicates),
        "duplicate_files": sum(duplicates.values()),
        "near_duplicate_clusters": len(set(clusters.values())),
        "ext_mismatch": int(counts[6] or 0),
        "videos": int(conn.execute("SELECT COUNT(*) FROM videos").fetchone()[0]),
        "video_frames": int(conn.execute("SELECT COUNT(*) FROM video_frames").fetchone()[0]),
        "deleted": int(conn.execute("SELECT COUNT(*) FROM files WHERE deleted = 1").fetchone()[0]),
        "carved": int(conn.execute("SELECT COUNT(*) FROM files WHERE carved = 1").fetchone()[0]),
    }
    by_type = _rows(
        conn,
        "SELECT COALESCE(mime, 'unknown') AS mime, COUNT(*) AS files,"
        " COALESCE(SUM(size), 0) AS bytes FROM files GROUP BY 1 ORDER BY 2 DESC, 1",
    )
    gps = _rows(
        conn,
        "SELECT source_id, path, gps_lat, gps_lon, exif_datetime, exif_offset, exif_make,"
        " exif_model FROM files WHERE gps_lat IS NOT NULL ORDER BY source_id, path",
    )
    nested_images = _nested_images(conn)
    sources = _rows(conn, "SELECT * FROM sources ORDER BY source_id")
    return ReportData(
        scan_path=scan_path,
        scan_sha256=_sha256_of(scan_path),
        meta=meta,
        settings=json.loads(meta.get("settings", "{}")),
        environment=json.loads(meta.get("environment", "{}")),
        sources=sources,
        banks=_rows(conn, "SELECT * FROM banks ORDER BY name"),
        totals=totals,
        matches=matches,
        by_type=by_type,
        gps=gps,
        errors=errors,
        custody=_rows(conn, "SELECT * FROM custody ORDER BY seq"),
        image_hashes=_rows(conn, "SELECT * FROM image_hashes ORDER BY source_id, algorithm")
        + _nested_hash_rows(nested_images),
        nested_images=nested_images,
        matches_by_file=matches_by_file,
        errors_by_file=errors_by_file,
        duplicates=duplicates,
        clusters=clusters,
        mismatched=_rows(
            conn,
            "SELECT source_id, path, mime, size, sha256 FROM files WHERE ext_mismatch = 1"
            " ORDER BY source_id, path",
        ),
        containers=_containers(sources, nested_images),
    )


KARACHI = ZoneInfo("Asia/Karachi")


def karachi_time(value: str) -> str:
    """A recorded UTC time as the clock in Pakistan read it (PKT, UTC+5), for courts reading
    local times; text that is not a time is given back as it is."""
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return value or ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(KARACHI).strftime("%Y-%m-%d %H:%M:%S PKT (UTC+05:00)")


def summary_lines(data: ReportData) -> list[tuple[str, str]]:
    """The summary every human-readable report opens with, as (label, value) pairs."""
    t = data.totals
    meta = data.meta
    lines = [
        ("Case reference", meta.get("case_ref") or "(none given)"),
        ("Examiner", meta.get("examiner") or "(none given)"),
        ("Scan status", "complete" if data.complete else f"NOT COMPLETE ({meta.get('status')})"),
        ("Started (UTC)", meta.get("started_at", "")),
        ("Started (Pakistan, Asia/Karachi)", karachi_time(meta.get("started_at", ""))),
        ("Finished (UTC)", meta.get("finished_at", "(not finished)")),
        ("Finished (Pakistan, Asia/Karachi)", karachi_time(meta.get("finished_at", ""))),
        (
            "Files examined",
            f"{t['files']:,} ({t['bytes']:,} bytes; {t['in_archives']:,} inside archives)",
        ),
        ("Files matching known-bad or watch banks", f"{t['matched_files']:,}"),
        ("  of which exact (MD5/SHA-1/SHA-256)", f"{t['exact_matched_files']:,}"),
        ("  of which near (PDQ) only", f"{t['near_only_files']:,}"),
        ("Known-good files set aside", f"{t['known_good_files']:,}"),
        ("Images hashed with PDQ", f"{t['pdq_hashed']:,} of {t['images']:,} images"),
        (
            "Duplicate groups (same SHA-256)",
            f"{t['duplicate_groups']:,} groups, {t['duplicate_files']:,} files",
        ),
        ("Near-duplicate clusters (PDQ)", f"{t['near_duplicate_clusters']:,}"),
        ("Extension does not match content", f"{t['ext_mismatch']:,}"),
        ("Errors / warnings recorded", f"{t['errors']:,} / {t['warnings']:,}"),
        ("Scan file", f"{data.scan_path.name}, SHA-256 {data.scan_sha256}"),
        ("Tool", f"{meta.get('tool', 'muhafiz')} {meta.get('tool_version', '')}"),
    ]  # fmt: skip
    mounts = json.loads(meta.get("source_mounts", "{}"))
    # A disk image that no longer matches its acquisition hash heads the report, not a footnote.
    lines[0:0] = [
        (
            "EVIDENCE INTEGRITY",
            f"SOURCE {source['source_id']} DOES NOT MATCH ITS ACQUISITION HASH: the image read "
            "now differs from what was acquired (damaged or altered); see 'Disk images'",
        )
        for source in data.sources
        if source.get("verification") == "mismatch"
    ] + [
        (
            "EVIDENCE INTEGRITY",
            f"THE DISK IMAGE {image['path']} (SOURCE {image['source_id']}) DOES NOT MATCH ITS "
            "ACQUISITION HASH: the image read now differs from what was acquired (damaged or "
            "altered); see 'Disk images'",
        )
        for image in data.nested_images
        if image.get("verification") == "mismatch"
    ]
    if t.get("deleted"):
        lines.append(("Deleted files (still listed by a file system)", f"{t['deleted']:,}"))
    if t.get("carved"):
        lines.append(("Pictures carved from unallocated space", f"{t['carved']:,}"))
    nested = [c for c in data.containers if c.path is not None]
    for source in data.sources:
        sid = source["source_id"]
        digest = f", SHA-256 {source['sha256']}" if source.get("sha256") else ""
        lines.append((f"Source {sid}", f"{source['description']}{digest}"))
        lines.append(("  mounted", _mount_text(mounts.get(str(sid)))))
        device = device_summary(source.get("details"))
        if device:
            lines.append((f"Source {sid} device", device))
        if source.get("verification"):
            lines.append(
                (
                    f"Source {sid} acquisition hashes",
                    VERIFICATION_TEXT.get(source["verification"], source["verification"]),
                )
            )
        # Disk images and phone extractions found inside the folder, each with its own lines.
        for container in (c for c in nested if c.source_id == sid):
            if container.device:
                lines.append((f"Source {sid}: {container.path} device", container.device))
            if container.verification:
                lines.append(
                    (
                        f"Source {sid}: {container.path} acquisition hashes",
                        VERIFICATION_TEXT.get(container.verification, container.verification),
                    )
                )
    if t.get("videos"):
        lines.append(
            (
                "Videos sampled (vPDQ, one frame a second)",
                f"{t['videos']:,} ({t['video_frames']:,} frames)",
            )
        )
    return lines


VERIFICATION_TEXT = {
    "match": "MATCH: the media read in this scan has the hashes stored when it was acquired",
    "mismatch": "MISMATCH: the media differs from what was acquired (damaged or altered)",
    "none-stored": "none stored in the image: nothing to verify (its SHA-256 is recorded)",
    "not-verified": "NOT VERIFIED: the media could not be read to the end",
}


def volume_rows(data: ReportData) -> list[tuple[str, ...]]:
    """Each disk image's partitions and file systems as the scan found them."""
    rows: list[tuple[str, ...]] = []
    for source in data.sources:
        try:
            details = json.loads(source.get("details") or "null")
        except ValueError:
            continue
        if not isinstance(details, dict):
            continue
        nested = details.get("nested_images")
        if isinstance(nested, dict):
            for path, image in sorted(nested.items()):
                if isinstance(image, dict):
                    rows.extend(_volume_rows(f"{source['source_id']}: {path}", image))
        rows.extend(_volume_rows(str(source["source_id"]), details))
    for image in data.nested_images:  # opened from inside an archive: what its walk learned
        if image.get("verification"):
            where = f"{image['source_id']}: {image['path']}"
            rows.extend(_volume_rows(where, _details(image)))
    return rows


def _volume_rows(where: str, details: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    if isinstance(details.get("volumes"), list):
        scheme = str(details.get("partition_table") or "")
        for volume in details["volumes"]:
            if not isinstance(volume, dict):
                continue
            file_system = str(volume.get("file_system") or volume.get("description") or "")
            inner = volume.get("apfs_volumes")
            if isinstance(inner, list) and inner:  # an APFS container's volumes, by name
                names = ", ".join(
                    f"{v.get('volume', '')} {v.get('name', '')!r} {v.get('status', '')}"
                    for v in inner
                    if isinstance(v, dict)
                )
                file_system += f" ({names})"
            rows.append(
                (
                    where,
                    f"{volume.get('name', '')} ({scheme})" if scheme else str(volume.get("name")),
                    f"{volume.get('start', 0):,}",
                    f"{volume.get('length', 0):,}",
                    file_system,
                    str(volume.get("status") or "carved only"),
                    f"{volume['files']:,}" if "files" in volume else "",
                    f"{volume['deleted']:,}" if "deleted" in volume else "",
                )
            )
    return rows


def _mount_text(mount: dict[str, Any] | None) -> str:
    if mount is None:
        return "not recorded (scan file from an older version)"
    where = f" ({mount['mount_point']})" if mount.get("mount_point") else ""
    if mount.get("read_only") is None:
        return f"unknown{where}"
    if mount["read_only"]:
        return f"read-only{where}"
    return f"READ-WRITE{where}: the examiner was warned to mount the evidence read-only"


DEVICE_FIELDS = (
    ("make", ""), ("model", ""), ("device_name", "name "), ("imei", "IMEI "),
    ("serial", "serial "), ("ios_version", "iOS "), ("extraction_type", "extraction "),
    ("backup_version", "backup version "), ("encryption", "encryption "),
)  # fmt: skip


def device_summary(details: str | dict[str, Any] | None) -> str:
    """One line about the seized device from a source's details (phones; JSON text or as
    read), or ''."""
    if isinstance(details, str):
        try:
            details = json.loads(details)
        except ValueError:
            return ""
    if not isinstance(details, dict):
        return ""
    parts = [str(details["format"])] if details.get("format") else []
    parts += [f"{label}{details[key]}" for key, label in DEVICE_FIELDS if details.get(key)]
    if details.get("encrypted") is True:
        if details.get("decrypted") is True:
            parts.append("encrypted backup, decrypted with the password given")
        elif details.get("password_rejected") is True:
            parts.append(
                "ENCRYPTED: the password given does not unlock it (its files are not read)"
            )
        else:
            parts.append("ENCRYPTED: needs the backup password")
    return "; ".join(parts)
