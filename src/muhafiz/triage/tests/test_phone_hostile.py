"""Property: a damaged or hostile phone extraction or video is recorded, never a crash."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muhafiz.triage.analyze import process_unit
from muhafiz.triage.records import FileRecord
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.sources.base import Unit
from muhafiz.triage.sources.ufdr import UfdrSource
from muhafiz.triage.tests.media import moving_frames, video_bytes
from muhafiz.triage.tests.phone import PhoneFile, make_adb_backup, ufdr_report_xml
from muhafiz.triage.video import analyze_video

_REPORT = ufdr_report_xml([(PhoneFile("/Root/DCIM/a.jpg", b"alpha"), "files\\Image\\a.jpg")])
_VIDEO = video_bytes(moving_frames(seed=8, seconds=2, size=(64, 48)), fps=5)
_AB: bytes
with tempfile.TemporaryDirectory() as _tmp:
    _AB = make_adb_backup(Path(_tmp) / "x.ab", {"shared/0/DCIM/a.txt": b"a" * 500}).read_bytes()


def _mangled(data: bytes) -> st.SearchStrategy[bytes]:
    cut = st.integers(0, len(data)).map(lambda n: data[:n])
    flip = st.tuples(st.integers(0, len(data) - 1), st.integers(1, 255)).map(
        lambda p: data[: p[0]] + bytes([data[p[0]] ^ p[1]]) + data[p[0] + 1 :]
    )
    return st.one_of(cut, flip)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(report=st.one_of(_mangled(_REPORT), st.binary(max_size=400)))
def test_a_damaged_ufdr_report_is_recorded_and_the_files_still_scanned(report: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "phone.ufdr"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("report.xml", report)
            archive.writestr("files/Image/a.jpg", b"alpha")
        source = UfdrSource(1, path)
        items = list(source.walk())
        units = [item for item in items if isinstance(item, Unit)]
        assert {u.path for u in units} >= {
            "phone.ufdr!/files/Image/a.jpg",
            "phone.ufdr!/report.xml",
        }
        for unit in units:
            records = process_unit(source, unit, ScanSettings())
            assert records[-1].sha256 is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_mangled(_VIDEO))
def test_a_damaged_video_is_an_error_after_the_frames_read(data: bytes) -> None:
    record = FileRecord(1, "v.mp4", None, 0)
    analyze_video(io.BytesIO(data), record, ScanSettings())
    assert all(issue.code == "corrupt-video" for issue in record.issues)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_mangled(_AB))
def test_a_damaged_adb_backup_is_recorded(data: bytes) -> None:
    from muhafiz.triage.sources.directory import SingleFileSource

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.ab"
        path.write_bytes(data)
        source = SingleFileSource(1, path)
        [unit] = list(source.walk())
        assert isinstance(unit, Unit)
        records = process_unit(source, unit, ScanSettings())
        [top] = [r for r in records if r.path == "x.ab"]
        assert top.sha256 is not None
