"""Django's own form and validator messages read in Urdu on an Urdu page: Django's Urdu catalogue
leaves most of them in English and writes "ھے" where Muhafiz writes "ہے", so the project's
django_locale catalogue (in LOCALE_PATHS, ahead of Django's) replaces them."""

from __future__ import annotations

import re
from pathlib import Path

import django
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from muhafiz.testing import TEST_PASSWORD, People, agency, district, signed_in

CATALOGUE = Path(settings.PACKAGE_DIR) / "django_locale" / "ur" / "LC_MESSAGES" / "django.po"
DJANGO = Path(django.__file__).parent


def _in_urdu(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    return client


def _entries() -> list[tuple[str, list[str]]]:
    """(msgid, [msgstr...]) of each entry of the catalogue, the header left out."""
    entries = []
    for block in CATALOGUE.read_text(encoding="utf-8").split("\n\n"):
        strings: dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            head = re.match(r"(msgid_plural|msgid|msgstr(?:\[\d\])?) (\".*\")$", line)
            if head:
                key = head.group(1)
                strings[key] = head.group(2)[1:-1]
            elif line.startswith('"') and key:
                strings[key] += line[1:-1]
        if strings.get("msgid"):
            entries.append(
                (strings["msgid"], [v for k, v in strings.items() if k.startswith("msgstr")])
            )
    return entries


def test_every_entry_is_a_message_of_django_translated_with_the_apps_spelling() -> None:
    sources = "".join(
        path.read_text(encoding="utf-8")
        for folder in ("forms", "core", "db/models", "contrib/auth")
        for path in (DJANGO / folder).rglob("*.py")
    )
    entries = _entries()
    assert len(entries) >= 30
    for msgid, translations in entries:
        # A msgid Django does not have would never be looked up: copied exactly, or useless.
        first_line = msgid.replace('\\"', '"').split("%")[0][:30]
        assert first_line in sources, msgid
        assert translations and all(translations), msgid
        assert all("ھے" not in t for t in translations), msgid


@pytest.mark.django_db
def test_a_short_sign_in_code_is_refused_in_urdu(people: People) -> None:
    client = _in_urdu(Client())
    response = client.post(
        "/accounts/login/",
        {"username": people.lahore_investigator.username, "password": TEST_PASSWORD},
    )
    assert response["Location"] == "/accounts/verify/"
    page = client.post("/accounts/verify/", {"code": "12ab"}).content.decode()
    assert "Ensure this value" not in page
    assert re.search(r"کم از کم 6 حروف لکھیں \(ابھی 4 ہیں\)۔", page), page[-3000:]


@pytest.mark.django_db
def test_a_wrong_email_address_is_refused_in_urdu(people: People) -> None:
    admin = _in_urdu(signed_in(people.administrator))
    form = {
        "username": "inv.new",
        "first_name": "Bilal",
        "last_name": "Ahmed",
        "email": "not-an-address",
        "phone": "0300 1234567",
        "role": "investigator",
        "agency": str(agency().pk),
        "jurisdiction_level": "district",
        "province": "",
        "district": str(district("LHR", "Lahore").pk),
    }
    page = admin.post("/accounts/users/new/", form).content.decode()
    assert "Enter a valid email address." not in page
    assert "درست ای میل پتہ لکھیں۔" in page


@pytest.mark.django_db
def test_an_empty_upload_is_refused_in_the_apps_urdu(people: People) -> None:
    admin = _in_urdu(signed_in(people.administrator))
    page = admin.post(
        "/catalogue/stations/import/",
        {"file": SimpleUploadedFile("stations.csv", b"", "text/csv"), "source": "test"},
    ).content.decode()
    assert "پیش کی گئی فائل خالی ھے" not in page
    assert "بھیجی گئی فائل خالی ہے۔" in page
