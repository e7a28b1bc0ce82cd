"""`create_administrator`: the first administrator, made at the command line and audited."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import JurisdictionLevel, Role
from muhafiz.audit.chain import verify_chain
from muhafiz.audit.models import ActorKind, AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only


def create(*args: str) -> str:
    out = StringIO()
    call_command("create_administrator", *args, stdout=out)
    return out.getvalue()


def one_time_password(output: str) -> str:
    found = re.search(r"One-time password \(shown only now\): (\S+)", output)
    assert found is not None, output
    return found.group(1)


def test_the_first_administrator_is_national_of_the_platform_operator_and_audited() -> None:
    output = create("ops.admin", "--first-name", "Ayesha", "--last-name", "Operator")
    admin = User.objects.select_related("agency").get(username="ops.admin")
    assert admin.role == Role.ADMINISTRATOR
    assert admin.jurisdiction_level == JurisdictionLevel.NATIONAL
    assert admin.province is None and admin.district is None
    assert admin.agency is not None and admin.agency.code == "MUHAFIZ"
    assert admin.must_change_password
    assert admin.first_name == "Ayesha"
    password = one_time_password(output)
    assert admin.check_password(password)
    event = AuditEvent.objects.get(action="accounts.administrator_created")
    assert event.actor_kind == ActorKind.SYSTEM
    assert event.reason == "first administrator of the installation"
    assert password not in str(event.details)
    assert verify_chain().ok


def test_the_one_time_password_leads_to_choosing_a_password_and_enrolling_two_factor() -> None:
    password = one_time_password(create("ops.admin"))
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "ops.admin", "password": password}, follow=True
    )
    # No authenticator yet: the steps lead to enrolment, never to a page of the platform.
    assert response.status_code == 200
    final = response.redirect_chain[-1][0]
    assert final.startswith(("/accounts/enrol/", "/accounts/password/")), response.redirect_chain
    people_page = client.get("/accounts/users/")
    assert people_page.status_code == 302
    assert people_page["Location"].startswith("/accounts/")


def test_an_agency_can_be_named() -> None:
    create("npb.admin", "--agency", "NPB")
    admin = User.objects.select_related("agency").get(username="npb.admin")
    assert admin.agency is not None and admin.agency.code == "NPB"


def test_an_existing_username_is_refused_and_nothing_is_written() -> None:
    create("ops.admin")
    events = AuditEvent.objects.count()
    with pytest.raises(CommandError, match="already exists"):
        create("OPS.admin")
    assert User.objects.filter(username__iexact="ops.admin").count() == 1
    assert AuditEvent.objects.count() == events


def test_an_unknown_agency_is_refused() -> None:
    with pytest.raises(CommandError, match="no agency 'NOPE'"):
        create("ops.admin", "--agency", "NOPE")
    assert not User.objects.filter(username="ops.admin").exists()


def test_a_malformed_username_is_refused_with_the_field_named() -> None:
    with pytest.raises(CommandError, match="username"):
        create("ops admin!")
    assert not User.objects.exists()
