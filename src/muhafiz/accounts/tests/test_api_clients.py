"""API clients: created by an administrator with scopes, token shown once, bearer auth."""

from __future__ import annotations

import pytest
from django.test import Client

from muhafiz.accounts import actions, tokens
from muhafiz.accounts.models import ApiClient
from muhafiz.accounts.roles import JurisdictionLevel
from muhafiz.audit.models import AuditEvent
from muhafiz.core.permissions import Perm
from muhafiz.testing import People, agency, district, signed_in

pytestmark = pytest.mark.django_db


def create_client_through_the_page(people: People, **overrides: object) -> str:
    form: dict[str, object] = {
        "name": "Punjab forensic lab LIMS",
        "agency": str(agency().pk),
        "jurisdiction_level": JurisdictionLevel.PROVINCE,
        "province": str(district("LHR", "Lahore").province_id),
        "district": "",
        "profile": "hma_matcher",
    }
    form.update(overrides)
    response = signed_in(people.administrator).post("/accounts/clients/new/", form)
    assert response.status_code == 200
    body = response.content.decode()
    assert "no-store" in response["Cache-Control"]
    return body.split('data-testid="api-token">')[1].split("<")[0]


def test_the_token_is_shown_once_and_stored_only_as_a_digest(people: People) -> None:
    token = create_client_through_the_page(people)
    client = ApiClient.objects.get(name="Punjab forensic lab LIMS")
    assert client.token_hash == tokens.digest(token)
    assert token not in str(ApiClient.objects.values().get(pk=client.pk))
    assert client.scopes == ["bank.view", "hash.match"]
    listing = signed_in(people.administrator).get("/accounts/clients/").content.decode()
    assert token not in listing
    assert f"mhz_{client.token_prefix}" in listing
    event = AuditEvent.objects.get(action="accounts.api_client_created")
    assert token not in str(event.details)


def test_me_answers_for_an_api_client_with_its_scopes(people: People) -> None:
    token = create_client_through_the_page(people)
    response = Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    me = response.json()
    assert me["kind"] == "client"
    assert me["name"] == "Punjab forensic lab LIMS"
    assert me["role"] is None
    assert me["permissions"] == ["bank.view", "hash.match"]
    assert me["jurisdiction"] == {"level": "province", "province": "PB", "district": None}
    assert ApiClient.objects.get().last_used_at is not None


def test_me_answers_for_a_signed_in_person(people: People) -> None:
    response = signed_in(people.kasur_investigator).get("/api/v1/accounts/me")
    me = response.json()
    assert me["kind"] == "user"
    assert me["role"] == "investigator"
    assert "case.view" in me["permissions"]
    assert me["jurisdiction"] == {"level": "district", "province": "PB", "district": "KSR"}


def test_a_person_past_the_password_only_is_not_signed_in_to_the_api(people: People) -> None:
    client = Client()
    client.force_login(people.analyst)
    assert client.get("/api/v1/accounts/me").status_code == 401


def test_a_person_who_must_change_password_is_not_let_into_the_api(people: People) -> None:
    actions.reset_password(people.administrator, people.analyst, reason="forgot it")
    people.analyst.refresh_from_db()
    assert signed_in(people.analyst).get("/api/v1/accounts/me").status_code == 401


def test_a_revoked_token_stops_working(people: People) -> None:
    token = create_client_through_the_page(people)
    api_client = ApiClient.objects.get()
    response = signed_in(people.administrator).post(
        f"/accounts/clients/{api_client.pk}/revoke/", {"reason": "laptop stolen"}
    )
    assert response.status_code == 302
    response = Client().get("/api/v1/accounts/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert AuditEvent.objects.get(action="accounts.api_client_revoked").reason == "laptop stolen"


def test_an_api_client_holds_a_profile_never_a_list_of_permissions(people: People) -> None:
    response = signed_in(people.administrator).post(
        "/accounts/clients/new/",
        {
            "name": "x",
            "agency": str(agency().pk),
            "jurisdiction_level": "national",
            "profile": "user_admin",
            "scopes": [Perm.USER_MANAGE.value],
        },
    )
    assert "is not one of the available choices" in response.content.decode()
    with pytest.raises(Exception, match="API client"):
        actions.create_api_client(
            people.administrator,
            name="y",
            agency=agency(),
            profile=Perm.USER_MANAGE.value,
            jurisdiction_level="national",
        )
    assert not ApiClient.objects.exists()


def test_an_over_long_client_name_is_refused(people: People) -> None:
    response = signed_in(people.administrator).post(
        "/accounts/clients/new/",
        {
            "name": "n" * 151,
            "agency": str(agency().pk),
            "jurisdiction_level": "national",
            "profile": "statistics_reader",
        },
    )
    assert "Ensure this value has at most 150 characters (it has 151)." in (
        response.content.decode()
    )


def test_only_administrators_create_api_clients(people: People) -> None:
    assert signed_in(people.forensic_examiner).get("/accounts/clients/new/").status_code == 403


def test_a_browser_session_needs_the_csrf_token_to_write_through_the_api(
    people: People,
) -> None:
    from muhafiz.core.permissions import ROLE_GRANTS
    from muhafiz.testing import api_operations

    grants = ROLE_GRANTS["investigator"]
    writes = [
        op
        for op in api_operations()
        if "POST" in op.methods and isinstance(op.rule, tuple) and set(op.rule) <= grants
    ]
    if not writes:
        pytest.skip("no API write open to an investigator yet")
    client = signed_in(people.lahore_investigator)
    client.handler.enforce_csrf_checks = True
    response = client.post(writes[0].sample_path, data="{}", content_type="application/json")
    assert response.status_code == 401

    client.get("/")  # the page sets the CSRF cookie, as a browser would have it
    token = client.cookies["csrftoken"].value
    response = client.post(
        writes[0].sample_path, data="{}", content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code != 401


def test_the_client_list_names_each_profile_in_urdu(people: People) -> None:
    # Before: the list showed the profile's English label on the Urdu page.
    from django.conf import settings

    from muhafiz.core.permissions import CLIENT_PROFILES
    from muhafiz.testing import make_api_client

    for code in CLIENT_PROFILES:
        make_api_client(code, name=f"client {code}", approved=False)
    browser = signed_in(people.administrator)
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = browser.get("/accounts/clients/").content.decode()
    for profile in CLIENT_PROFILES.values():
        assert profile.label not in html, profile.label
    for urdu in ("ہیش ملانے والا", "ایچ ایم اے ملانے والا", "اعداد و شمار پڑھنے والا"):
        assert urdu in html
