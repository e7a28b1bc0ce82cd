"""In a real browser, English and Urdu: the examiner goes from home through the navigation to a
hash bank and uploads a list with a bad row: the page says it is queued; a worker reads it and
the page, refreshing by itself, names the bad row and why, in the reader's language (nothing
imported). Then a good one: queued,
then done with its counts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from muhafiz.browser_testing import needs_chromium, page_as, snap
from muhafiz.hashbank.models import Bank, BankEntry
from muhafiz.hashbank.tests.test_pages import punjab_bank, sha1s  # noqa: F401 - the fixture
from muhafiz.testing import People
from muhafiz.testing import drain_job_queues as drain

pytestmark = needs_chromium


@pytest.mark.parametrize("language", ["en", "ur"])
@pytest.mark.django_db(transaction=True)
def test_examiner_imports_a_list_into_a_bank_from_the_page(  # noqa: PLR0917 - fixtures
    live_server: Any,
    browser: Any,
    flushable_audit: None,
    people: People,
    punjab_bank: Bank,  # noqa: F811 - the fixture
    tmp_path: Path,
    language: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(sha1s("x")[0] + "\nnot-a-hash\n", encoding="utf-8")
    good = tmp_path / "good.txt"
    good.write_text("\n".join(sha1s("x", "y")) + "\n", encoding="utf-8")
    page = page_as(browser, live_server, people.forensic_examiner)
    page.goto(f"{live_server.url}/")
    if language == "ur":
        page.locator('[data-testid="language-ur"]').click()
        page.wait_for_load_state()
    page.locator('.main-nav a[href="/banks/"]').click()
    page.wait_for_url("**/banks/")
    page.locator('tr[data-bank="punjab-confirmed"] a').click()
    page.wait_for_url(f"**/banks/{punjab_bank.pk}/")
    queued = "queued" if language == "en" else "قطار میں"
    page.locator("#import-form input[type=file]").set_input_files(str(bad))
    page.locator("#import-form button[type=submit]").click()
    page.locator(".message--success").wait_for()
    waiting = page.locator('[data-upload-status="queued"]')
    assert queued in waiting.inner_text().lower()
    snap(page, f"banks-upload-queued-{language}")
    drain(monkeypatch)  # a worker reads the list; the page refreshes by itself
    failed = page.locator('[data-upload-status="failed"]')
    failed.wait_for(timeout=15_000)
    assert failed.locator(".rejected-rows tbody tr").count() == 1
    words = "1 bad row; nothing was imported." if language == "en" else "1 خراب سطر"
    assert words in failed.inner_text()
    # Why, in the reader's language: the banks library's reason through the catalogue.
    why = failed.locator(".rejected-rows tbody td bdi").inner_text().replace("\u2068", "")
    why = why.replace("\u2069", "")
    if language == "en":
        assert why == "'not-a-hash' is not a hexadecimal hash"
    else:
        assert why == "'not-a-hash' سولہ اساسی ہیش نہیں"
    assert BankEntry.objects.filter(bank=punjab_bank).count() == 2
    snap(page, f"banks-rejected-{language}")
    page.locator("#import-form input[type=file]").set_input_files(str(good))
    page.locator("#import-form button[type=submit]").click()
    page.locator('[data-upload-status="queued"]').wait_for()
    drain(monkeypatch)
    done = page.locator('[data-upload-status="done"]')
    done.wait_for(timeout=15_000)
    words = "2 added, 0 already in the bank." if language == "en" else "2 شامل، 0 پہلے سے بینک میں"
    assert words in done.inner_text()
    assert page.locator("#bank-entries").inner_text() == "4"
    snap(page, f"banks-imported-{language}")
    assert page.csp_errors == []
