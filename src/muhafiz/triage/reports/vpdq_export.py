"""The scan's video frame hashes as vPDQ files, one per video, for a hash bank (`muhafiz bank
build-dir`) or another vPDQ tool. Files are named by the video's SHA-256, never by its path."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

from muhafiz.banks.formats.vpdq import frame_line
from muhafiz.triage.reports.data import ReportData
from muhafiz.triage.scanfile import open_readonly


def write(data: ReportData, out: Path) -> None:
    """Write `<sha256>.vpdq` for each video with frame hashes into the folder `out`."""
    out.mkdir(parents=True, exist_ok=True)
    with closing(open_readonly(data.scan_path)) as conn:
        videos = conn.execute(
            "SELECT v.source_id, v.path, f.sha256 FROM videos v"
            " JOIN files f USING (source_id, path)"
            " WHERE v.frames_hashed > 0 AND f.sha256 IS NOT NULL ORDER BY f.sha256"
        ).fetchall()
        for source_id, path, sha256 in videos:
            target = out / f"{sha256}.vpdq"
            if target.exists():
                continue  # the same video twice in the scan
            frames = conn.execute(
                "SELECT frame, quality, pdq, seconds FROM video_frames"
                " WHERE source_id = ? AND path = ? AND pdq IS NOT NULL ORDER BY frame",
                (source_id, path),
            ).fetchall()
            with target.open("w", encoding="utf-8") as handle:
                for frame, quality, pdq, seconds in frames:
                    handle.write(frame_line(frame, quality, pdq, seconds))
