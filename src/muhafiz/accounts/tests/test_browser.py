"""In a real browser: sign in with password and TOTP, switch to Urdu, the page turns right-to-left.

Drives Debian's headless Chromium through Playwright against a live server; a screenshot of each
step is kept under the data directory (screenshots/) for a person to look at.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django_otp.oath import TOTP

from muhafiz.accounts.roles import JurisdictionLevel, Role
from muhafiz.browser_testing import needs_chromium, new_page, screenshots_dir
from muhafiz.testing import TEST_PASSWORD, device_of, district, make_user, signed_in, totp_code

pytestmark = needs_chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    page = new_page(browser, height=800)
    yield page
    page.context.close()


def snap(page: Any, name: str, *, full_page: bool = True) -> None:
    page.screenshot(path=str(screenshots_dir() / f"{name}.png"), full_page=full_page)


@pytest.mark.django_db(transaction=True)
def test_sign_in_with_password_and_totp_then_switch_to_urdu(
    live_server: Any, page: Any, flushable_audit: None
) -> None:
    admin = make_user(
        "admin.browser",
        Role.ADMINISTRATOR,
        district_code=None,
        level=JurisdictionLevel.NATIONAL,
    )
    admin.first_name, admin.last_name = "Ayesha", "Khan"
    admin.save(update_fields=["first_name", "last_name"])

    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    assert page.locator("html").get_attribute("dir") == "ltr"
    snap(page, "01-sign-in-en")

    page.get_by_label("Username").fill(admin.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/accounts/verify/")
    snap(page, "02-two-factor-en")

    right = totp_code(device_of(admin))
    page.get_by_label("Six-digit code").fill(f"{(int(right) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Sign in", exact=True).click()
    error = page.locator("#id_code-errors")
    assert "not right, or it has already been used" in error.inner_text()
    assert "id_code-errors" in (
        page.get_by_label("Six-digit code").get_attribute("aria-describedby") or ""
    )
    snap(page, "02b-wrong-code-en")

    time.sleep(1.1)  # django-otp makes a device wait a second after a wrong code
    page.get_by_label("Six-digit code").fill(totp_code(device_of(admin)))
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Ayesha Khan"
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="People").count()
    snap(page, "03-home-en")

    page.locator('[data-testid="language-ur"]').click()
    page.wait_for_load_state()
    html = page.locator("html")
    assert html.get_attribute("dir") == "rtl"
    assert html.get_attribute("lang") == "ur"
    assert "خوش آمدید" in page.get_by_role("heading", level=1).inner_text()
    snap(page, "04-home-ur")

    page.get_by_role("navigation").get_by_role("link", name="افراد").click()
    page.wait_for_url(f"{live_server.url}/accounts/users/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    snap(page, "05-people-ur")

    page.get_by_role("button", name="سائن آؤٹ").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    snap(page, "06-signed-out-ur")

    page.locator('[data-testid="language-en"]').click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "ltr"

    # The API documentation runs under the same policy, from our own static files.
    page.goto(f"{live_server.url}/api/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    snap(page, "08-api-docs", full_page=False)
    assert page.csp_errors == []


@pytest.mark.django_db(transaction=True)
def test_a_newcomer_links_an_authenticator_from_the_qr_page(
    live_server: Any, page: Any, flushable_audit: None
) -> None:
    newcomer = make_user("new.prosecutor", Role.PROSECUTOR, with_totp=False)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(newcomer.username)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server.url}/accounts/enrol/")
    assert page.get_by_role("img", name="QR code to link your authenticator app").is_visible()
    snap(page, "07-enrol-en")

    # What the phone would do: read the secret key shown on the page and compute the code.
    secret = page.locator('[data-testid="totp-secret"]').inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    code = TOTP(key).token()
    page.get_by_label("Six-digit code").fill(f"{code:06d}")
    page.get_by_role("button", name="Confirm and continue").click()
    page.wait_for_url(f"{live_server.url}/")
    assert "Two-factor sign-in is set up." in page.content()
    assert page.csp_errors == []


@pytest.mark.django_db(transaction=True)
def test_a_locked_account_gets_a_clear_page_in_urdu(
    live_server: Any, page: Any, flushable_audit: None
) -> None:
    officer = make_user("cpo.browser", Role.CHILD_PROTECTION_OFFICER)
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator('[data-testid="language-ur"]').click()
    page.wait_for_load_state()
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        page.get_by_label("صارف نام").fill(officer.username)
        page.get_by_label("پاس ورڈ").fill("not the password")
        page.get_by_role("button", name="جاری رکھیں").click()
        page.wait_for_load_state()
        if page.get_by_role("heading", level=1).inner_text() != "سائن اِن":
            break
        snap(page, "09-wrong-password-ur")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.get_by_role("heading", level=1).inner_text() == "اکاؤنٹ مقفل"
    assert page.get_by_role("alert").is_visible()
    snap(page, "10-locked-ur")
    assert page.csp_errors == []


@pytest.mark.django_db(transaction=True)
def test_an_administrator_creates_an_account_and_an_api_client(
    live_server: Any, page: Any, flushable_audit: None
) -> None:
    admin = make_user(
        "admin.pages", Role.ADMINISTRATOR, district_code=None, level=JurisdictionLevel.NATIONAL
    )
    district("KSR", "Kasur")  # a second district to choose from
    session = signed_in(admin).cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )

    page.goto(f"{live_server.url}/accounts/users/new/")
    page.get_by_label("Username").fill("inv.kasur.new")
    page.get_by_label("First name").fill("Sana")
    page.get_by_label("Last name").fill("Iqbal")
    page.get_by_label("Role").select_option("investigator")
    page.get_by_label("Agency").select_option(label="Punjab Police")
    page.get_by_label("Jurisdiction").select_option("district")
    page.get_by_label("District").select_option(label="Kasur")
    snap(page, "11-new-account-en")
    page.get_by_role("button", name="Create account").click()
    password = page.locator('[data-testid="one-time-password"]').inner_text()
    assert len(password) >= 16
    snap(page, "12-one-time-password-en")
    page.get_by_role("link", name="Done").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Sana Iqbal"
    snap(page, "13-account-en")

    page.goto(f"{live_server.url}/accounts/clients/new/")
    page.get_by_label("Name of the system").fill("Punjab forensic lab matcher")
    page.locator("#id_agency").select_option(label="Punjab Police")
    page.get_by_label("Jurisdiction").select_option("national")
    page.get_by_role("radio", name="Hash matcher", exact=True).check()
    snap(page, "14-new-api-client-en")
    page.get_by_role("button", name="Create and show token").click()
    token = page.locator('[data-testid="api-token"]').inner_text()
    assert token.startswith("mhz_")
    snap(page, "15-api-token-en")
    assert page.csp_errors == []
