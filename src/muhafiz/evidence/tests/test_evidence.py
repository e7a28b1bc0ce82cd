"""Items and custody, bad scan files, who may see evidence, reveals and bank additions."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Case
from muhafiz.demo.media import noise_image
from muhafiz.evidence import actions
from muhafiz.evidence.models import (
    AnalysisStatus,
    CustodyEvent,
    EvidenceItem,
    MediaFile,
    Scan,
    ScanStatus,
)
from muhafiz.evidence.tasks import analyse_scan, run_server_scan
from muhafiz.evidence.tests.conftest import upload_of
from muhafiz.testing import People, agency, province, signed_in

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _item(people: People, case: Case, **overrides: Any) -> EvidenceItem:
    details = actions.ItemDetails(
        kind="phone",
        seized_at=NOW - dt.timedelta(days=2),
        seized_place="House 12, Model Town",
        seized_by=people.lahore_investigator,
        make_model="Tecno Spark 10",
        serial_number="356938035643809",
        seal_number="SEAL-LHR-0042",
    )
    for key, value in overrides.items():
        setattr(details, key, value)
    return actions.create_item(people.lahore_investigator, case, details)


# --- custody ------------------------------------------------------------------------------------


def test_custody_follows_the_item_and_refuses_impossible_hand_overs(
    people: People, lahore_case: Case
) -> None:
    item = _item(people, lahore_case)
    assert item.label == "E1" and item.holder == people.lahore_investigator
    handover = actions.record_handover(
        people.lahore_investigator,
        item,
        from_user=people.lahore_investigator,
        to_user=people.forensic_examiner,
        at=NOW - dt.timedelta(days=1),
        purpose="examination at the forensic lab",
        seal_intact=True,
    )
    assert handover.seq == 2
    item.refresh_from_db()
    assert item.holder == people.forensic_examiner

    impossible = [
        # before the seizure
        {"from_user": people.forensic_examiner, "at": NOW - dt.timedelta(days=3)},
        # before the previous hand-over
        {"from_user": people.forensic_examiner, "at": NOW - dt.timedelta(days=1, hours=2)},
        # from someone who does not hold it
        {"from_user": people.lahore_investigator, "at": NOW - dt.timedelta(hours=1)},
        # in the future
        {"from_user": people.forensic_examiner, "at": NOW + dt.timedelta(days=1)},
    ]
    for case in impossible:
        with pytest.raises(ValidationError):
            actions.record_handover(
                people.forensic_examiner,
                item,
                to_user=people.prosecutor,
                purpose="court",
                seal_intact=True,
                **case,  # type: ignore[arg-type]
            )
    assert CustodyEvent.objects.filter(item=item).count() == 2
    assert AuditEvent.objects.filter(action="evidence.custody.handover").count() == 1

    # Through the API: the same rule, a clear 400.
    api = signed_in(people.forensic_examiner)
    response = api.post(
        f"/api/v1/evidence/items/{item.pk}/custody",
        {
            "from_user": people.lahore_investigator.username,
            "to_user": people.prosecutor.username,
            "at": (NOW - dt.timedelta(hours=1)).isoformat(),
            "purpose": "court",
            "seal_intact": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "holds the item" in response.content.decode()
    detail = api.get(f"/api/v1/evidence/items/{item.pk}").json()
    assert [e["seq"] for e in detail["custody"]] == [1, 2]


# --- who sees evidence --------------------------------------------------------------------------


def test_child_protection_officer_and_kasur_investigator_cannot_see_lahore_evidence(
    people: People, lahore_case: Case
) -> None:
    item = _item(people, lahore_case)
    # The child-protection officer on the team knows of the case and the analyst's role has no
    # evidence right at all (403); to the Kasur investigator the case is not there (404, as for
    # one that does not exist).
    for user, refused in (
        (people.child_protection_officer, 403),
        (people.kasur_investigator, 404),
        (people.analyst, 403),
    ):
        client = signed_in(user)
        assert client.get(f"/cases/{lahore_case.reference}/evidence/").status_code == refused
        assert client.get(f"/evidence/items/{item.pk}/").status_code == refused
        api = client.get(f"/api/v1/evidence/cases/{lahore_case.reference}/items")
        assert api.status_code == refused, user.username
        assert client.get(f"/api/v1/evidence/items/{item.pk}").status_code == refused
    page = signed_in(people.lahore_investigator).get(f"/cases/{lahore_case.reference}/evidence/")
    assert page.status_code == 200 and "SEAL-LHR-0042" in page.content.decode()
    assert signed_in(people.prosecutor).get(f"/evidence/items/{item.pk}/").status_code == 200

    # In Urdu, right to left, with the app's own translations.
    urdu = signed_in(people.lahore_investigator)
    urdu.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = urdu.get(f"/cases/{lahore_case.reference}/evidence/").content.decode()
    assert 'dir="rtl"' in html and "اشیاء اور تحویل کا سلسلہ" in html


# --- bad scan files -----------------------------------------------------------------------------


def _nothing_saved(data_dir: Path) -> None:
    assert Scan.objects.count() == 0
    assert MediaFile.objects.count() == 0
    assert not list((data_dir / "evidence" / "scans").glob("incoming-*"))


def test_scan_file_of_an_unknown_schema_version_is_refused_with_nothing_saved(
    people: People,
    lahore_case: Case,
    tmp_path: Path,
    make_scan: Callable[[Path, str], Path],
    settings: Any,
) -> None:
    device = tmp_path / "sources" / "phone"
    device.mkdir()
    noise_image(7).save(device / "a.png")
    scan_file = make_scan(device, "v1")
    future = tmp_path / "future.scan"
    shutil.copy(scan_file, future)
    with sqlite3.connect(future) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()

    with pytest.raises(actions.ScanImportError, match="schema version 99 is not supported"):
        actions.import_uploaded_scan(people.lahore_investigator, lahore_case, upload_of(future))
    _nothing_saved(Path(settings.DATA_DIR))

    client = signed_in(people.lahore_investigator)
    api = client.post(
        f"/api/v1/evidence/cases/{lahore_case.reference}/scans", {"file": upload_of(future)}
    )
    assert api.status_code == 400
    assert "schema version 99 is not supported" in api.content.decode()
    page = client.post(
        f"/cases/{lahore_case.reference}/evidence/",
        {"form": "upload", "upload-scan_file": upload_of(future)},
    )
    assert page.status_code == 400
    assert "schema version 99 is not supported" in page.content.decode()
    not_a_scan = SimpleUploadedFile("notes.scan", b"just some text, not SQLite")
    with pytest.raises(actions.ScanImportError, match="cannot be imported"):
        actions.import_uploaded_scan(people.lahore_investigator, lahore_case, not_a_scan)
    _nothing_saved(Path(settings.DATA_DIR))


def test_oversized_upload_is_refused(people: People, lahore_case: Case, settings: Any) -> None:
    settings.MUHAFIZ_MAX_UPLOAD_BYTES = 1024
    big = SimpleUploadedFile("big.scan", b"\0" * 4096)
    with pytest.raises(actions.UploadTooLargeError, match="larger than the upload limit"):
        actions.import_uploaded_scan(people.lahore_investigator, lahore_case, big)
    response = signed_in(people.lahore_investigator).post(
        f"/api/v1/evidence/cases/{lahore_case.reference}/scans",
        {"file": SimpleUploadedFile("big.scan", b"\0" * 4096)},
    )
    assert response.status_code == 413
    assert "larger than the upload limit" in response.content.decode()
    _nothing_saved(Path(settings.DATA_DIR))


def test_server_scan_outside_the_scan_roots_is_refused(
    people: People, lahore_case: Case, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(ValidationError, match="scan folders") as refused:
        actions.queue_server_scan(people.lahore_investigator, lahore_case, str(outside))
    # The error names the folders that are allowed.
    assert str(tmp_path / "sources") in refused.value.messages[0]
    with pytest.raises(ValidationError, match="scan folders"):
        actions.queue_server_scan(
            people.lahore_investigator, lahore_case, str(tmp_path / "sources" / ".." / "elsewhere")
        )
    assert Scan.objects.count() == 0


# --- examination: reveal, categorise, bank ------------------------------------------------------


def test_reveal_is_audited_and_shows_a_preview_only_when_the_source_is_on_the_server(
    people: People,
    lahore_case: Case,
    sources: Path,
    make_scan: Callable[[Path, str], Path],
) -> None:
    device = sources / "seized-laptop"
    device.mkdir()
    noise_image(11).save(device / "photo.png")
    server = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(device))
    run_server_scan.call(server.pk)
    server.refresh_from_db()
    assert server.status == ScanStatus.IMPORTED, server.failure
    uploaded = actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(make_scan(device, "field"))
    )
    on_server = MediaFile.objects.get(scan=server)
    only_hashes = MediaFile.objects.get(scan=uploaded)

    # Hidden by default: the scan page carries no image.
    examiner = signed_in(people.forensic_examiner)
    page = examiner.get(f"/evidence/scans/{server.pk}/").content.decode()
    assert "data:image" not in page and "Reveal this preview" in page

    # An investigator holds no reveal right; a reason is required.
    investigator = signed_in(people.lahore_investigator)
    denied = investigator.post(f"/evidence/media/{on_server.pk}/reveal/", {"reason": "x"})
    assert denied.status_code == 403
    with pytest.raises(PermissionDenied):
        actions.reveal_media(people.lahore_investigator, on_server, reason="curious")
    assert (
        examiner.post(f"/evidence/media/{on_server.pk}/reveal/", {"reason": ""}).status_code == 400
    )

    shown = examiner.post(
        f"/evidence/media/{on_server.pk}/reveal/", {"reason": "categorise for the challan"}
    )
    assert shown.status_code == 200 and "data:image/jpeg;base64," in shown.content.decode()
    api = examiner.post(
        f"/api/v1/evidence/media/{only_hashes.pk}/reveal",
        {"reason": "categorise for the challan"},
        content_type="application/json",
    ).json()
    assert api["available"] is False and "not stored" in api["message"]

    reveals = AuditEvent.objects.filter(action="evidence.media.reveal").order_by("sequence")
    assert [(e.actor_user_id, e.reason, e.details["shown"]) for e in reveals] == [
        (people.forensic_examiner.pk, "categorise for the challan", True),
        (people.forensic_examiner.pk, "categorise for the challan", False),
    ]

    # A file changed on the server since the scan is not shown as if it were the evidence.
    noise_image(12).save(device / "photo.png")
    changed = actions.reveal_media(people.forensic_examiner, on_server, reason="re-check")
    assert changed.available is False


def test_examiner_categorises_and_adds_confirmed_material_to_a_bank(
    people: People, lahore_case: Case, sources: Path, make_scan: Callable[[Path, str], Path]
) -> None:
    from muhafiz.hashbank.actions import create_bank
    from muhafiz.hashbank.models import BankEntry

    device = sources / "usb"
    device.mkdir()
    noise_image(21).save(device / "one.png")
    scan = actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(make_scan(device, "usb"))
    )
    media = MediaFile.objects.get(scan=scan)
    with pytest.raises(ValidationError, match="not in the scheme"):
        actions.categorize(people.forensic_examiner, media, 9)
    with pytest.raises(ValidationError, match="Only categorised"):
        actions.add_to_bank(people.forensic_examiner, None, [media])
    actions.categorize(people.forensic_examiner, media, 1)
    owner = agency()
    owner.province = province("PB")  # a Punjab bank: the Punjab examiner manages it
    owner.save(update_fields=["province"])
    bank = create_bank(
        people.forensic_examiner, name="Punjab confirmed", kind="known-bad", agency=owner
    )
    response = signed_in(people.forensic_examiner).post(
        "/api/v1/evidence/bank",
        {"bank": bank.name, "media": [media.pk]},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["added"] == 1
    entry = BankEntry.objects.get(bank=bank)
    assert entry.sha256 == media.sha256 and entry.category == 1 and entry.pdq == media.pdq
    media.refresh_from_db()
    assert media.banked_in == bank.name
    assert AuditEvent.objects.filter(action="evidence.media.bank").count() == 1
    assert AuditEvent.objects.filter(action="bank.import").count() == 1
    assert AuditEvent.objects.filter(action="evidence.media.categorize").count() == 1
    # An investigator cannot add to a bank.
    denied = signed_in(people.lahore_investigator).post(
        "/api/v1/evidence/bank",
        {"bank": bank.name, "media": [media.pk]},
        content_type="application/json",
    )
    assert denied.status_code == 403

    # The next scan of the same device matches the bank on the server, with no bank on the laptop.
    # The upload returns before the server's banks are searched; the analysis job finds it.
    again = actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(make_scan(device, "usb-again"))
    )
    assert again.analysis_status == AnalysisStatus.PENDING
    assert again.statistics["matched_files"] == 0
    analyse_scan.call(again.pk)
    again.refresh_from_db()
    assert again.analysis_status == AnalysisStatus.DONE
    assert again.statistics["matched_files"] == 1
    kinds = {(m["bank"], m["kind"]) for m in again.statistics["matches"]}
    assert ("Punjab confirmed", "sha256") in kinds and ("Punjab confirmed", "pdq") in kinds


def test_api_walk_items_server_scan_and_media_with_the_pages_rules(
    people: People, lahore_case: Case, sources: Path, settings: Any
) -> None:
    device = sources / "lahore-laptop"
    device.mkdir()
    noise_image(31).save(device / "a.png")
    (device / "readme.txt").write_text("hello\n")
    api = signed_in(people.lahore_investigator)
    created = api.post(
        f"/api/v1/evidence/cases/{lahore_case.reference}/items",
        {
            "kind": "computer",
            "seized_at": (NOW - dt.timedelta(hours=3)).isoformat(),
            "seized_place": "Office 4, Gulberg",
            "seized_by": people.lahore_investigator.username,
            "seal_number": "SEAL-9",
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    item_id = created.json()["id"]
    queued = api.post(
        f"/api/v1/evidence/cases/{lahore_case.reference}/server-scans",
        {"source_path": str(device), "item": item_id},
        content_type="application/json",
    )
    assert queued.status_code == 202, queued.content
    scan_id = queued.json()["id"]
    waiting = api.get(f"/evidence/scans/{scan_id}/").content.decode()
    assert 'hx-trigger="every 5s"' in waiting  # the page follows the job until it is done
    run_server_scan.call(scan_id)
    # Imported; the page and the API follow the analysis job (server banks, links) too.
    assert 'data-analysis="pending"' in api.get(f"/evidence/scans/{scan_id}/").content.decode()
    assert api.get(f"/api/v1/evidence/scans/{scan_id}").json()["analysis"]["status"] == "pending"
    analyse_scan.call(scan_id)
    page = api.get(f"/evidence/scans/{scan_id}/").content.decode()
    assert 'hx-trigger="every 5s"' not in page
    assert 'data-analysis="done"' in page
    scan = api.get(f"/api/v1/evidence/scans/{scan_id}").json()
    assert scan["status"] == "imported" and scan["item"] == "E1"
    assert scan["analysis"]["status"] == "done" and scan["analysis"]["finished_at"]
    assert {row["mime"] for row in scan["statistics"]["by_type"]} == {"image/png", "text/plain"}
    media = api.get(f"/api/v1/evidence/scans/{scan_id}/media").json()
    assert sorted(m["path"] for m in media) == ["lahore-laptop/a.png", "lahore-laptop/readme.txt"]
    assert all(len(m["sha256"]) == 64 for m in media)
    assert "data:" not in str(media)  # never content, only what the scan recorded

    cpo = signed_in(people.child_protection_officer)
    for path in (
        f"/api/v1/evidence/scans/{scan_id}",
        f"/api/v1/evidence/scans/{scan_id}/media",
        f"/api/v1/evidence/cases/{lahore_case.reference}/scans",
    ):
        assert cpo.get(path).status_code == 403
    assert cpo.get(f"/evidence/scans/{scan_id}/").status_code == 403
    kasur = signed_in(people.kasur_investigator)
    assert kasur.get(f"/api/v1/evidence/scans/{scan_id}").status_code == 404

    # A stored scan file that changed after import is refused when opened again.
    stored = Scan.objects.get(pk=scan_id)
    stored_path = Path(settings.DATA_DIR) / stored.stored_path
    stored_path.write_bytes(stored_path.read_bytes() + b"\0")
    with pytest.raises(actions.ScanImportError, match="changed since it was imported"):
        actions.open_scan(stored)


def test_a_server_scan_whose_source_is_gone_fails_clearly(
    people: People, lahore_case: Case, sources: Path
) -> None:
    device = sources / "gone"
    device.mkdir()
    scan = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(device))
    device.rmdir()
    run_server_scan.call(scan.pk)
    scan.refresh_from_db()
    assert scan.status == ScanStatus.FAILED
    assert "nothing at this path" in scan.failure
    assert MediaFile.objects.count() == 0
    assert AuditEvent.objects.filter(action="evidence.scan.fail").count() == 1
    page = signed_in(people.lahore_investigator).get(f"/evidence/scans/{scan.pk}/")
    assert "nothing at this path" in page.content.decode()


def test_a_running_server_scan_shows_its_progress_on_the_scan_page(
    people: People, lahore_case: Case, sources: Path
) -> None:
    from muhafiz.core.permissions import SYSTEM

    device = sources / "progress"
    device.mkdir()
    scan = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(device))
    client = signed_in(people.lahore_investigator)
    waiting = client.get(f"/evidence/scans/{scan.pk}/").content.decode()
    assert "Waiting for a worker" in waiting
    # What the job's progress writer records while the engine runs.
    actions.record_scan_progress(
        SYSTEM,
        scan.pk,
        {
            "total_files": 40,
            "total_bytes": 8_000_000,
            "done_files": 10,
            "done_bytes": 2_000_000,
            "seconds": 4.0,
        },
    )
    page = client.get(f"/evidence/scans/{scan.pk}/").content.decode()
    assert 'id="scan-progress"' in page
    assert "10 of 40 files" in page
    assert 'value="25"' in page
    assert "488.3\xa0KB" in page or "488.3 KB" in page  # 500 000 bytes a second
    with pytest.raises(PermissionDenied):
        actions.record_scan_progress(people.lahore_investigator, scan.pk, {})
    noise_image(3).save(device / "a.png")
    run_server_scan.call(scan.pk)
    scan.refresh_from_db()
    assert scan.status == ScanStatus.IMPORTED
    assert "progress" not in scan.statistics
    assert 'id="scan-progress"' not in client.get(f"/evidence/scans/{scan.pk}/").content.decode()
