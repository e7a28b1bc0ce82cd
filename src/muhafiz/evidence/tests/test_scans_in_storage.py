"""Scan files kept in the file store (core.storage), on disk and in a real S3 server: an upload
and a server scan are stored by name, read back for analysis on any machine, and a changed or
lost stored file is refused with a clear reason."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from muhafiz.cases.models import Case
from muhafiz.core.storage import S3FileStore, file_store
from muhafiz.demo.media import noise_image
from muhafiz.evidence import actions
from muhafiz.evidence.actions.reports import write_court_report
from muhafiz.evidence.models import AnalysisStatus, Scan, ScanStatus
from muhafiz.evidence.tasks import analyse_scan, run_server_scan
from muhafiz.evidence.tests.conftest import upload_of
from muhafiz.testing import People

pytestmark = pytest.mark.django_db


def _forget_local_copies() -> None:
    """As on another machine: no cached copy of any stored file."""
    store = file_store()
    if isinstance(store, S3FileStore):
        shutil.rmtree(store.cache_dir, ignore_errors=True)


def test_an_uploaded_scan_is_stored_by_name_and_analysed_from_the_store(
    any_storage: str,
    people: People,
    lahore_case: Case,
    sources: Path,
    make_scan: Callable[[Path, str], Path],
) -> None:
    device = sources / "phone"
    device.mkdir()
    noise_image(11).save(device / "a.png")
    (device / "b.txt").write_text("notes\n")
    scan_file = make_scan(device, "phone")
    scan = actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(scan_file)
    )
    again = actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(scan_file)
    )

    store = file_store()
    assert scan.stored_path == again.stored_path == f"evidence/scans/{scan.file_sha256}.scan"
    assert list(store.names("evidence/scans")) == [scan.stored_path]  # stored once
    assert b"".join(store.stream(scan.stored_path)) == scan_file.read_bytes()
    if isinstance(store, S3FileStore):  # in the bucket, not in the data directory
        assert not list((Path(settings.DATA_DIR) / "evidence").rglob("*.scan"))

    _forget_local_copies()
    analyse_scan.call(scan.pk)
    scan.refresh_from_db()
    assert scan.analysis_status == AnalysisStatus.DONE
    assert scan.statistics["files"] == 2


def test_a_server_scan_is_stored_in_the_store(
    any_storage: str, people: People, lahore_case: Case, sources: Path
) -> None:
    device = sources / "laptop"
    device.mkdir()
    noise_image(12).save(device / "c.png")
    queued = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(device))
    run_server_scan.call(queued.pk)
    scan = Scan.objects.get(pk=queued.pk)
    assert scan.status == ScanStatus.IMPORTED, scan.failure
    assert file_store().exists(scan.stored_path)
    _forget_local_copies()
    with actions.open_scan(scan) as conn:
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == 1
    _forget_local_copies()
    report = write_court_report(people.lahore_investigator, scan, "csv")
    assert "c.png" in report.path.read_text(encoding="utf-8")
    report.path.unlink()


def test_a_server_scan_not_yet_run_has_no_report(
    any_storage: str, people: People, lahore_case: Case, sources: Path
) -> None:
    device = sources / "laptop"
    device.mkdir()
    queued = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(device))
    with pytest.raises(actions.ScanImportError, match="The stored scan file is missing"):
        write_court_report(people.lahore_investigator, queued, "csv")


def test_a_changed_or_lost_stored_scan_file_is_refused(
    any_storage: str,
    people: People,
    lahore_case: Case,
    sources: Path,
    make_scan: Callable[[Path, str], Path],
) -> None:
    device = sources / "phone"
    device.mkdir()
    noise_image(13).save(device / "a.png")
    scan_file = make_scan(device, "phone")
    scan = actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(scan_file)
    )
    store = file_store()

    store.put(scan.stored_path, io.BytesIO(scan_file.read_bytes() + b"\0"))
    _forget_local_copies()
    with pytest.raises(actions.ScanImportError, match="changed since it was imported"):
        actions.open_scan(scan)

    store.delete(scan.stored_path)
    _forget_local_copies()
    with pytest.raises(actions.ScanImportError, match="The stored scan file is missing"):
        actions.open_scan(scan)


def test_a_scan_file_refused_at_import_is_not_kept(
    any_storage: str, people: People, lahore_case: Case, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.scan"
    bad.write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    with pytest.raises(actions.ScanImportError):
        actions.import_uploaded_scan(people.lahore_investigator, lahore_case, upload_of(bad))
    assert not list(file_store().names("evidence/scans"))
    assert not Scan.objects.exists()
