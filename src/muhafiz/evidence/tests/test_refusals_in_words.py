"""A refusal reaches a reader of Urdu in Urdu on the evidence pages: the bank's refusal of
confirmed files (its bad rows through the bank's own reasons, another import running), a scan
file the triage reader refuses, and a scan whose stored file cannot be read. English reads as
before. Images are generated noise; scan files are the triage engine's own."""

from __future__ import annotations

import html
import re
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone, translation

from muhafiz.cases.models import Case
from muhafiz.core.words import FSI, PDI
from muhafiz.demo.media import noise_image
from muhafiz.evidence import actions, reasons
from muhafiz.evidence.models import MediaFile, Scan
from muhafiz.evidence.tests.conftest import upload_of
from muhafiz.testing import People, agency, province, signed_in
from muhafiz.triage import scanfile

pytestmark = pytest.mark.django_db

URDU_LETTERS = re.compile(r"[\u0600-\u06ff]")


def plain(text: str) -> str:
    """Text as a reader sees it: entities undone, the invisible isolates around values gone."""
    return html.unescape(text).replace(FSI, "").replace(PDI, "")


def _client(people: People, language: str) -> Any:
    examiner = signed_in(people.forensic_examiner)
    examiner.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    return examiner


def _messages(page: str) -> list[str]:
    return [plain(m) for m in re.findall(r'<li class="message message--error">(.*?)</li>', page)]


# -- the bank refuses confirmed files ---------------------------------------------------------


@pytest.fixture
def confirmed(
    people: People, lahore_case: Case, sources: Path, make_scan: Callable[[Path, str], Path]
) -> tuple[Scan, MediaFile, Any]:
    from muhafiz.hashbank.actions import create_bank

    device = sources / "usb"
    device.mkdir()
    noise_image(31).save(device / "one.png")
    scan = actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(make_scan(device, "usb"))
    )
    media = MediaFile.objects.get(scan=scan)
    actions.categorize(people.forensic_examiner, media, 1)
    owner = agency()
    owner.province = province("PB")
    owner.save(update_fields=["province"])
    bank = create_bank(
        people.forensic_examiner, name="Punjab confirmed", kind="known-bad", agency=owner
    )
    return scan, media, bank


def _add(people: People, scan: Scan, media: MediaFile, bank: Any, language: str) -> list[str]:
    response = _client(people, language).post(
        f"/evidence/scans/{scan.pk}/bank/", {"bank": bank.pk, "media": [media.pk]}, follow=True
    )
    assert response.status_code == 200
    return _messages(response.content.decode())


def test_a_bad_row_of_confirmed_files_is_named_in_the_readers_language(
    people: People, confirmed: tuple[Scan, MediaFile, Any]
) -> None:
    from muhafiz.hashbank.models import BankEntry

    scan, media, bank = confirmed
    # A stored hash the bank cannot take (a value no scan file import lets through: set here).
    MediaFile.objects.filter(pk=media.pk).update(md5="zz" * 16, sha1="", sha256="", pdq="")
    media.refresh_from_db()

    [english] = _add(people, scan, media, bank, "en")
    assert english.startswith("The bank refused the chosen files and nothing was added; 1 bad")
    assert "'" + "ZZ" * 16 + "' is not hexadecimal" in english
    [urdu] = _add(people, scan, media, bank, "ur")
    assert URDU_LETTERS.search(urdu)
    assert "ZZ" * 16 in urdu
    assert "is not" not in urdu and "bad row" not in urdu and "nothing" not in urdu, urdu
    assert not BankEntry.objects.filter(bank=bank).exists()


def test_another_import_running_is_said_in_the_readers_language(
    people: People, confirmed: tuple[Scan, MediaFile, Any]
) -> None:
    from muhafiz.hashbank.models import BankImport, ImportStatus

    scan, media, bank = confirmed
    BankImport.objects.create(
        bank=bank,
        source_name="shell import",
        source_sha256="0" * 64,
        source_size=1,
        format="plain",
        status=ImportStatus.RUNNING,
        progress_at=timezone.now(),
    )
    [english] = _add(people, scan, media, bank, "en")
    assert english == (
        "Another import into this bank is running; nothing was added. "
        "Try again when it has finished."
    )
    [urdu] = _add(people, scan, media, bank, "ur")
    assert URDU_LETTERS.search(urdu) and "import" not in urdu and "shell" not in urdu, urdu


# -- the triage reader refuses a scan file ------------------------------------------------------


def _as_percent(template: str) -> str:
    """A library template without its path, each field a `%(name)s` place."""
    return re.sub(r"\{(\w+)(![rs])?\}", r"%(\1)s", template.removeprefix("{path}: "))


def test_every_scan_file_reason_has_its_sentence_here_as_the_library_says_it() -> None:
    assert set(reasons.MESSAGES) == set(scanfile.REASONS)
    for code, english in scanfile.REASONS.items():
        if code not in ("exists", "cannot_create"):  # the library says the path inside these
            assert reasons.MESSAGES[code] == _as_percent(english), code


def _sentences() -> list[str]:
    return [
        *reasons.MESSAGES.values(),
        *reasons.KINDS.values(),
        *reasons.COLUMN_PARTS.values(),
        *reasons.RULES.values(),
        reasons.BETWEEN,
        reasons.AT_LEAST,
        reasons.OR_EMPTY,
        reasons.BOTH_PARTS,
        reasons.AND_ALSO,
    ]


@pytest.mark.parametrize("english", _sentences())
def test_every_scan_file_reason_has_its_urdu_with_the_same_places(english: str) -> None:
    with translation.override("ur"):
        urdu = translation.gettext(english)
    assert urdu != english, "no Urdu"
    if re.sub(r"%\(\w+\)s|[,; ]", "", english):  # more than places and punctuation
        assert URDU_LETTERS.search(urdu), "no Urdu letters"
    assert sorted(re.findall(r"%\(\w+\)s", urdu)) == sorted(re.findall(r"%\(\w+\)s", english))


@pytest.fixture(scope="module")
def good_scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from muhafiz.triage.engine import ScanOptions, start_scan

    device = tmp_path_factory.mktemp("good-scan") / "phone"
    device.mkdir()
    noise_image(41, 96).save(device / "IMG_0001.png")
    out = device.parent / "good.scan"
    start_scan(ScanOptions(sources=[device], out=out, examiner="test examiner"))
    return out


def _hostile(good: Path, folder: Path, *statements: str) -> Path:
    target = folder / "hostile.scan"
    shutil.copy(good, target)
    with closing(sqlite3.connect(target)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    return target


HOSTILE = [
    (
        ["DROP TABLE files", "CREATE VIEW files AS SELECT 1 AS x"],
        "'files' is a view, not a table as in the scan-file schema; it is refused unread",
        ["'files'"],
    ),
    (
        ["CREATE TRIGGER t AFTER INSERT ON custody BEGIN DELETE FROM files; END"],
        "holds a trigger 't' that is not part of the scan-file schema; it is refused unread",
        ["'t'"],
    ),
    (
        ["DROP TABLE custody"],
        "the scan-file schema's table 'custody' is missing",
        ["'custody'"],
    ),
    (
        ["ALTER TABLE files DROP COLUMN exif_make", "ALTER TABLE files ADD COLUMN payload BLOB"],
        "table 'files' has other columns than the scan-file schema "
        "(missing exif_make; unexpected payload)",
        ["'files'", "exif_make", "payload"],
    ),
    (
        ["UPDATE files SET pdq_quality = 101 WHERE pdq_quality IS NOT NULL"],
        "table 'files', column 'pdq_quality': 1 value(s) are not whole numbers from 0 to 100 "
        "or empty (NULL)",
        ["'files'", "'pdq_quality'", "100"],
    ),
    (
        ["UPDATE meta SET value = '99' WHERE key = 'schema_version'"],
        "scan-file schema version 99 is not supported (this tool reads version 1)",
        ["99"],
    ),
]


@pytest.mark.parametrize(("statements", "english", "values"), HOSTILE)
def test_a_refused_scan_file_is_said_in_the_readers_language(  # noqa: PLR0917 - fixtures
    people: People,
    lahore_case: Case,
    good_scan: Path,
    tmp_path: Path,
    statements: list[str],
    english: str,
    values: list[str],
) -> None:
    hostile = _hostile(good_scan, tmp_path, *statements)
    said = {}
    for language in ("en", "ur"):
        client = signed_in(people.lahore_investigator)
        client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
        page = client.post(
            f"/cases/{lahore_case.reference}/evidence/",
            {"form": "upload", "upload-scan_file": upload_of(hostile)},
        )
        assert page.status_code == 400
        said[language] = plain(page.content.decode())
    assert "This scan file cannot be imported: " + english in said["en"]
    urdu = said["ur"]
    assert "یہ اسکین فائل درآمد نہیں ہو سکتی: " in urdu
    for value in values:
        assert value in urdu
    # No English words of the reason (the values aside) on the Urdu page.
    for words in ("scan-file schema", "refused unread", "value(s) are not", "is missing"):
        assert words not in urdu, words
    assert str(hostile) not in urdu and str(tmp_path) not in said["en"]
    assert not Scan.objects.exists()


# -- a scan that failed later: the words kept on the scan ------------------------------------


def _scan_page(people: People, scan: Scan, language: str) -> str:
    client = signed_in(people.lahore_investigator)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get(f"/evidence/scans/{scan.pk}/")
    assert page.status_code == 200
    return plain(page.content.decode())


def test_a_failed_server_scan_reads_in_the_readers_language(
    people: People,
    lahore_case: Case,
    sources: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from muhafiz.evidence.tasks import run_server_scan

    # A server scan whose source went away before a worker took it.
    gone = sources / "gone"
    gone.mkdir()
    server = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(gone))
    gone.rmdir()
    run_server_scan.call(server.pk)
    server.refresh_from_db()
    assert server.failure == "There is nothing at this path."
    assert "There is nothing at this path." in _scan_page(people, server, "en")
    urdu = _scan_page(people, server, "ur")
    with translation.override("ur"):
        assert translation.gettext(server.failure) in urdu
    assert server.failure not in urdu

    # A server scan whose own scan file the reader refuses (no time to check it at all).
    device = sources / "card"
    device.mkdir()
    noise_image(51).save(device / "one.png")
    monkeypatch.setattr(scanfile, "verify_seconds", lambda path: 0.0)
    monkeypatch.setattr(scanfile, "PROGRESS_STEPS", 1)
    server = actions.queue_server_scan(people.lahore_investigator, lahore_case, str(device))
    run_server_scan.call(server.pk)
    server.refresh_from_db()
    english = "This scan file cannot be imported: reading the scan file took longer than 0 seconds"
    assert server.failure == english  # kept as it was said, in the job's language
    assert english in _scan_page(people, server, "en")
    urdu = _scan_page(people, server, "ur")
    assert "یہ اسکین فائل درآمد نہیں ہو سکتی: اسکین فائل پڑھنے میں 0 سیکنڈ سے زیادہ وقت لگا" in urdu
    assert "took longer" not in urdu and ".part" not in urdu


def test_a_failure_kept_before_it_had_its_words_reads_as_kept(
    people: People, lahore_case: Case, sources: Path, make_scan: Callable[[Path, str], Path]
) -> None:
    device = sources / "old"
    device.mkdir()
    noise_image(61).save(device / "one.png")
    scan = actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(make_scan(device, "old"))
    )
    Scan.objects.filter(pk=scan.pk).update(
        analysis_status="failed", analysis_failure="OperationalError: disk I/O error"
    )
    scan.refresh_from_db()
    for language in ("en", "ur"):
        assert "OperationalError: disk I/O error" in _scan_page(people, scan, language)
