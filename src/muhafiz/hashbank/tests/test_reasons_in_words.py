"""The banks library's reasons for a bad row reach a reader of Urdu in Urdu: on the bank's page,
in the upload's result and in the API (with the code and its values beside the message), and a
list refused at once says why in Urdu too. English reads as the library writes it; a row stored
before codes were kept reads as stored. Hash lists are the test's own."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from muhafiz.banks.reasons import ENGLISH, JSON_PLACES, PLACES, Reason, fields, reason
from muhafiz.core.words import FSI, PDI
from muhafiz.hashbank import actions, reasons
from muhafiz.hashbank.models import Bank, BankUpload, UploadStatus
from muhafiz.hashbank.tests.test_pages import punjab_bank, sha1s, upload  # noqa: F401 - fixture
from muhafiz.testing import People, signed_in
from muhafiz.testing import drain_job_queues as drain

pytestmark = pytest.mark.django_db

NOT_HEX_EN = "'not-a-hash' is not a hexadecimal hash"
NOT_HEX_UR = "'not-a-hash' سولہ اساسی ہیش نہیں"
SHORT_EN = "hash of 5 hex characters; expected 32 (MD5), 40 (SHA-1) or 64 (SHA-256)"
SHORT_UR = "5 سولہ اساسی حروف کا ہیش؛ 32 (MD5)، 40 (SHA-1) یا 64 (SHA-256) حروف ہونے چاہییں"


def plain(text: str) -> str:
    """Text as a reader sees it: entities undone, the invisible isolates around values gone."""
    return html.unescape(text).replace(FSI, "").replace(PDI, "")


def _as_percent(template: str) -> str:
    """A library template with each field as a `%(name)s` place (how the server's English
    reads it: the values arrive already quoted and grouped)."""
    return re.sub(r"\{(\w+)(![rs])?(:[^}]*)?\}", r"%(\1)s", template)


# -- the catalogue -------------------------------------------------------------------------


def test_every_library_reason_has_its_sentence_here_word_for_word() -> None:
    coded = {code for code in ENGLISH if code}
    assert set(reasons.MESSAGES) == coded
    for code in coded:
        assert reasons.MESSAGES[code] == _as_percent(ENGLISH[code]), code
    for place, words in reasons.PLACES.items():
        assert words == _as_percent(PLACES[place]) + "%(reason)s", place
    assert set(reasons.PLACES) == set(PLACES) - {""}
    # 'value' is the JSON key's own name, the same in every language.
    assert set(reasons.JSON_PLACES) == set(JSON_PLACES) - {"'value'"}


def _urdu_sentences() -> list[str]:
    return [*reasons.MESSAGES.values(), *reasons.PLACES.values(), *reasons.JSON_PLACES.values()]


@pytest.mark.parametrize("english", _urdu_sentences())
def test_every_reason_has_its_urdu_with_the_same_places(english: str) -> None:
    with translation.override("ur"):
        urdu = translation.gettext(english)
    assert urdu != english, "no Urdu"
    assert re.search(r"[\u0600-\u06ff]", urdu), "no Urdu letters"
    assert sorted(re.findall(r"%\(\w+\)s", urdu)) == sorted(re.findall(r"%\(\w+\)s", english))


@pytest.mark.parametrize("code", sorted(code for code in ENGLISH if code))
def test_each_reason_reads_in_english_as_the_library_says_it_and_in_urdu(code: str) -> None:
    values = {
        name: 12345 if "," in spec else f"v{index}"
        for index, (name, spec, _) in enumerate(fields(ENGLISH[code]))
    }
    why = Reason(code, values)
    with translation.override("en"):
        assert reasons.reason_in_words(why) == why.message
    with translation.override("ur"):
        urdu = plain(reasons.reason_in_words(why))
    assert urdu != why.message
    for value in why.shown().values():
        if code.startswith("json_") and value == "'v0'":
            continue  # `what`, a place in the file: in words of its own
        assert value in urdu, (code, value)


def test_a_vics_record_and_a_json_place_read_in_urdu() -> None:
    why = reason("wrong_hex_length", kind="md5", value="abc", length=3, expected=32).at(
        "record_media", record=4, media_id="17"
    )
    with translation.override("en"):
        assert reasons.reason_in_words(why) == why.message
    with translation.override("ur"):
        assert plain(reasons.reason_in_words(why)) == (
            "اندراج 4 (MediaID 17): md5 'abc' میں 3 سولہ اساسی حروف ہیں، 32 ہونے چاہییں"
        )
    cut = reason("json_expected_at_end", what="the start of record at line 9", char="{")
    with translation.override("ur"):
        assert plain(reasons.reason_in_words(cut)) == (
            "یہاں سطر 9 والے اندراج کا آغاز ('{') ہونا چاہیے تھا، مگر فائل ختم ہو گئی (ادھوری؟)"
        )


def test_a_row_stored_without_its_code_or_with_values_out_of_shape_reads_as_stored() -> None:
    old = {"line": 2, "message": "an old English reason"}
    odd = {"line": 2, "message": "as stored", "code": "not_hex", "params": {"kind": [1]}}
    missing = {"line": 2, "message": "as stored too", "code": "not_hex", "params": {}}
    unknown = {"line": 2, "message": "a later code", "code": "from_the_future", "params": {}}
    elsewhere = {**missing, "message": "odd place", "place": "nowhere"}
    with translation.override("ur"):
        assert reasons.row_in_words(old) == "an old English reason"
        for row in (odd, missing, unknown, elsewhere):
            assert reasons.row_in_words(row) == row["message"]


# -- through the real upload ---------------------------------------------------------------


def _failed_upload(
    people: People, bank: Bank, capture: Any, monkeypatch: pytest.MonkeyPatch
) -> BankUpload:
    bad = upload("mixed.txt", [*sha1s("c"), "not-a-hash", *sha1s("d"), "12345"])
    with capture(execute=True):
        queued = actions.queue_bank_upload(people.forensic_examiner, bank, bad)
    drain(monkeypatch)  # a worker
    queued.refresh_from_db()
    assert queued.status == UploadStatus.FAILED
    return queued


def _page(people: People, bank: Bank, language: str) -> str:
    examiner = signed_in(people.forensic_examiner)
    examiner.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    response = examiner.get(f"/banks/{bank.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _reasons_on(page: str, upload_id: int) -> list[str]:
    table = page.split(f'id="rejected-rows-{upload_id}"')[1].split("</table>", maxsplit=1)[0]
    return [plain(cell) for cell in re.findall(r"<td><bdi>(.*?)</bdi></td>", table, re.S)]


def test_an_uploads_bad_rows_read_in_urdu_on_the_page_and_english_is_unchanged(
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failed = _failed_upload(people, punjab_bank, django_capture_on_commit_callbacks, monkeypatch)
    # Stored with the English for the CLI and the logs, and the code with its values.
    assert failed.errors[0] == {
        "line": 2,
        "message": NOT_HEX_EN,
        "code": "plain_not_hex",
        "place": "",
        "params": {"value": "not-a-hash"},
    }
    assert _reasons_on(_page(people, punjab_bank, "en"), failed.pk) == [NOT_HEX_EN, SHORT_EN]
    urdu = _reasons_on(_page(people, punjab_bank, "ur"), failed.pk)
    assert urdu == [NOT_HEX_UR, SHORT_UR]
    assert "hexadecimal" not in "".join(urdu)


def test_the_api_gives_the_code_its_values_and_the_message_in_the_requests_language(
    token_client: Any,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = token_client("bank.manage", "bank.view")
    route = "/api/v1/banks/punjab-confirmed/uploads"
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(route, {"file": upload("mixed.txt", [*sha1s("e"), "not-a-hash"])})
    assert sent.status_code == 202
    drain(monkeypatch)
    english = api.get(sent.json()["url"]).json()["errors"]
    assert english == [
        {
            "line": 2,
            "message": NOT_HEX_EN,
            "code": "plain_not_hex",
            "place": "",
            "params": {"value": "not-a-hash"},
        }
    ]
    urdu = api.get(sent.json()["url"], HTTP_ACCEPT_LANGUAGE="ur").json()["errors"]
    assert plain(urdu[0]["message"]) == NOT_HEX_UR
    assert {k: v for k, v in urdu[0].items() if k != "message"} == {
        k: v for k, v in english[0].items() if k != "message"
    }


def test_the_apis_failure_of_a_rejected_list_is_in_the_requests_language(
    token_client: Any,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = token_client("bank.manage", "bank.view")
    route = "/api/v1/banks/punjab-confirmed/uploads"
    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(route, {"file": upload("mixed.txt", [*sha1s("e"), "not-a-hash"])})
    drain(monkeypatch)
    kept = BankUpload.objects.get(pk=sent.json()["id"]).failure
    english = api.get(sent.json()["url"]).json()["failure"]
    assert english == kept == f"mixed.txt: 1 bad row(s), nothing imported: line 2: {NOT_HEX_EN}"
    urdu = plain(api.get(sent.json()["url"], HTTP_ACCEPT_LANGUAGE="ur").json()["failure"])
    assert urdu == f"mixed.txt: 1 خراب سطریں، کچھ درآمد نہیں ہوا: سطر 2: {NOT_HEX_UR}"


def test_the_openapi_document_describes_a_bad_rows_code_and_values(db: None) -> None:
    from django.test import Client

    document = Client().get("/api/openapi.json").json()
    row = document["components"]["schemas"]["BadRowOut"]
    assert {"line", "message", "code", "place", "params"} <= set(row["properties"])
    assert set(row.get("required", [])) <= {"line", "message", "code", "place", "params"}


def test_an_older_upload_without_codes_reads_as_stored_in_the_api(
    token_client: Any,
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    failed = _failed_upload(people, punjab_bank, django_capture_on_commit_callbacks, monkeypatch)
    BankUpload.objects.filter(pk=failed.pk).update(
        errors=[{"line": 2, "message": NOT_HEX_EN}, {"line": 3, "code": "x", "params": [1.5]}]
    )
    api = token_client("bank.manage", "bank.view")
    rows = api.get(f"/api/v1/banks/punjab-confirmed/uploads/{failed.pk}").json()["errors"]
    assert rows[0] == {"line": 2, "message": NOT_HEX_EN, "code": "", "place": "", "params": {}}
    assert rows[1]["code"] == "" and rows[1]["message"] == ""
    assert _reasons_on(_page(people, punjab_bank, "ur"), failed.pk)[0] == NOT_HEX_EN


def test_a_list_refused_at_once_says_why_in_urdu(
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    settings: Any,
) -> None:
    examiner = signed_in(people.forensic_examiner)
    examiner.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "ur"
    notes = examiner.post(
        f"/banks/{punjab_bank.pk}/import/", {"hash_list": upload("notes.txt", ["hello"])}
    )
    assert notes.status_code == 400
    page = plain(notes.content.decode())
    assert "notes.txt درآمد نہیں ہو سکتی: کسی معلوم شکل میں ہیش کی فہرست نہیں (" in page
    assert "not a hash list" not in page
    settings.MUHAFIZ_MAX_UPLOAD_BYTES = 100
    big = examiner.post(
        f"/banks/{punjab_bank.pk}/import/", {"hash_list": upload("big.txt", sha1s(*"abcdefgh"))}
    )
    assert big.status_code == 413
    page = plain(big.content.decode())
    assert "فائل بہت بڑی ہے: اپ لوڈ" in page and "the upload is" not in page


@pytest.mark.django_db(transaction=True)  # the import takes its lock outside a transaction
@pytest.mark.usefixtures("flushable_audit")
def test_an_upload_that_met_another_running_import_says_so_in_urdu(
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from muhafiz.hashbank.tests.test_interrupted_first_import import _held_elsewhere

    with django_capture_on_commit_callbacks(execute=True):
        queued = actions.queue_bank_upload(
            people.forensic_examiner, punjab_bank, upload("more.txt", sha1s("c"))
        )
    with _held_elsewhere(f"hashbank.import.{punjab_bank.pk}"):  # a shell import, say
        drain(monkeypatch)
    queued.refresh_from_db()
    assert queued.status == UploadStatus.FAILED and queued.bad == 0
    english = plain(_page(people, punjab_bank, "en"))
    assert "Another import into this bank was running when the job started" in english
    urdu = plain(_page(people, punjab_bank, "ur"))
    assert "جب یہ کام شروع ہوا تو اس بینک میں ایک اور درآمد جاری تھی" in urdu
    assert "another import" not in urdu.lower()
    api = signed_in(people.forensic_examiner)
    url = f"/api/v1/banks/{punjab_bank.name}/uploads/{queued.pk}"
    assert api.get(url).json()["failure"] == queued.failure
    said = api.get(url, HTTP_ACCEPT_LANGUAGE="ur").json()["failure"]
    assert "جب یہ کام شروع ہوا تو اس بینک میں ایک اور درآمد جاری تھی" in said


@pytest.mark.django_db(transaction=True)  # the import commits its running record for others
@pytest.mark.usefixtures("flushable_audit")
def test_a_list_that_changed_while_it_was_imported_says_so_in_urdu(
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading
    import time

    from django.db import connections

    from muhafiz.core.storage import file_store
    from muhafiz.hashbank.models import BankImport, ImportStatus

    lines = [f"{n:040x}" for n in range(1, 200_001)]
    with django_capture_on_commit_callbacks(execute=True):
        queued = actions.queue_bank_upload(
            people.forensic_examiner, punjab_bank, upload("large.txt", lines)
        )
    stored = file_store().local_path(queued.stored_name)
    changed = threading.Event()

    def change_once_running() -> None:  # another process writing the file while it is read
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                running = BankImport.objects.filter(
                    bank=punjab_bank, source_name="large.txt", status=ImportStatus.RUNNING
                )
                if running.exists():
                    stored.chmod(0o600)
                    with stored.open("a", encoding="utf-8") as out:
                        out.write(f"{0:040x}\n")
                    changed.set()
                    return
                time.sleep(0.002)
        finally:
            connections.close_all()

    writer = threading.Thread(target=change_once_running)
    writer.start()
    drain(monkeypatch)
    writer.join()
    assert changed.is_set()
    queued.refresh_from_db()
    assert queued.status == UploadStatus.FAILED
    assert queued.failure == (
        "The stored file changed while it was being imported; nothing was imported."
    )
    english = plain(_page(people, punjab_bank, "en"))
    assert "The stored file changed while it was being imported" in english
    urdu = plain(_page(people, punjab_bank, "ur"))
    assert "محفوظ فائل درآمد کے دوران بدل گئی؛ کچھ درآمد نہیں ہوا۔" in urdu
    assert "changed while" not in urdu
