"""A scan's page (issue 15, item 9): the court report downloads in four formats through the CLI's
report code (audited, no victim's identity), the files whose extension lies about their content
and the known-good files are flagged, and no reveal is offered when the content is not stored."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Case
from muhafiz.demo.media import noise_image
from muhafiz.evidence import actions
from muhafiz.evidence.models import MediaFile, Scan
from muhafiz.evidence.tests.conftest import VICTIM_NAME, upload_of
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _own_data_dir(settings: Any, tmp_path: Path) -> None:
    """A data directory of this test's own, so that no other test's report is in it."""
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()


@pytest.fixture
def uploaded(
    people: People, lahore_case: Case, sources: Path, make_scan: Callable[[Path, str], Path]
) -> Scan:
    device = sources / "usb"
    device.mkdir()
    noise_image(31).save(device / "holiday.png")
    # A picture renamed to look like a document: the scan names it.
    noise_image(32).save(device / "accounts.txt", format="PNG")
    return actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(make_scan(device, "usb"))
    )


def test_the_scan_page_flags_a_renamed_picture_and_offers_no_reveal_of_hashes_only(
    people: People, uploaded: Scan
) -> None:
    renamed = MediaFile.objects.get(scan=uploaded, path__endswith="accounts.txt")
    honest = MediaFile.objects.get(scan=uploaded, path__endswith="holiday.png")
    assert renamed.ext_mismatch and not honest.ext_mismatch
    MediaFile.objects.filter(pk=honest.pk).update(known_good=True)  # as a known-good bank would

    page = signed_in(people.forensic_examiner).get(f"/evidence/scans/{uploaded.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    row_of = {
        m.pk: html.split(f'id="media-{m.pk}"')[1].split("</tr>")[0] for m in (renamed, honest)
    }
    assert "flag-mismatch" in row_of[renamed.pk] and "flag-known-good" not in row_of[renamed.pk]
    assert "flag-known-good" in row_of[honest.pk] and "flag-mismatch" not in row_of[honest.pk]
    # An uploaded scan holds hashes only: nothing to reveal, and the page says so.
    assert "Reveal this preview" not in html and 'id="no-content"' in html

    only = signed_in(people.forensic_examiner).get(f"/evidence/scans/{uploaded.pk}/?only=mismatch")
    assert "accounts.txt" in only.content.decode()
    assert "holiday.png" not in only.content.decode().split('id="media-table"')[1]


@pytest.mark.parametrize("fmt", ["pdf", "html", "csv", "vics"])
def test_the_court_report_downloads_from_the_scan_page_audited(
    people: People, uploaded: Scan, fmt: str
) -> None:
    client = signed_in(people.forensic_examiner)
    page = client.get(f"/evidence/scans/{uploaded.pk}/").content.decode()
    link = f"/evidence/scans/{uploaded.pk}/report/{fmt}/"
    assert f'href="{link}"' in page

    response = client.get(link)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert VICTIM_NAME.encode() not in body
    if fmt == "pdf":
        assert body.startswith(b"%PDF")
    elif fmt == "html":
        assert b"accounts.txt" in body.split(b"extension-does-not-match-content")[1]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        assert {r["path"].rsplit("/", 1)[-1] for r in rows} >= {"accounts.txt", "holiday.png"}
    else:
        assert "value" in json.loads(body)
    event = AuditEvent.objects.get(action="evidence.scan.report")
    assert event.actor_user_id == people.forensic_examiner.pk
    assert event.details["format"] == fmt
    assert not list(Path(actions.scans_dir()).glob("report-*"))  # the temporary file is gone


def test_outsiders_get_no_report_and_a_changed_scan_file_is_refused(
    people: People, uploaded: Scan
) -> None:
    link = f"/evidence/scans/{uploaded.pk}/report/pdf/"
    assert signed_in(people.kasur_investigator).get(link).status_code == 404
    assert signed_in(people.child_protection_officer).get(link).status_code in {403, 404}
    assert (
        signed_in(people.forensic_examiner)
        .get(f"/evidence/scans/{uploaded.pk}/report/exe/")
        .status_code
        == 302
    )  # back to the page with the reason
    stored = actions.stored_file(uploaded)
    stored.chmod(0o600)
    with stored.open("ab") as handle:
        handle.write(b"tampered")
    refused = signed_in(people.forensic_examiner).get(link, follow=True)
    assert "SHA-256 differs" in refused.content.decode()
    assert not AuditEvent.objects.filter(action="evidence.scan.report").exists()
