"""A hash list uploaded on a bank's page is stored and imported by a job (issue 14, item 3): the
upload answers once the file is stored and queued; the job runs the all-or-nothing import as the
uploader and records its outcome on the upload. What needs no parsing (the permission, the
size, a file in no known format, a second upload while one is waiting) is refused at once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from muhafiz.audit.models import AuditEvent
from muhafiz.core.permissions import SYSTEM
from muhafiz.core.storage import file_store
from muhafiz.hashbank import actions
from muhafiz.hashbank.actions.uploads import import_bank_upload
from muhafiz.hashbank.models import (
    Bank,
    BankEntry,
    BankUpload,
    ImportStatus,
    UploadStatus,
)
from muhafiz.hashbank.tests.test_pages import punjab_bank, sha1s, upload  # noqa: F401 - fixture
from muhafiz.testing import People, signed_in
from muhafiz.testing import drain_job_queues as drain

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_redis() -> Iterator[None]:
    """On RQ (REDIS_URL set, `make test-rq`), each test starts and ends with an empty Redis
    database (the one REDIS_URL names is the tests' own)."""
    from muhafiz.core.jobs import uses_rq

    if not uses_rq():
        yield
        return
    import django_rq

    django_rq.get_connection().flushdb()
    yield
    django_rq.get_connection().flushdb()


def _entries(bank: Bank) -> int:
    return BankEntry.objects.active().filter(bank=bank).count()


@pytest.mark.django_db(transaction=True)
def test_an_upload_is_stored_and_queued_and_the_job_imports_it_as_the_uploader(
    any_storage: str,
    flushable_audit: None,
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    examiner = people.forensic_examiner
    sent = upload("more.txt", sha1s("c", "d", "a"))
    queued = actions.queue_bank_upload(examiner, punjab_bank, sent)

    assert queued.status == UploadStatus.QUEUED
    assert _entries(punjab_bank) == 2  # nothing read yet
    store = file_store()
    assert queued.stored_name == f"hashbank/uploads/{queued.source_sha256}/more.txt"
    sent.seek(0)
    assert b"".join(store.stream(queued.stored_name)) == sent.read()
    event = AuditEvent.objects.get(action="bank.upload")
    assert event.details["sha256"] == queued.source_sha256

    drain(monkeypatch)  # a worker

    queued.refresh_from_db()
    assert queued.status == UploadStatus.DONE, queued.failure
    assert (queued.added, queued.duplicates, queued.bad) == (2, 1, 0)
    assert queued.bank_import is not None
    assert queued.bank_import.status == ImportStatus.COMPLETED
    assert queued.bank_import.imported_by == examiner
    assert _entries(punjab_bank) == 4
    assert store.exists(queued.stored_name)  # kept, as an uploaded scan file is


def test_a_list_with_bad_rows_ends_failed_naming_each_row_and_adds_nothing(
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = upload("mixed.txt", [*sha1s("c"), "not-a-hash", *sha1s("d"), "12345"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = actions.queue_bank_upload(people.forensic_examiner, punjab_bank, bad)
    assert len(callbacks) == 1  # the job, queued when the upload committed
    drain(monkeypatch)

    queued.refresh_from_db()
    assert queued.status == UploadStatus.FAILED
    assert queued.bad == 2
    assert [e["line"] for e in queued.errors] == [2, 4]
    assert queued.bank_import is not None
    assert queued.bank_import.status == ImportStatus.REJECTED
    assert _entries(punjab_bank) == 2


def test_what_needs_no_parsing_is_refused_at_once_and_nothing_is_stored(
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    settings: Any,
) -> None:
    examiner = people.forensic_examiner
    with pytest.raises(actions.BankError, match="not a hash list in a known format"):
        actions.queue_bank_upload(examiner, punjab_bank, upload("notes.txt", ["hello there"]))
    with pytest.raises(actions.BankError, match="cannot be imported: empty file"):
        actions.queue_bank_upload(examiner, punjab_bank, upload("empty.txt", [""]))
    with pytest.raises(PermissionDenied):
        actions.queue_bank_upload(
            people.lahore_investigator, punjab_bank, upload("a.txt", sha1s("e"))
        )
    settings.MUHAFIZ_MAX_UPLOAD_BYTES = 100
    with pytest.raises(actions.BankError, match="too large"):
        actions.queue_bank_upload(examiner, punjab_bank, upload("big.txt", sha1s(*"abcdef")))
    assert not BankUpload.objects.exists()
    assert not list(file_store().names("hashbank/uploads"))


def test_a_second_upload_while_the_first_waits_is_refused_and_accepted_once_it_finished(
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    examiner = people.forensic_examiner
    with django_capture_on_commit_callbacks(execute=True):
        actions.queue_bank_upload(examiner, punjab_bank, upload("first.pdq.txt", sha1s("c")))
    with pytest.raises(actions.BankError, match=r"first\.pdq\.txt is still being imported"):
        actions.queue_bank_upload(examiner, punjab_bank, upload("second.txt", sha1s("d")))
    assert BankUpload.objects.count() == 1
    drain(monkeypatch)
    with django_capture_on_commit_callbacks(execute=True):
        second = actions.queue_bank_upload(examiner, punjab_bank, upload("second.txt", sha1s("d")))
    drain(monkeypatch)
    second.refresh_from_db()
    assert second.status == UploadStatus.DONE
    assert _entries(punjab_bank) == 4


def test_the_job_fails_clearly_when_the_stored_file_is_gone_or_changed(
    settings: Any,
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
) -> None:
    examiner = people.forensic_examiner
    lost = actions.queue_bank_upload(examiner, punjab_bank, upload("lost.txt", sha1s("c")))
    file_store().delete(lost.stored_name)
    import_bank_upload.call(lost.pk)
    lost.refresh_from_db()
    assert (lost.status, lost.failure) == (UploadStatus.FAILED, "The stored file is missing.")
    assert AuditEvent.objects.filter(action="bank.upload.fail").count() == 1
    reader = signed_in(people.forensic_examiner)
    reader.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    assert "محفوظ فائل موجود نہیں۔" in reader.get(f"/banks/{punjab_bank.pk}/").content.decode()

    changed = actions.queue_bank_upload(examiner, punjab_bank, upload("changed.txt", sha1s("d")))
    with file_store().open(changed.stored_name) as handle:
        original = handle.read()
    file_store().put(changed.stored_name, _Bytes(original + sha1s("e")[0].encode() + b"\n"))
    import_bank_upload.call(changed.pk)
    changed.refresh_from_db()
    assert changed.status == UploadStatus.FAILED
    assert "SHA-256 differs" in changed.failure
    assert _entries(punjab_bank) == 2


def test_a_job_run_again_after_its_worker_died_finishes_and_only_the_system_runs_it(
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
) -> None:
    examiner = people.forensic_examiner
    queued = actions.queue_bank_upload(examiner, punjab_bank, upload("more.txt", sha1s("c")))
    with pytest.raises(PermissionDenied):
        actions.perform_bank_upload(examiner, queued.pk)
    BankUpload.objects.filter(pk=queued.pk).update(status=UploadStatus.RUNNING)  # worker killed
    done = actions.perform_bank_upload(SYSTEM, queued.pk)
    assert (done.status, done.added) == (UploadStatus.DONE, 1)
    again = actions.perform_bank_upload(SYSTEM, queued.pk)  # a duplicate run changes nothing
    assert (again.status, again.added) == (UploadStatus.DONE, 1)
    assert _entries(punjab_bank) == 3


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, size: int = -1) -> bytes:
        chunk, self.data = (self.data, b"") if size < 0 else (self.data[:size], self.data[size:])
        return chunk


def test_the_api_answers_202_with_where_to_read_the_import_and_its_outcome_is_there(
    token_client: Any,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = token_client("bank.manage", "bank.view")
    route = "/api/v1/banks/punjab-confirmed/uploads"
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(route, {"file": upload("more.txt", sha1s("c", "d", "a"))})
    assert sent.status_code == 202, sent.content
    body = sent.json()
    assert body["status"] == "queued" and sent["Location"] == body["url"]
    assert body["url"] == f"{route}/{body['id']}"
    assert api.get(body["url"]).json()["status"] == "queued"
    drain(monkeypatch)
    done = api.get(body["url"]).json()
    assert (done["status"], done["added"], done["duplicates"]) == ("done", 2, 1)
    assert BankUpload.objects.get(pk=body["id"]).uploaded_by_client == api.api_client

    with django_capture_on_commit_callbacks(execute=True):
        bad = api.post(route, {"file": upload("mixed.txt", [*sha1s("e"), "not-a-hash"])})
    assert bad.status_code == 202
    drain(monkeypatch)
    failed = api.get(bad.json()["url"]).json()
    assert (failed["status"], failed["bad"], failed["added"]) == ("failed", 1, 0)
    assert [e["line"] for e in failed["errors"]] == [2]
    assert _entries(punjab_bank) == 4

    unknown = api.post(route, {"file": upload("notes.txt", ["hello"])})
    assert unknown.status_code == 400 and "known format" in unknown.json()["error"]["message"]
    assert api.post(route, {}).status_code == 400
    assert (
        api.post("/api/v1/banks/nowhere/uploads", {"file": upload("x.txt", sha1s("f"))}).status_code
        == 404
    )
    assert api.get(f"{route}/999999").status_code == 404
    viewer = token_client("bank.view", name="viewer")
    refused = viewer.post(route, {"file": upload("y.txt", sha1s("g"))})
    assert refused.status_code == 403


@pytest.fixture
def writes_looked_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[Any], None]], None]:
    """Call a function with the import's temporary table before each batch of two rows is
    written to it; the import says how many rows it has read after every batch."""
    from django.db import connection

    from muhafiz.hashbank.actions import imports

    monkeypatch.setattr(imports, "STAGE_BATCH", 2)
    monkeypatch.setattr(imports, "PROGRESS_SECONDS", 0.0)
    name = "copy" if connection.vendor == "postgresql" else "insert"
    write = getattr(imports._Staging, name)

    def look_before_writes(look: Callable[[Any], None]) -> None:
        def looked_at(staging: Any, batch: list[Any]) -> None:
            look(staging)
            write(staging, batch)

        monkeypatch.setattr(imports._Staging, name, looked_at)

    return look_before_writes


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("flushable_audit")
def test_a_running_upload_says_how_many_rows_it_has_read_on_its_page_and_in_the_api(
    settings: Any,
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    token_client: Any,
    writes_looked_at: Callable[[Callable[[Any], None]], None],
) -> None:
    """The import says how many rows it has read each time it says it is alive (here after
    every batch of two rows); the bank's page and the upload's API read it while the job runs,
    and say the whole file's rows once it is done (the repeat counted too)."""
    examiner = people.forensic_examiner
    queued = actions.queue_bank_upload(
        examiner, punjab_bank, upload("more.txt", sha1s("c", "d", "e", "f", "g", "c", "h"))
    )
    state = f"/api/v1/banks/{punjab_bank.name}/uploads/{queued.pk}"
    page = f"/banks/{punjab_bank.pk}/"
    api = token_client("bank.view")
    english, urdu = signed_in(examiner), signed_in(examiner)
    urdu.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    seen: list[tuple[int, str, str]] = []

    def look(staging: Any) -> None:
        if staging.last == 4:  # two batches read and said; the third about to be written
            pages = english.get(page).content.decode(), urdu.get(page).content.decode()
            seen.append((api.get(state).json()["rows_read"], *pages))

    writes_looked_at(look)
    done = actions.perform_bank_upload(SYSTEM, queued.pk)

    assert done.status == UploadStatus.DONE, done.failure
    [(rows_read, in_english, in_urdu)] = seen
    assert rows_read == 4
    assert "4 rows read" in in_english
    assert "4 سطریں پڑھی گئیں" in in_urdu
    finished = api.get(state).json()
    assert (finished["status"], finished["rows_read"], finished["added"]) == ("done", 7, 6)
