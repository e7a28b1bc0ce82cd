"""The UI shell: strict CSP and security headers, English and Urdu, navigation by role."""

from __future__ import annotations

import gettext
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from muhafiz.testing import People, signed_in

TEMPLATES = Path(settings.PACKAGE_DIR) / "templates"
LOCALE = Path(settings.PACKAGE_DIR) / "locale" / "ur" / "LC_MESSAGES"


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(people: People) -> None:
    for response in (Client().get("/accounts/login/"), signed_in(people.analyst).get("/")):
        policy = response["Content-Security-Policy"]
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy
        directives = {
            part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()
        }
        assert directives["script-src"] == ["'self'"]
        assert directives["style-src"] == ["'self'"]
        assert directives["frame-ancestors"] == ["'none'"]
        assert directives["object-src"] == ["'none'"]


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie["samesite"] == "Lax"


def test_no_template_has_inline_script_or_style() -> None:
    offenders = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for script in re.findall(r"<script\b[^>]*>(.*?)</script>", text, re.S | re.I):
            if script.strip():
                offenders.append(f"{template.name}: inline <script>")
        if re.search(r"<style\b", text, re.I):
            offenders.append(f"{template.name}: <style>")
        if re.search(r"\sstyle\s*=", text, re.I):
            offenders.append(f"{template.name}: style attribute")
        if re.search(r"\son[a-z]+\s*=", text, re.I):
            offenders.append(f"{template.name}: inline event handler")
    assert offenders == []


@pytest.mark.django_db
def test_the_shell_switches_to_urdu_right_to_left(people: People) -> None:
    client = signed_in(people.lahore_investigator)
    response = client.post("/i18n/setlang/", {"language": "ur", "next": "/"}, follow=True)
    body = response.content.decode()
    assert '<html lang="ur" dir="rtl">' in body
    assert "سائن آؤٹ" in body  # Sign out
    assert "مقدمات" not in body or "/cases/" in body  # Cases only where the page exists
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    assert '<html lang="en" dir="ltr">' in response.content.decode()


@pytest.mark.django_db
def test_the_sign_in_page_reads_in_urdu(client: Client) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    body = client.get("/accounts/login/").content.decode()
    assert 'dir="rtl"' in body
    for urdu in ("سائن اِن", "صارف نام", "پاس ورڈ", "جاری رکھیں", "مرکزی مواد پر جائیں"):
        assert urdu in body


def _shell_msgids() -> set[str]:
    """Every msgid the shell's and the accounts' templates and modules declare."""
    po = (LOCALE / "django.po").read_text(encoding="utf-8")
    shell_sources = (
        "templates/base.html",
        "templates/core/",
        "templates/accounts/",
        "templates/403.html",
        "templates/404.html",
        "templates/400.html",
        "templates/500.html",
        "core/templatetags/shell.py",
        "accounts/",
        "ops/",
    )
    untranslated = set()
    for entry in po.split("\n\n"):
        locations = " ".join(line for line in entry.splitlines() if line.startswith("#:"))
        if not any(source in locations for source in shell_sources):
            continue
        if re.search(r'^msgstr(\[0\])? ""\s*$', entry, re.M) and not re.search(
            r'^msgstr(\[0\])? ""\n"', entry, re.M
        ):
            untranslated.add(entry.split("msgid ", 1)[1].split("\n")[0])
    return untranslated


def test_every_string_of_the_shell_is_translated_to_urdu() -> None:
    assert _shell_msgids() == set()


@pytest.mark.parametrize(
    "po",
    sorted(Path(settings.PACKAGE_DIR).glob("**/locale/ur/LC_MESSAGES/django.po")),
    ids=lambda po: str(po.relative_to(settings.PACKAGE_DIR)),
)
def test_the_compiled_urdu_catalogue_is_up_to_date(po: Path, tmp_path: Path) -> None:
    # Compare what the catalogues say, not file times: a fresh clone or a rebase writes files
    # in any order.
    mo = po.with_suffix(".mo")
    assert mo.exists()
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po)], check=True)
    with mo.open("rb") as committed, fresh.open("rb") as compiled:
        assert gettext.GNUTranslations(committed)._catalog == (  # type: ignore[attr-defined]
            gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
        )


@pytest.mark.parametrize(
    "mo",
    sorted(Path(settings.PACKAGE_DIR).glob("**/locale/ur/LC_MESSAGES/django.mo")),
    ids=lambda mo: str(mo.relative_to(settings.PACKAGE_DIR)),
)
def test_no_urdu_translation_says_its_text_twice(mo: Path) -> None:
    # A fill script that replaced only a wrapped translation's first line left the old lines
    # after it: the register's confidentiality note read twice in a row.
    with mo.open("rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    doubled = [
        text
        for text in catalog.values()
        if len(text) > 10 and len(text) % 2 == 0 and text[: len(text) // 2] * 2 == text
    ]
    assert doubled == []


@pytest.mark.django_db
def test_navigation_follows_the_role(people: People) -> None:
    admin_page = signed_in(people.administrator).get("/").content.decode()
    assert 'href="/accounts/users/"' in admin_page
    assert 'href="/accounts/clients/"' in admin_page
    investigator_page = signed_in(people.lahore_investigator).get("/").content.decode()
    assert 'href="/accounts/users/"' not in investigator_page


@pytest.mark.django_db
def test_forms_tie_errors_to_their_fields(client: Client) -> None:
    body = client.post("/accounts/login/", {"username": "", "password": ""}).content.decode()
    assert 'id="id_username-errors"' in body
    assert 'aria-describedby="id_username-errors"' in body
    assert 'aria-invalid="true"' in body
    assert '<label for="id_username">' in body
    assert 'class="skip-link" href="#main"' in body


def test_the_api_documentation_loads_nothing_from_other_sites(client: Client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', response.content.decode())
    assert sources
    assert all(source.startswith("/static/") for source in sources)


@pytest.mark.django_db
def test_the_django_admin_is_not_served(client: Client) -> None:
    assert client.get("/admin/").status_code == 404


def test_htmx_is_vendored_with_its_licence() -> None:
    vendor = Path(settings.PACKAGE_DIR) / "static" / "vendor" / "htmx"
    assert (vendor / "htmx.min.js").stat().st_size > 40_000
    assert "Zero-Clause BSD" in (vendor / "LICENSE").read_text(encoding="utf-8")


@pytest.mark.django_db
def test_the_favicon_is_found_not_a_404(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")
