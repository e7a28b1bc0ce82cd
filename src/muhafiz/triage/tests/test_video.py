"""Videos: vPDQ frame hashes, whole-video and known-picture matches, damage, and the round trip
through vPDQ files and bank directories. Videos are encoded in the test from generated frames."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from muhafiz.banks.cli import bank
from muhafiz.banks.match import Matcher
from muhafiz.triage.imaging import pdq_of_pixels, pdq_of_rgb, reduced_for_pdq
from muhafiz.triage.records import FileRecord
from muhafiz.triage.reports import write_report
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.tests.conftest import Scanner
from muhafiz.triage.tests.media import moving_frames, scene, video_bytes, write
from muhafiz.triage.video import analyze_video


def _frames(scan_path: Path, path: str) -> list[tuple[int, float, int, str]]:
    with sqlite3.connect(scan_path) as conn:
        return conn.execute(
            "SELECT frame, seconds, quality, pdq FROM video_frames WHERE path = ? ORDER BY frame",
            (path,),
        ).fetchall()


@pytest.fixture
def known_video(tmp_path: Path) -> bytes:
    return video_bytes(moving_frames(seed=1, seconds=8), fps=10, container="mp4")


def test_one_frame_hash_per_second_with_the_container_facts(tmp_path: Path, scan: Scanner) -> None:
    data = video_bytes(
        moving_frames(seed=2, seconds=5),
        fps=10,
        metadata={"creation_time": "2024-05-01T10:00:00Z", "location": "+31.5204+074.3587/"},
    )
    src = tmp_path / "phone"
    write(src / "DCIM" / "clip.mp4", data)
    result = scan(src)
    row = result.files["phone/DCIM/clip.mp4"]
    assert row["mime"] == "video/mp4"
    assert (row["width"], row["height"]) == (320, 240)
    assert (row["gps_lat"], row["gps_lon"]) == (31.5204, 74.3587)
    frames = _frames(result.path, "phone/DCIM/clip.mp4")
    assert [round(seconds) for _, seconds, _, _ in frames] == [0, 1, 2, 3, 4]
    assert all(quality >= 50 and len(pdq) == 64 for _, _, quality, pdq in frames)
    with sqlite3.connect(result.path) as conn:
        video = conn.execute("SELECT * FROM videos").fetchone()
    assert video[2:] == ("mov,mp4,m4a,3gp,3g2,mj2", "h264", 5.0, 10.0, video[6], video[7], 5)
    assert video[6].startswith("2024-05-01T10:00:00")
    assert video[7] == "+31.5204+074.3587/"


def test_a_re_encoded_copy_of_a_known_video_is_matched_and_an_unrelated_one_is_not(
    tmp_path: Path, scan: Scanner, known_video: bytes
) -> None:
    # The known video is scanned once; its frame hashes, exported as vPDQ, become a bank.
    original = write(tmp_path / "original" / "known.mp4", known_video)
    first = scan(original.parent)
    write_report(first.path, "vpdq", tmp_path / "vpdq")
    [vpdq_file] = sorted((tmp_path / "vpdq").iterdir())
    assert vpdq_file.name == f"{first.files['original/known.mp4']['sha256']}.vpdq"
    result = CliRunner().invoke(
        bank, ["build-dir", str(tmp_path / "bank"), str(vpdq_file), "--name", "videos",
               "--kind", "known-bad"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output

    # Another bitrate, resolution and container; and an unrelated clip.
    seized = tmp_path / "seized"
    frames = moving_frames(seed=1, seconds=8)
    write(
        seized / "copy.webm",
        video_bytes(
            frames, fps=10, container="webm", codec="libvpx-vp9", size=(240, 180), bit_rate=150_000
        ),
    )
    doubled = [frame for frame in frames for _ in range(2)]  # 20 frames a second, same timing
    write(seized / "copy.avi", video_bytes(doubled, fps=20, container="avi", codec="mpeg4"))
    write(seized / "other.mp4", video_bytes(moving_frames(seed=9, seconds=8), fps=10))
    found = scan(seized, banks=[tmp_path / "bank"])
    matched = {(m["path"], m["kind"]) for m in found.matches}
    assert matched == {("seized/copy.webm", "vpdq"), ("seized/copy.avi", "vpdq")}
    webm = next(m for m in found.matches if m["path"] == "seized/copy.webm")
    assert webm["query_percent"] >= 80 and webm["compared_percent"] >= 80
    assert webm["entry_hash"] == vpdq_file.name.removesuffix(".vpdq")
    assert webm["frame_times"].split(",")[0] == "0.000"


def test_a_known_picture_seen_as_frames_of_a_video_is_matched_with_its_time_stamps(
    tmp_path: Path, scan: Scanner
) -> None:
    picture = scene(77, (320, 240))
    known = pdq_of_pixels(reduced_for_pdq(picture, 256))
    bank_file = write(tmp_path / "pictures.pdq", f"{known.hex},{known.quality}\n".encode())
    frames = moving_frames(seed=3, seconds=3) + [picture] * 20 + moving_frames(seed=4, seconds=3)
    write(tmp_path / "seized" / "mixed.mkv", video_bytes(frames, fps=10, container="matroska"))
    found = scan(tmp_path / "seized", banks=[bank_file])
    [match] = found.matches
    assert (match["path"], match["kind"], match["bank"]) == (
        "seized/mixed.mkv",
        "pdq-frame",
        "pictures",
    )
    assert match["frame_times"] == "3.000,4.000"
    assert match["distance"] <= 31


def test_a_truncated_video_keeps_the_frames_before_the_damage(tmp_path: Path) -> None:
    data = video_bytes(moving_frames(seed=5, seconds=6), fps=10, container="matroska")
    record = FileRecord(1, "cut.mkv", None, 0)
    analyze_video(io.BytesIO(data[: len(data) // 2]), record, ScanSettings())
    assert record.video is not None
    assert 1 <= len(record.video.frames) < 6
    assert [issue.code for issue in record.issues] == ["corrupt-video"]


def test_garbage_with_a_video_signature_is_an_error_not_a_crash(
    tmp_path: Path, scan: Scanner
) -> None:
    write(tmp_path / "src" / "fake.mp4", b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 8)
    result = scan(tmp_path / "src")
    assert result.codes("src/fake.mp4") == ["corrupt-video"]
    assert result.files["src/fake.mp4"]["sha256"] is not None


def test_a_video_inside_an_archive_is_sampled_from_memory(tmp_path: Path, scan: Scanner) -> None:
    import zipfile

    data = video_bytes(moving_frames(seed=6, seconds=3), fps=10)
    with zipfile.ZipFile(tmp_path / "phone.zip", "w") as archive:
        archive.writestr("sdcard/DCIM/Camera/VID_1.mp4", data)
    result = scan(tmp_path / "phone.zip")
    assert len(_frames(result.path, "phone.zip!/sdcard/DCIM/Camera/VID_1.mp4")) == 3


def test_bank_vpdq_export_gives_back_the_files_it_was_built_from(
    tmp_path: Path, scan: Scanner, known_video: bytes
) -> None:
    write(tmp_path / "src" / "known.mp4", known_video)
    first = scan(tmp_path / "src")
    write_report(first.path, "vpdq", tmp_path / "vpdq")
    [vpdq_file] = list((tmp_path / "vpdq").iterdir())
    runner = CliRunner()
    built = runner.invoke(
        bank,
        ["build-dir", str(tmp_path / "bank"), str(vpdq_file), "--name", "v", "--kind", "watch"],
    )
    assert built.exit_code == 0, built.output
    exported = runner.invoke(
        bank,
        ["export-dir", str(tmp_path / "bank"), "--format", "vpdq", "--out", str(tmp_path / "out")],
    )
    assert exported.exit_code == 0, exported.output
    [again] = list((tmp_path / "out").iterdir())
    assert again.name == vpdq_file.name
    assert again.read_text() == vpdq_file.read_text()
    frames = [(line.split(",")[2], int(line.split(",")[1])) for line in again.read_text().split()]
    [match] = Matcher.from_paths([again]).match_pdq_batch([frames[0][0]])
    assert match[0].entry.note == "frame 0 at 0.000 s"


def test_reports_show_video_matches_with_times_and_device_paths_never_a_frame(
    tmp_path: Path, scan: Scanner, known_video: bytes
) -> None:
    import csv
    import json

    from muhafiz.triage.tests.phone import PhoneFile, make_ufdr

    write(tmp_path / "src" / "known.mp4", known_video)
    first = scan(tmp_path / "src")
    write_report(first.path, "vpdq", tmp_path / "vpdq")
    [vpdq_file] = list((tmp_path / "vpdq").iterdir())
    copy = video_bytes(moving_frames(seed=1, seconds=8), fps=10, container="matroska")
    ufdr = make_ufdr(
        tmp_path / "phone.ufdr",
        [PhoneFile("/Root/WhatsApp/Media/WhatsApp Video/VID-1.mkv", copy, deleted=True)],
    )
    found = scan(ufdr, banks=[vpdq_file])
    [match] = found.matches
    assert match["kind"] == "vpdq"
    device = "Android Logical/Root/WhatsApp/Media/WhatsApp Video/VID-1.mkv"

    write_report(found.path, "html", tmp_path / "r.html")
    html = (tmp_path / "r.html").read_text()
    assert "Video matches" in html
    assert f"{device} (deleted)" in html
    assert f"{match['query_percent']:.1f}" in html
    assert "0.000, 1.000, 2.000" in html
    assert "<img" not in html
    assert "Samsung; SM-A515F" in html or "Samsung" in html

    write_report(found.path, "csv", tmp_path / "r.csv")
    with (tmp_path / "r.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["match_kind"] == "vpdq"]
    assert rows[0]["device_path"] == device
    assert rows[0]["deleted"] == "1"
    assert rows[0]["match_frame_times"].startswith("0.000,1.000")
    assert float(rows[0]["match_query_percent"]) >= 80

    write_report(found.path, "vics", tmp_path / "r.json")
    [case] = json.loads((tmp_path / "r.json").read_text())["value"]
    [media] = [m for m in case["Media"] if m["IsSuspected"]]
    assert "vpdq match" in media["Comments"] and "query" in media["Comments"]
    assert media["MediaFiles"][0]["FilePath"] == device
    assert media["MediaFiles"][0]["Deleted"] is True

    write_report(found.path, "pdf", tmp_path / "r.pdf")
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


def _stripes(seed: int, size: tuple[int, int]) -> Image.Image:
    """Fine, high-contrast stripes at an angle: the texture reduced decodes get wrong."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = 0.3 + seed * 0.45
    wave = np.sin((x * np.cos(angle) + y * np.sin(angle)) * (1.3 + 0.2 * seed))
    grey = (wave > 0).astype(np.uint8) * 200 + 30
    return Image.fromarray(np.stack([grey, grey // 2 + 60, 255 - grey], axis=2))


def test_frame_hashes_agree_with_pdqhash_on_the_whole_frame(tmp_path: Path) -> None:
    """Each sampled frame's hash is within 16 bits of `pdqhash` on the same frame fully
    converted to RGB (what the reference computes), for scenes and for fine stripes."""
    size = (1280, 720)  # reduced by 2 before hashing: the fast path is the one measured
    frames = [
        (scene(40 + i, size) if i % 2 else _stripes(i, size)) for i in range(6) for _ in range(5)
    ]
    data = video_bytes(frames, fps=5, gop=5)
    record = FileRecord(1, "clip.mp4", None, 0)
    analyze_video(io.BytesIO(data), record, ScanSettings())
    assert record.video is not None and not record.issues
    ours = {f.frame: f.pdq for f in record.video.frames}
    assert len(ours) == 6
    reference: dict[int, str] = {}
    with av.open(io.BytesIO(data), mode="r") as container:
        for n, frame in enumerate(container.decode(video=0)):
            if n in ours:
                rgb = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
                reference[n] = pdq_of_rgb(rgb).hex or ""
    distances = [(int(ours[n] or "0", 16) ^ int(reference[n], 16)).bit_count() for n in ours]
    assert max(distances) <= 16, distances
    assert sum(distances) / len(distances) <= 6, distances
