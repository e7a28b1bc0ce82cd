"""Reports: CSV columns, VICS 2.0 shape, HTML and PDF sections, never an image, scan untouched."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from pathlib import Path

import pytest

from muhafiz.triage.reports import FORMATS, write_report
from muhafiz.triage.tests.conftest import Scanner, ScanResult
from muhafiz.triage.tests.media import gps_exif, jpeg_bytes, scene, write

REQUIRED_CSV = (
    "path,size,mime,md5,sha1,sha256,pdq,pdq_quality,match_bank,match_kind,match_distance,error"
)


@pytest.fixture
def scanned(tmp_path: Path, scan: Scanner) -> ScanResult:
    src = tmp_path / "phone"
    photo = jpeg_bytes(scene(1), exif=gps_exif(31.5204, 74.3587))
    write(src / "DCIM" / "p1.jpg", photo)
    write(src / "DCIM" / "p2.jpg", jpeg_bytes(scene(2)))
    write(src / "=cmd|' /C calc'!A0.txt", b"hostile name")
    write(src / "bad.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100)
    write(src / "اردو.txt", "نام".encode())
    bank = write(
        tmp_path / "bad.md5",
        f"{hashlib.md5(photo, usedforsecurity=False).hexdigest()}  p1\n".encode(),
    )
    return scan(src, banks=[bank])


def test_every_format_leaves_the_scan_file_unchanged(tmp_path: Path, scanned: ScanResult) -> None:
    before = scanned.path.read_bytes()
    for fmt in FORMATS:
        write_report(scanned.path, fmt, tmp_path / f"report.{fmt}")
        assert (tmp_path / f"report.{fmt}").stat().st_size > 0
    assert scanned.path.read_bytes() == before


def test_csv_has_the_required_columns_one_row_per_match_and_errors(
    tmp_path: Path, scanned: ScanResult
) -> None:
    out = tmp_path / "r.csv"
    write_report(scanned.path, "csv", out)
    text = out.read_text(encoding="utf-8")
    assert text.startswith(REQUIRED_CSV + ",")
    rows = {row["path"]: row for row in csv.DictReader(text.splitlines())}
    assert rows["phone/DCIM/p1.jpg"]["match_bank"] == "bad"
    assert rows["phone/DCIM/p1.jpg"]["match_kind"] == "md5"
    assert rows["phone/DCIM/p1.jpg"]["match_distance"] == "0"
    assert rows["phone/DCIM/p2.jpg"]["match_bank"] == ""
    assert rows["phone/bad.png"]["error"].startswith("corrupt-image")
    assert "phone/اردو.txt" in rows
    # A file name must not become a spreadsheet formula.
    assert not any(p.startswith("=") for p in rows)


def test_vics_export_is_a_2_0_case_with_media_files(tmp_path: Path, scanned: ScanResult) -> None:
    out = tmp_path / "r.json"
    write_report(scanned.path, "vics", out)
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["@odata.context"].endswith("/2.0.xml/US/$metadata#Cases")
    case = doc["value"][0]
    assert case["CaseNumber"] == "TEST-1"
    assert case["SourceApplicationName"] == "Muhafiz"
    media = {m["RelativeFilePath"]: m for m in case["Media"]}
    p1 = media["phone/DCIM/p1.jpg"]
    assert p1["IsSuspected"] is True
    assert re.fullmatch(r"[0-9A-F]{32}", p1["MD5"])
    assert {"HashName": "PDQ", "HashValue": scanned.files["phone/DCIM/p1.jpg"]["pdq"]} in p1[
        "AlternativeHashes"
    ]
    assert p1["MediaFiles"][0]["FileName"] == "p1.jpg"
    assert media["phone/DCIM/p2.jpg"]["IsSuspected"] is False


def test_html_report_has_summary_first_every_section_and_no_image(
    tmp_path: Path, scanned: ScanResult
) -> None:
    out = tmp_path / "r.html"
    write_report(scanned.path, "html", out)
    html = out.read_text(encoding="utf-8")
    titles = re.findall(r"<h2>(.*?)</h2>", html)
    assert titles == [
        "Summary",
        "Matches",
        "Extension does not match content",
        "Video matches",
        "Statistics by type",
        "EXIF locations",
        "Errors and warnings",
        "Custody log",
        "Tool version and settings",
        "Examiner&#x27;s declaration",
    ]
    assert "31.520" in html and "74.358" in html
    assert "TEST-1" in html and "Test Examiner" in html
    assert "<img" not in html and "<script" not in html and "data:image" not in html
    assert "phone/bad.png" in html and "corrupt-image" in html


def test_pdf_report_is_a_pdf_without_any_image(tmp_path: Path, scanned: ScanResult) -> None:
    out = tmp_path / "r.pdf"
    write_report(scanned.path, "pdf", out)
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert b"/Subtype /Image" not in data
    assert b"/Type /Page" in data


def test_every_report_names_a_renamed_picture_gives_pakistan_time_and_a_declaration(
    tmp_path: Path, scan: Scanner
) -> None:
    src = tmp_path / "usb"
    write(src / "holiday.jpg", jpeg_bytes(scene(5)))
    write(src / "tax-return-2025-final-version.txt", jpeg_bytes(scene(6)))  # a picture, renamed
    scanned = scan(src)
    html_out, csv_out, pdf_out = tmp_path / "r.html", tmp_path / "r.csv", tmp_path / "r.pdf"
    for fmt, out in (("html", html_out), ("csv", csv_out), ("pdf", pdf_out)):
        write_report(scanned.path, fmt, out)
    html = html_out.read_text(encoding="utf-8")
    section = html.split('id="extension-does-not-match-content"')[1].split("</section>")[0]
    assert "tax-return-2025-final-version.txt" in section and "holiday.jpg" not in section
    assert "image/jpeg" in section
    # Words in columns are not broken mid-word; only an unbroken run longer than the column is.
    assert "break-all" not in html and "overflow-wrap: break-word" in html
    assert "PKT (UTC+05:00)" in html and "Asia/Karachi" in html
    declaration = html.split('id="examiner-s-declaration"')[1].split("</section>")[0]
    assert "I declare that I examined" in declaration and "Signature" in declaration
    rows = {r["path"]: r for r in csv.DictReader(csv_out.open(encoding="utf-8-sig"))}
    flagged = {path.rsplit("/", 1)[-1] for path, r in rows.items() if r["ext_mismatch"] == "1"}
    assert flagged == {"tax-return-2025-final-version.txt"}
    assert pdf_out.read_bytes().startswith(b"%PDF-")


def test_karachi_time_is_five_hours_ahead_and_leaves_other_text_alone() -> None:
    from muhafiz.triage.reports.data import karachi_time

    assert karachi_time("2026-12-07T21:30:00+00:00") == "2026-12-08 02:30:00 PKT (UTC+05:00)"
    assert karachi_time("2026-12-07T21:30:00Z").startswith("2026-12-08 02:30:00")
    assert karachi_time("(not finished)") == "(not finished)"
    assert karachi_time("") == ""
