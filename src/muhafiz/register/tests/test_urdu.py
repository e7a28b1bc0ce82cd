"""The register pages speak Urdu, right to left, from the app's own catalogue."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_noop

from muhafiz.register.tests.conftest import RegisterPeople
from muhafiz.testing import signed_in


def test_register_pages_in_urdu_read_right_to_left(rp: RegisterPeople) -> None:
    client = signed_in(rp.register_officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get("/register/").content.decode()
    assert 'dir="rtl"' in html
    assert "جنسی مجرموں کا رجسٹر" in html
    rules = client.get("/register/rules/").content.decode()
    assert "مدتیں اور آخری تاریخیں" in rules


def test_errors_are_translated_too(rp: RegisterPeople) -> None:
    client = signed_in(rp.employer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    response = client.post(
        "/register/vetting/",
        {
            "organisation": "School",
            "position": "Teacher",
            "applicant_cnic": "35202-1234567-1",
            "consent_reference": "C-1",
            "consent_given_on": "2020-01-01",
        },
    )
    assert "رضامندی 90 دن سے پرانی ہے" in response.content.decode()


def test_an_alert_raised_in_english_reads_in_the_readers_language(rp: RegisterPeople) -> None:
    """Alerts are raised by jobs with English active; the reader's page puts them in Urdu."""
    from django.utils import translation

    from muhafiz.register.models import AlertKind
    from muhafiz.register.support import raise_alerts

    with translation.override("en"):
        raise_alerts(
            [rp.register_officer.pk],
            AlertKind.ABSCONDER,
            gettext_noop("%(code)s has not complied and is flagged as an absconder."),
            params={"code": "REG-000042"},
            link="/register/",
            dedupe_key="absconder:test",
        )
    client = signed_in(rp.register_officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get("/register/").content.decode()
    # The reference is isolated (core.words) so that it keeps its order in the Urdu sentence.
    isolated = "\u2068REG-000042\u2069"
    assert f"{isolated} نے تعمیل نہیں کی اور اسے مفرور قرار دیا گیا ہے۔" in html
    assert "has not complied" not in html
    english = signed_in(rp.register_officer).get("/register/").content.decode()
    assert "REG-000042 has not complied and is flagged as an absconder." in english


def test_what_is_due_is_named_in_urdu_not_by_its_code(
    rp: RegisterPeople, lahore_case: Any, accused: Any, convict: Any
) -> None:
    convict(lahore_case, accused, "2 years")  # a pending entry for the register officer
    client = signed_in(rp.register_officer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get("/register/").content.decode()
    assert "سزا سے بننے والا اندراج" in html
    assert "pending_entry<" not in html and "— <bdi>pending_entry" not in html


def test_every_kind_the_queue_names_has_a_title_in_both_languages() -> None:
    from muhafiz.register.models import ObligationKind
    from muhafiz.register.selectors import DUE_KINDS, DueItem

    kinds = {"pending_entry", "removal_due", "absconder", "review_due", "organisation_applied"}
    kinds |= {f"{kind}_due" for kind in ObligationKind.values} | {"check_awaiting"}
    assert kinds <= set(DUE_KINDS)
    for kind in kinds:
        item = DueItem(kind, "REG-1", None, "/register/")
        with translation.override("en"):
            english = item.title
        with translation.override("ur"):
            assert item.title != english, kind
