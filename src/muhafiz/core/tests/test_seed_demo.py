"""`seed_demo`: one demo person per role with a known password and TOTP secret, idempotent."""

from __future__ import annotations

import base64
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import Role
from muhafiz.core.management.commands.seed_demo import DEMO_PASSWORD, DEMO_PEOPLE


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_the_demo_has_one_person_per_role_who_can_sign_in(db: None) -> None:
    output = seed()
    assert {p.role for p in DEMO_PEOPLE} == set(Role.values)
    for person in DEMO_PEOPLE:
        user = User.objects.get(username=person.username)
        assert user.role == person.role
        assert user.check_password(DEMO_PASSWORD)
        assert user.agency is not None
        assert person.totp_secret_base32 in output
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        key = base64.b32decode(person.totp_secret_base32)
        assert device.verify_token(f"{totp(key):06d}")
    assert "otpauth://totp/Muhafiz%3Ainv.lahore?secret=" in output
    assert "http://127.0.0.1:8000" in output
    kasur = User.objects.select_related("district").get(username="inv.kasur")
    assert kasur.district is not None
    assert kasur.district.code == "KSR"


def test_a_second_run_changes_nothing_and_prints_no_secret(db: None) -> None:
    seed()
    users = list(User.objects.values_list("pk", "password").order_by("pk"))
    output = seed()
    assert list(User.objects.values_list("pk", "password").order_by("pk")) == users
    assert DEMO_PASSWORD not in output
    assert DEMO_PEOPLE[0].totp_secret_base32 not in output
    assert DEMO_PEOPLE[0].totp_secret_base32 in seed("--show")


def test_the_demo_refuses_to_run_in_production(db: None, settings: Any) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="not in production"):
        seed()
    assert not User.objects.exists()
