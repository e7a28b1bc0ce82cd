"""The hash-bank pages (issue 15, item 9): the Punjab examiner lists the banks, reads one bank's
statistics, uploads a list that a job imports all or nothing (every bad row named on the bank's
page), exports it and takes it out of matching with a reason; a national bank is shown but not
managed by a provincial examiner; roles without the bank rights do not see the pages. Hash lists
are the test's own."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.core.permissions import SYSTEM
from muhafiz.hashbank import actions
from muhafiz.hashbank.models import Bank, BankEntry, BankImport, ImportStatus
from muhafiz.testing import People, agency, province, signed_in
from muhafiz.testing import drain_job_queues as drain

pytestmark = pytest.mark.django_db


def sha1s(*seeds: str) -> list[str]:
    return [hashlib.sha1(seed.encode()).hexdigest() for seed in seeds]  # noqa: S324 - test data


@pytest.fixture
def punjab_bank(tmp_path: Any) -> Bank:
    owner = agency("PB-PFSA", name="Punjab Forensic Science Agency")
    owner.province = province("PB")
    owner.save(update_fields=["province"])
    bank = actions.create_bank(SYSTEM, name="punjab-confirmed", kind="known-bad", agency=owner)
    source = tmp_path / "first.txt"
    source.write_text("\n".join(sha1s("a", "b")) + "\n", encoding="utf-8")
    actions.import_hash_list(SYSTEM, bank, source)
    return bank


def upload(name: str, lines: list[str]) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, ("\n".join(lines) + "\n").encode(), "text/plain")


def test_examiner_lists_banks_and_reads_one_banks_statistics(
    people: People, punjab_bank: Bank
) -> None:
    examiner = signed_in(people.forensic_examiner)
    listing = examiner.get("/banks/").content.decode()
    assert 'data-bank="punjab-confirmed"' in listing and 'href="/banks/"' in listing  # nav
    page = examiner.get(f"/banks/{punjab_bank.pk}/").content.decode()
    assert 'id="bank-entries">2<' in page and "first.txt" in page
    assert 'id="import-form"' in page and 'id="enable-form"' in page
    # The import's time in Pakistan time, as the uploads beside it, not the stored UTC text.
    imported_at = BankImport.objects.get(bank=punjab_bank).imported_at
    assert f"<time>{timezone.localtime(imported_at):%Y-%m-%d %H:%M}</time>" in page
    assert imported_at.isoformat()[:16] not in page
    for person in (people.lahore_investigator, people.analyst, people.administrator):
        assert signed_in(person).get("/banks/").status_code == 403
        assert 'href="/banks/"' not in signed_in(person).get("/").content.decode()


def test_an_upload_is_queued_then_its_bad_rows_are_named_and_nothing_imported(
    people: People,
    punjab_bank: Bank,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    examiner = signed_in(people.forensic_examiner)
    bad = upload("mixed.txt", [*sha1s("c"), "not-a-hash", *sha1s("d"), "12345"])
    with django_capture_on_commit_callbacks(execute=True):
        response = examiner.post(
            f"/banks/{punjab_bank.pk}/import/", {"hash_list": bad}, follow=True
        )
    page = response.content.decode()
    assert "mixed.txt is queued for import" in page
    assert 'data-upload-status="queued"' in page and 'hx-trigger="every 5s"' in page
    assert BankImport.objects.filter(bank=punjab_bank).count() == 1  # the fixture's only
    drain(monkeypatch)  # a worker reads the list
    page = examiner.get(f"/banks/{punjab_bank.pk}/").content.decode()
    assert 'data-upload-status="failed"' in page and "hx-trigger" not in page
    assert "2 bad rows; nothing was imported." in page
    rows = page.split('class="rejected-rows"')[1].split("</table>")[0]
    assert rows.count("<tr>") == 3  # the header and the two bad lines, each named
    assert ">2<" in rows and ">4<" in rows
    assert BankEntry.objects.filter(bank=punjab_bank).count() == 2
    assert BankImport.objects.filter(bank=punjab_bank, status=ImportStatus.REJECTED).count() == 1

    missing = examiner.post(f"/banks/{punjab_bank.pk}/import/", {})
    assert missing.status_code == 400 and "Choose the hash list" in missing.content.decode()
    unknown = examiner.post(
        f"/banks/{punjab_bank.pk}/import/", {"hash_list": upload("notes.txt", ["hello"])}
    )
    assert unknown.status_code == 400  # sniffed at once: no job
    assert "not a hash list in a known format" in unknown.content.decode()

    good = upload("more.txt", sha1s("c", "d", "a"))
    with django_capture_on_commit_callbacks(execute=True):
        examiner.post(f"/banks/{punjab_bank.pk}/import/", {"hash_list": good})
    busy = examiner.post(
        f"/banks/{punjab_bank.pk}/import/", {"hash_list": upload("next.txt", sha1s("e"))}
    )
    assert busy.status_code == 400
    assert "more.txt is still being imported into this bank" in busy.content.decode()
    drain(monkeypatch)
    page = examiner.get(f"/banks/{punjab_bank.pk}/").content.decode()
    assert "2 added, 1 already in the bank." in page and 'id="bank-entries">4<' in page
    assert BankEntry.objects.filter(bank=punjab_bank).count() == 4


def test_disabling_needs_a_reason_and_export_is_audited(people: People, punjab_bank: Bank) -> None:
    examiner = signed_in(people.forensic_examiner)
    empty = examiner.post(f"/banks/{punjab_bank.pk}/enabled/", {"enabled": "", "reason": " "})
    assert empty.status_code == 400 and "the reason is recorded" in empty.content.decode()
    punjab_bank.refresh_from_db()
    assert punjab_bank.enabled
    done = examiner.post(
        f"/banks/{punjab_bank.pk}/enabled/",
        {"enabled": "", "reason": "entries under review"},
        follow=True,
    )
    assert "no longer used for matching" in done.content.decode()
    punjab_bank.refresh_from_db()
    assert not punjab_bank.enabled
    assert AuditEvent.objects.get(action="bank.disable").reason == "entries under review"

    export = examiner.get(f"/banks/{punjab_bank.pk}/export/vics/")
    assert export.status_code == 200 and "attachment" in export["Content-Disposition"]
    body = b"".join(export.streaming_content).decode()
    assert all(value in body.lower() for value in sha1s("a", "b"))
    assert AuditEvent.objects.filter(action="bank.export").count() == 1


def test_a_national_bank_is_shown_to_a_provincial_examiner_but_not_managed(
    people: People,
) -> None:
    national = actions.create_bank(SYSTEM, name="national", kind="known-bad")
    examiner = signed_in(people.forensic_examiner)
    page = examiner.get(f"/banks/{national.pk}/").content.decode()
    assert page and 'id="bank-manage"' not in page
    refused = examiner.post(f"/banks/{national.pk}/enabled/", {"reason": "try"})
    assert refused.status_code == 403
    assert examiner.get(f"/banks/{national.pk}/export/vics/").status_code == 403
    national.refresh_from_db()
    assert national.enabled


def test_an_upload_without_its_csrf_token_or_past_the_limit_is_refused(
    people: People, punjab_bank: Bank, settings: Any
) -> None:
    strict = signed_in(people.forensic_examiner)
    strict.handler.enforce_csrf_checks = True
    forged = strict.post(f"/banks/{punjab_bank.pk}/import/", {"hash_list": upload("x.txt", [])})
    assert forged.status_code == 403
    settings.MUHAFIZ_MAX_UPLOAD_BYTES = 100
    big = upload("big.txt", sha1s(*map(str, range(50))))
    response = signed_in(people.forensic_examiner).post(
        f"/banks/{punjab_bank.pk}/import/", {"hash_list": big}
    )
    assert response.status_code == 413 and "too large" in response.content.decode()
    assert BankEntry.objects.filter(bank=punjab_bank).count() == 2
