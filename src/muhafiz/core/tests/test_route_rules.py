"""Every page and every API operation declares who may use it, and the declaration holds.

The URL map and the API are walked as they are at run time, so a route added without
`@public`, `@signed_in`, `@requires(...)` (pages) or `@api_requires(...)`/`@api_signed_in`
(API) fails here, and so does a rule that the route does not enforce.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path

from muhafiz.core.permissions import (
    FIRST_FACTOR,
    PUBLIC,
    ROLE_GRANTS,
    SIGNED_IN,
    Perm,
    public,
)
from muhafiz.testing import People, UrlRoute, api_operations, signed_in, url_routes

KNOWN_RULES = {PUBLIC, SIGNED_IN, FIRST_FACTOR}
SIGN_IN_STEPS = ("/accounts/login/", "/accounts/verify/", "/accounts/enrol/", "/accounts/password/")
# What the administrator must never read: separation of duties.
CASE_CONTENT = frozenset(
    {
        Perm.CASE_VIEW,
        Perm.CASE_EDIT,
        Perm.CASE_CREATE,
        Perm.VICTIM_IDENTITY,
        Perm.WELFARE_VIEW,
        Perm.WELFARE_EDIT,
        Perm.EVIDENCE_VIEW,
        Perm.EVIDENCE_EDIT,
        Perm.MEDIA_REVEAL,
        Perm.REGISTER_REQUEST,
        Perm.REGISTER_APPROVE,
        Perm.REGISTER_MANAGE,
        Perm.INTAKE_HANDLE,
        Perm.AUDIT_VIEW,
    }
)


def rule_problem(rule: Any) -> str | None:
    """Why a declared rule is not acceptable, or None when it is."""
    if rule is None:
        return "no access rule"
    if isinstance(rule, tuple):
        if not rule or not all(isinstance(p, Perm) for p in rule):
            return f"rule {rule!r} is not a tuple of Perm"
        return None
    if rule not in KNOWN_RULES:
        return f"unknown rule {rule!r}"
    return None


def page_routes() -> list[UrlRoute]:
    return [r for r in url_routes() if not r.is_api]


def _request(client: Client, method: str, url: str) -> Any:
    if method == "GET":
        return client.get(url)
    return client.generic(method, url, data="{}", content_type="application/json")


def _page_response(client: Client, url: str) -> Any:
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


# --- every route has a rule --------------------------------------------------------------------


def test_every_page_declares_an_access_rule() -> None:
    problems = [
        f"{r.route} ({r.name}): {rule_problem(r.view_rule)}"
        for r in page_routes()
        if rule_problem(r.view_rule)
    ]
    assert problems == []


def test_every_api_operation_declares_an_access_rule() -> None:
    operations = api_operations()
    assert any(op.path == "/api/v1/accounts/me" for op in operations)
    problems = [
        f"{'/'.join(op.methods)} {op.path}: {rule_problem(op.rule)}"
        for op in operations
        if rule_problem(op.rule)
    ]
    assert problems == []


def test_every_api_url_is_walked_as_an_operation() -> None:
    """The URL walk hands API URLs over to the operation walk; none may fall between."""
    operation_paths = {op.sample_path.rstrip("/") for op in api_operations()}
    api_urls = {r.sample_path.rstrip("/") for r in url_routes() if r.is_api}
    assert api_urls
    assert api_urls <= operation_paths


def test_a_new_page_without_a_rule_fails_the_check() -> None:
    def undeclared(request: HttpRequest) -> HttpResponse:
        return HttpResponse("hello")

    @public
    def declared(request: HttpRequest) -> HttpResponse:
        return HttpResponse("hello")

    routes = url_routes([path("new/", undeclared), path("ok/", declared)])
    assert [rule_problem(r.view_rule) for r in routes] == ["no access rule", None]


def test_the_django_admin_is_not_mounted() -> None:
    """Its writes would bypass the named actions and so the audit log; administrators work
    through the audited pages of accounts and catalogue instead."""
    assert not any(r.route.startswith("admin/") for r in url_routes())


def test_there_is_no_self_service_password_reset() -> None:
    """Passwords are reset by an administrator only (a one-time password handed over)."""
    routes = url_routes()
    assert not [r.route for r in routes if "reset" in r.route and "accounts/users" not in r.route]
    public_accounts = {r.route for r in routes if r.view_rule == PUBLIC and "accounts/" in r.route}
    assert public_accounts == {"accounts/login/", "accounts/logout/"}


# --- the rules hold ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_anonymous_visitors_are_refused_on_every_non_public_page(
    client: Client,
) -> None:
    wrong = []
    for route in page_routes():
        if route.view_rule == PUBLIC:
            continue
        response = _page_response(client, route.sample_path)
        location = response.get("Location", "")
        to_sign_in = response.status_code == 302 and location.startswith("/accounts/login/")
        # Machine-facing pages (the HMA-compatible hash API) answer 401 instead of redirecting.
        if not (to_sign_in or response.status_code == 401):
            wrong.append(f"{route.route}: {response.status_code} {location}")
    assert wrong == []


@pytest.mark.django_db
def test_every_role_without_a_pages_permission_is_refused(people: People) -> None:
    checked, wrong = 0, []
    clients = {name: signed_in(person) for name, person in vars(people).items()}
    for route in page_routes():
        rule = route.view_rule
        if not isinstance(rule, tuple):
            continue
        for name, person in vars(people).items():
            if set(rule) <= ROLE_GRANTS.get(person.role, frozenset()):
                continue
            response = _page_response(clients[name], route.sample_path)
            checked += 1
            if response.status_code != 403:
                wrong.append(f"{name} on {route.route}: {response.status_code}")
    assert checked > 0
    assert wrong == []


@pytest.mark.django_db
def test_every_role_holding_a_pages_permission_gets_past_the_check(people: People) -> None:
    wrong = []
    for route in page_routes():
        rule = route.view_rule
        if not isinstance(rule, tuple):
            continue
        for name, person in vars(people).items():
            if not set(rule) <= ROLE_GRANTS.get(person.role, frozenset()):
                continue
            client = signed_in(person)
            client.raise_request_exception = False  # a missing sample object is not the point
            response = _page_response(client, route.sample_path)
            location = response.get("Location", "")
            if response.status_code == 403 or location.startswith(SIGN_IN_STEPS):
                wrong.append(f"{name} on {route.route}: {response.status_code} {location}")
            break
    assert wrong == []


@pytest.mark.django_db
def test_api_clients_of_every_profile_are_refused_operations_their_profile_lacks() -> None:
    from muhafiz.core.permissions import CLIENT_PROFILES
    from muhafiz.testing import make_api_client

    checked, wrong = 0, []
    for code, profile in CLIENT_PROFILES.items():
        _api_client, token = make_api_client(code)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        for op in api_operations():
            if not isinstance(op.rule, tuple) or set(op.rule) <= profile.perms:
                continue
            for method in op.methods:
                response = _request(client, method, op.sample_path)
                checked += 1
                if response.status_code != 403:
                    wrong.append(f"{method} {op.path} as {code}: {response.status_code}")
                elif response.json()["error"]["code"] != "forbidden":
                    wrong.append(f"{method} {op.path}: not the common error format")
    assert checked > 0
    assert wrong == []


@pytest.mark.django_db
def test_a_client_awaiting_its_second_approval_is_refused_everything() -> None:
    from muhafiz.core.permissions import CLIENT_PROFILES
    from muhafiz.testing import make_api_client

    wrong = []
    for code, profile in CLIENT_PROFILES.items():
        if not profile.needs_approval:
            continue
        _api_client, token = make_api_client(code, approved=False)
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
        for op in api_operations():
            if not isinstance(op.rule, tuple):
                continue
            for method in op.methods:
                response = _request(client, method, op.sample_path)
                if response.status_code != 403:
                    wrong.append(f"{method} {op.path} as unapproved {code}")
    assert wrong == []


@pytest.mark.django_db
def test_staff_without_an_operations_permission_are_refused(people: People) -> None:
    wrong = []
    for op in api_operations():
        if not isinstance(op.rule, tuple):
            continue
        for name, person in vars(people).items():
            if set(op.rule) <= ROLE_GRANTS.get(person.role, frozenset()):
                continue
            for method in op.methods:
                response = _request(signed_in(person), method, op.sample_path)
                if response.status_code != 403:
                    wrong.append(f"{name}: {method} {op.path} {response.status_code}")
            break
    assert wrong == []


@pytest.mark.django_db
def test_the_api_refuses_anonymous_callers_on_every_non_public_operation(client: Client) -> None:
    wrong = []
    for op in api_operations():
        if op.rule == PUBLIC:
            continue
        for method in op.methods:
            response = _request(client, method, op.sample_path)
            if response.status_code != 401:
                wrong.append(f"{method} {op.path}: {response.status_code}")
    assert wrong == []


@pytest.mark.django_db
def test_the_api_refuses_a_made_up_token(client: Client) -> None:
    response = client.get("/api/v1/accounts/me", HTTP_AUTHORIZATION="Bearer mhz_not-a-token")
    assert response.status_code == 401
    assert response.json() == {
        "error": {"code": "unauthenticated", "message": "Sign in or send a valid API token."}
    }


# --- separation of duties ----------------------------------------------------------------------


def test_the_administrator_role_grants_no_case_content() -> None:
    assert ROLE_GRANTS["administrator"] & CASE_CONTENT == frozenset()


@pytest.mark.django_db
def test_the_administrator_cannot_open_any_case_content_page_or_operation(
    people: People,
) -> None:
    admin = signed_in(people.administrator)
    wrong = []
    for route in page_routes():
        rule = route.view_rule
        if isinstance(rule, tuple) and set(rule) & CASE_CONTENT:
            response = _page_response(admin, route.sample_path)
            if response.status_code != 403:
                wrong.append(f"{route.route}: {response.status_code}")
    for op in api_operations():
        if isinstance(op.rule, tuple) and set(op.rule) & CASE_CONTENT:
            for method in op.methods:
                response = _request(admin, method, op.sample_path)
                if response.status_code != 403:
                    wrong.append(f"{method} {op.path}: {response.status_code}")
    assert wrong == []
