"""Bad input to the evidence API is a 400 in the one error format, never a 500 (issue 8,
finding 11): a server-scan path with a NUL byte, a scan file with a view, a dropped table or a
non-numeric size, offsets and ids out of range."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from muhafiz.cases.models import Case
from muhafiz.evidence.models import Scan
from muhafiz.evidence.tests.conftest import upload_of
from muhafiz.evidence.tests.test_hostile_scan_files import _copy, _edit, good_scan
from muhafiz.testing import People, signed_in

__all__ = ["good_scan"]  # the fixture, shared with the hostile scan file tests

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_data_dir(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


def _one_error_format(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] and body["error"]["message"]
    assert "Traceback" not in response.content.decode()
    error: dict[str, Any] = body["error"]
    return error


@pytest.mark.parametrize("path", ["/srv/sources/phone\x00.img", "\x00", "/tmp/\x00/../etc"])
def test_a_server_scan_path_with_a_nul_byte_is_refused(
    people: People, lahore_case: Case, path: str
) -> None:
    response = signed_in(people.lahore_investigator).post(
        f"/api/v1/evidence/cases/{lahore_case.reference}/server-scans",
        {"source_path": path},
        content_type="application/json",
    )
    error = _one_error_format(response)
    assert "source_path" in error["details"]
    assert not Scan.objects.exists()


@pytest.mark.parametrize(
    "statements",
    [
        ["CREATE VIEW busy AS SELECT * FROM files"],
        ["DROP TABLE custody"],
        ["UPDATE files SET size = 'twelve'"],
    ],
    ids=["view", "dropped-table", "non-numeric-size"],
)
def test_a_hostile_scan_file_upload_is_a_400(
    people: People, lahore_case: Case, good_scan: Path, tmp_path: Path, statements: list[str]
) -> None:
    hostile = _edit(_copy(good_scan, tmp_path), *statements)
    response = signed_in(people.lahore_investigator).post(
        f"/api/v1/evidence/cases/{lahore_case.reference}/scans", {"file": upload_of(hostile)}
    )
    _one_error_format(response)
    assert not Scan.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases/?offset=-1",
        "/api/v1/cases/?offset=99999999999999999999999",
        "/api/v1/cases/?limit=-5",
        "/api/v1/cases/?limit=99999999999999999999999",
        "/api/v1/evidence/scans/1/media?offset=-3",
        "/api/v1/evidence/scans/1/media?offset=99999999999999999999999",
        "/api/v1/evidence/scans/99999999999999999999999",
        "/api/v1/evidence/items/99999999999999999999999",
        "/api/v1/evidence/scans/-1",
    ],
)
def test_offsets_and_ids_out_of_range_are_a_400_or_a_404(
    people: People, lahore_case: Case, url: str
) -> None:
    response = signed_in(people.lahore_investigator).get(url)
    assert response.status_code in {400, 404}, response.content
    _one_error_format(response, response.status_code)


@pytest.mark.parametrize(
    "url", ["/api/v1/audit/events?offset=99999999999999999999999", "/api/v1/audit/events?offset=-1"]
)
def test_the_audit_list_refuses_an_offset_out_of_range(people: People, url: str) -> None:
    _one_error_format(signed_in(people.auditor).get(url))
