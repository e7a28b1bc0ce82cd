"""Scan files of seized devices on the server: a disk image's partition paths, deleted and carved
files, and a video matched by vPDQ, shown on the scan page and given by the API."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from muhafiz.banks.cli import bank
from muhafiz.cases.models import Case
from muhafiz.evidence import actions
from muhafiz.evidence.models import MediaFile
from muhafiz.evidence.tests.conftest import upload_of
from muhafiz.testing import People, signed_in
from muhafiz.triage.engine import ScanOptions, start_scan
from muhafiz.triage.reports import write_report
from muhafiz.triage.tests import diskimages as di
from muhafiz.triage.tests.media import moving_frames, video_bytes, write

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(bool(di.missing_tools()), reason=f"tools missing: {di.missing_tools()}"),
]


def _scan(sources: list[Path], out: Path, banks: list[Path] | None = None) -> Path:
    start_scan(ScanOptions(sources=sources, out=out, examiner="test examiner", banks=banks or []))
    return out


def test_scan_page_shows_partition_paths_deleted_and_carved_files_and_video_matches(
    people: People, lahore_case: Case, tmp_path: Path
) -> None:
    disk = di.sample_disk(tmp_path / "disk")
    known = write(
        tmp_path / "known" / "clip.mp4", video_bytes(moving_frames(seed=3, seconds=6), fps=10)
    )
    first = _scan([known.parent], tmp_path / "known.scan")
    write_report(first, "vpdq", tmp_path / "vpdq")
    [vpdq] = sorted((tmp_path / "vpdq").iterdir())
    built = CliRunner().invoke(
        bank, ["build-dir", str(tmp_path / "bank"), str(vpdq), "--name", "known videos",
               "--kind", "known-bad"],
    )  # fmt: skip
    assert built.exit_code == 0, built.output
    phone = tmp_path / "phone"
    write(phone / "DCIM" / "copy.mp4", known.read_bytes())
    scan_file = _scan([disk.raw, phone], tmp_path / "seized.scan", [tmp_path / "bank"])

    scan = actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(scan_file)
    )
    media = {m.path: m for m in MediaFile.objects.filter(scan=scan)}
    gone = next(
        m for p, m in media.items() if p.startswith("disk.raw!p1/") and p.endswith("one.jpg")
    )
    assert gone.deleted
    carved = [m for m in media.values() if m.carved_offset == disk.carved_jpeg_offset]
    assert len(carved) == 1 and not carved[0].deleted
    assert not media["disk.raw!p2/notes.txt"].deleted
    [match] = media["phone/DCIM/copy.mp4"].matches.all()
    assert match.kind == "vpdq" and match.query_percent == 100.0
    assert match.frame_times.startswith("0.000,")

    client = signed_in(people.lahore_investigator)
    page = client.get(f"/evidence/scans/{scan.pk}/?only=deleted").content.decode()
    assert "disk.raw!p1/" in page and "one.jpg" in page
    assert f"carved at byte {disk.carved_jpeg_offset}" in page
    assert "notes.txt" not in page  # a live file: not in the deleted-or-carved list
    assert re.search(r'badge--warn">deleted<', page)
    page = client.get(f"/evidence/scans/{scan.pk}/?only=matched").content.decode()
    assert "phone/DCIM/copy.mp4" in page
    assert "100% of this video matched, 100% of the known one" in page
    assert "at 0.000, 1.000" in page

    client.cookies.load({"django_language": "ur"})
    urdu = client.get(f"/evidence/scans/{scan.pk}/?only=matched", HTTP_ACCEPT_LANGUAGE="ur")
    assert "اس ویڈیو کا 100% میل کھا گیا" in urdu.content.decode()

    api = client.get(f"/api/v1/evidence/scans/{scan.pk}/media?only=deleted").json()
    assert any(row["deleted"] for row in api)
    assert any(row["carved_offset"] == disk.carved_jpeg_offset for row in api)
    video = client.get(f"/api/v1/evidence/scans/{scan.pk}/media?only=matched").json()
    [row] = [r for r in video if r["path"] == "phone/DCIM/copy.mp4"]
    assert row["matches"][0]["query_percent"] == 100.0
