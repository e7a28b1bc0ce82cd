"""A refusal reaches a reader of Urdu in Urdu on the evidence pages: the bank's refusal of
confirmed files (its bad rows through the bank's own reasons, another import running), a scan
file the triage reader refuses, and a scan whose stored file cannot be read. English reads as
before. Images are generated noise; scan files are the triage engine's own."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from muhafiz.cases.models import Case
from muhafiz.core.words import FSI, PDI
from muhafiz.demo.media import noise_image
from muhafiz.evidence import actions
from muhafiz.evidence.models import MediaFile, Scan
from muhafiz.evidence.tests.conftest import upload_of
from muhafiz.testing import People, agency, province, signed_in

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
