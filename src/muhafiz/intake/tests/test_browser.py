"""In headless Chromium with JavaScript switched off: a visitor files a report in Urdu, keeps
the receipt code and passphrase, and comes back to read the reply a staff member wrote; a
wrong passphrase is refused and then rate-limited; the visitor's address is in neither the
database nor the logs. Screenshots go to DATA_DIR/screenshots/intake-*.png."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from muhafiz.browser_testing import needs_chromium, snap
from muhafiz.intake.models import Report
from muhafiz.intake.tests.test_no_leaks import _every_stored_value
from muhafiz.testing import make_people, signed_in

pytestmark = needs_chromium

BROWSER_ADDRESS = "127.0.0.1"


@pytest.mark.django_db(transaction=True)
def test_a_public_report_in_urdu_without_javascript_and_its_reply(
    live_server: Any,
    browser: Any,
    flushable_audit: None,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    caplog.set_level(logging.DEBUG)
    people = make_people()
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 360, "height": 740}, locale="ur-PK"
    )
    page = context.new_page()
    sizes: list[int] = []
    page.on(
        "response",
        lambda r: sizes.append(len(r.body())) if r.request.resource_type == "document" else None,
    )
    page.goto(f"{live_server.url}/report/")
    assert page.locator("html").get_attribute("lang") == "ur"
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("input[type=file]").count() == 0
    assert "تصاویر یا ویڈیوز نہ بھیجیں" in page.locator("#no-uploads").inner_text()
    # The page fits the phone's width (the hidden honeypot once made it 30 screens wide).
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    snap(page, "intake-01-public-report-ur")
    page.get_by_label("بچے سے جنسی زیادتی").check()
    page.get_by_label("کیا ہوا؟").fill("ہمارے محلے میں ایک بچی کے ساتھ زیادتی ہو رہی ہے۔")
    page.get_by_label("ضلع جہاں یہ ہوا").select_option("LHR")
    page.get_by_label("بچے کی عمر").select_option("6-10")
    page.get_by_label("آپ سے رابطے کے لیے فون یا ای میل (اختیاری)").fill("0300 0000000")
    page.locator("#report-submit").click()
    page.wait_for_load_state()
    code = page.locator("#receipt-code").inner_text()
    passphrase = page.locator("#receipt-passphrase").inner_text()
    assert "آپ کی رپورٹ موصول ہو گئی" in page.content()
    snap(page, "intake-02-receipt-ur")
    report = Report.objects.get()
    assert report.district is not None and report.district.code == "LHR"
    assert report.channel == "web"

    staff = signed_in(people.lahore_investigator)
    staff.post(
        f"/intake/reports/{report.reference}/reply/",
        {"body": "شکریہ، ہمارا افسر کل آئے گا۔"},
        REMOTE_ADDR="192.0.2.10",
    )

    page.goto(f"{live_server.url}/report/follow-up/")
    page.get_by_label("رسید کوڈ").fill(code)
    page.get_by_label("خفیہ جملہ").fill(passphrase)
    page.locator("#follow-up-submit").click()
    page.wait_for_load_state()
    assert "شکریہ، ہمارا افسر کل آئے گا۔" in page.locator("#conversation").inner_text()
    snap(page, "intake-03-reply-ur")
    page.get_by_label("مزید معلومات دیں").fill("وہ سفید گاڑی چلاتا ہے۔")
    page.locator("#add-submit").click()
    page.wait_for_load_state()
    assert page.locator("#added").count() == 1
    assert report.messages.filter(from_staff=False).count() == 1

    # A wrong passphrase is refused; after five on this receipt even the right one waits.
    for attempt in range(6):
        page.goto(f"{live_server.url}/report/follow-up/")
        page.get_by_label("رسید کوڈ").fill(code)
        page.get_by_label("خفیہ جملہ").fill("galat-galat-galat-0000")
        page.locator("#follow-up-submit").click()
        page.wait_for_load_state()
        if attempt == 0:
            assert (
                "رسید کوڈ یا خفیہ جملہ درست نہیں ہے"
                in page.locator("#follow-up-error").inner_text()
            )
    assert page.locator("#rate-limited").count() == 1
    page.goto(f"{live_server.url}/report/follow-up/")
    page.get_by_label("رسید کوڈ").fill(code)
    page.get_by_label("خفیہ جملہ").fill(passphrase)
    page.locator("#follow-up-submit").click()
    page.wait_for_load_state()
    assert page.locator("#rate-limited").count() == 1
    snap(page, "intake-04-rate-limited-ur")
    assert sizes and max(sizes) < 100_000

    stored = _every_stored_value()
    assert BROWSER_ADDRESS not in stored
    for record in caplog.records:
        assert BROWSER_ADDRESS not in record.getMessage()
        assert BROWSER_ADDRESS not in str(record.args)
    context.close()
