"""The bank page in words (issue 15, items 9 and 13): an import's status by its label, not its
code, and the shipped category labels in the reader's language, English and Urdu. A label an
administrator wrote into a scheme reads as written. Hash lists are the test's own."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.conf import settings

from muhafiz.core.permissions import SYSTEM
from muhafiz.hashbank import actions
from muhafiz.hashbank.models import Bank, BankEntry, CategoryScheme
from muhafiz.testing import People, agency, province, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def bank(tmp_path: Path) -> Bank:
    owner = agency("PB-PFSA", name="Punjab Forensic Science Agency")
    owner.province = province("PB")
    owner.save(update_fields=["province"])
    scheme = CategoryScheme.objects.get(code="projectvic-us")
    made = actions.create_bank(
        SYSTEM, name="punjab-vic", kind="known-bad", agency=owner, category_scheme=scheme
    )
    source = tmp_path / "first.txt"
    hashes = [hashlib.sha1(s.encode()).hexdigest() for s in "abc"]  # noqa: S324 - test data
    source.write_text("\n".join(hashes) + "\n", encoding="utf-8")
    actions.import_hash_list(SYSTEM, made, source)
    # Categories as a categorised list would give them (the plain list carries none).
    entries = list(BankEntry.objects.filter(bank=made).order_by("pk"))
    BankEntry.objects.filter(pk=entries[0].pk).update(category=1)
    BankEntry.objects.filter(pk=entries[1].pk).update(category=3)
    return made


def _page(people: People, bank: Bank, language: str) -> str:
    examiner = signed_in(people.forensic_examiner)
    examiner.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = examiner.get(f"/banks/{bank.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _cells(page: str, table_id: str) -> str:
    return page.split(f'id="{table_id}"')[1].split("</table>", maxsplit=1)[0]


def test_an_imports_status_reads_in_words_in_english_and_urdu(people: People, bank: Bank) -> None:
    english = _cells(_page(people, bank, "en"), "bank-imports")
    assert '<td data-status="completed">Completed</td>' in english
    urdu = _cells(_page(people, bank, "ur"), "bank-imports")
    assert '<td data-status="completed">مکمل</td>' in urdu
    assert ">completed<" not in english + urdu  # the code is never the text


def test_category_labels_read_in_the_readers_language(people: People, bank: Bank) -> None:
    english = _cells(_page(people, bank, "en"), "by-category")
    for label in ("1 Child abuse material", "3 CGI / animation", "Uncategorised"):
        assert f"<bdi>{label}</bdi>" in english, label
    urdu = _cells(_page(people, bank, "ur"), "by-category")
    for label in ("1 بچوں سے زیادتی کا مواد", "3 کمپیوٹر سے بنی تصویر / اینیمیشن", "غیر زمرہ بند"):
        assert f"<bdi>{label}</bdi>" in urdu, label
    assert "Child abuse material" not in urdu and "uncategorised" not in urdu


def test_the_api_keeps_the_schemes_own_labels(people: People, bank: Bank) -> None:
    client = signed_in(people.forensic_examiner)
    response = client.get(f"/api/v1/banks/{bank.name}", HTTP_ACCEPT_LANGUAGE="ur")
    assert response.status_code == 200
    assert "1 Child abuse material" in response.json()["by_category"]


def test_every_shipped_category_label_has_urdu() -> None:
    from django.utils.translation import gettext, override

    from muhafiz.hashbank.shipped import SCHEMES

    labels = {c["label"] for scheme in SCHEMES for c in scheme["categories"]}
    with override("ur"):
        untranslated = sorted(label for label in labels if gettext(label) == label)
    assert untranslated == []


def test_a_label_an_administrator_wrote_reads_as_written(people: People, bank: Bank) -> None:
    scheme = CategoryScheme.objects.get(code="projectvic-us")
    scheme.categories = [
        {**c, "label": "Locally reviewed"} if c["value"] == 3 else c for c in scheme.categories
    ]
    scheme.save(update_fields=["categories"])
    assert "<bdi>3 Locally reviewed</bdi>" in _cells(_page(people, bank, "ur"), "by-category")
