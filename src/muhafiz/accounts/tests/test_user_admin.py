"""The administrator manages people through audited actions, and reads no case content."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from muhafiz.accounts import actions
from muhafiz.accounts.models import User
from muhafiz.accounts.roles import JurisdictionLevel, Role
from muhafiz.audit.models import AuditEvent
from muhafiz.testing import People, agency, district, signed_in

pytestmark = pytest.mark.django_db


def new_user_form(**overrides: str) -> dict[str, str]:
    lahore = district("LHR", "Lahore")
    form = {
        "username": "inv.new",
        "first_name": "Bilal",
        "last_name": "Ahmed",
        "email": "bilal@example.org",
        "phone": "0300 1234567",
        "role": Role.INVESTIGATOR,
        "agency": str(agency().pk),
        "jurisdiction_level": JurisdictionLevel.DISTRICT,
        "province": "",
        "district": str(lahore.pk),
    }
    form.update(overrides)
    return form


def test_administrator_creates_an_account_and_sees_its_one_time_password_once(
    people: People,
) -> None:
    admin = signed_in(people.administrator)
    response = admin.post("/accounts/users/new/", new_user_form())
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = response.content.decode()
    password = body.split('data-testid="one-time-password">')[1].split("<")[0]
    created = User.objects.get(username="inv.new")
    assert created.check_password(password)
    assert created.must_change_password
    assert created.district is not None and created.district.code == "LHR"
    assert created.province == created.district.province
    event = AuditEvent.objects.get(action="accounts.user_created")
    assert event.actor_user == people.administrator
    assert event.object_id == str(created.pk)
    assert password not in str(event.details)


def test_over_long_fields_are_refused_with_clear_errors(people: People) -> None:
    admin = signed_in(people.administrator)
    response = admin.post(
        "/accounts/users/new/",
        new_user_form(username="u" * 151, first_name="f" * 151, phone="0" * 21),
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ensure this value has at most 150 characters (it has 151)." in body
    assert "Ensure this value has at most 20 characters (it has 21)." in body
    assert 'aria-describedby="id_username_helptext id_username-errors"' in body or (
        "id_username-errors" in body
    )
    assert not User.objects.filter(first_name="f" * 151).exists()


def test_a_district_account_needs_a_district(people: People) -> None:
    admin = signed_in(people.administrator)
    response = admin.post("/accounts/users/new/", new_user_form(district=""))
    assert "A district jurisdiction needs a district." in response.content.decode()
    assert not User.objects.filter(username="inv.new").exists()


def test_a_taken_username_is_refused(people: People) -> None:
    admin = signed_in(people.administrator)
    response = admin.post("/accounts/users/new/", new_user_form(username="inv.lahore"))
    assert "A user with that username already exists." in response.content.decode()


def test_administrator_changes_a_role_with_a_reason(people: People) -> None:
    admin = signed_in(people.administrator)
    investigator = people.kasur_investigator
    form = new_user_form(role=Role.SUPERVISOR, district=str(investigator.district_id))
    form.pop("username")
    form["reason"] = "promoted"
    response = admin.post(f"/accounts/users/{investigator.pk}/edit/", form)
    assert response.status_code == 302
    investigator.refresh_from_db()
    assert investigator.role == Role.SUPERVISOR
    event = AuditEvent.objects.get(action="accounts.user_changed")
    assert event.reason == "promoted"
    assert event.details["changed"]["role"] == ["investigator", "supervisor"]


@pytest.mark.parametrize(
    ("action", "audit_action"),
    [
        ("deactivate", "accounts.user_deactivated"),
        ("unlock", "accounts.user_unlocked"),
        ("reset-two-factor", "accounts.two_factor_reset"),
        ("reset-password", "accounts.password_reset"),
    ],
)
def test_each_account_action_is_audited_with_its_reason(
    people: People, action: str, audit_action: str
) -> None:
    target = people.analyst
    response = signed_in(people.administrator).post(
        f"/accounts/users/{target.pk}/{action}/", {"reason": "ticket 42"}
    )
    # A new one-time password is shown on a page once; every other action redirects back.
    assert response.status_code == (200 if action == "reset-password" else 302)
    event = AuditEvent.objects.get(action=audit_action)
    assert event.reason == "ticket 42"
    assert event.object_id == str(target.pk)
    assert event.client_address == "127.0.0.1"


def test_deactivation_and_reactivation(people: People) -> None:
    admin, target = people.administrator, people.analyst
    actions.deactivate_user(admin, target, reason="left")
    target.refresh_from_db()
    assert not target.is_active
    actions.reactivate_user(admin, target, reason="back")
    target.refresh_from_db()
    assert target.is_active


def test_resetting_two_factor_sends_the_person_to_enrol_again(people: People) -> None:
    target = people.prosecutor
    assert actions.reset_two_factor(people.administrator, target, reason="lost phone") == 1
    assert not TOTPDevice.objects.filter(user=target).exists()
    assert signed_in(target).get("/")["Location"].startswith("/accounts/verify/")


def test_an_administrator_cannot_deactivate_themselves(people: People) -> None:
    with pytest.raises(PermissionDenied):
        actions.deactivate_user(people.administrator, people.administrator, reason="test")
    response = signed_in(people.administrator).post(
        f"/accounts/users/{people.administrator.pk}/deactivate/", {"reason": "test"}, follow=True
    )
    assert "cannot deactivate their own account" in response.content.decode()
    people.administrator.refresh_from_db()
    assert people.administrator.is_active


def test_an_over_long_reason_is_refused(people: People) -> None:
    response = signed_in(people.administrator).post(
        f"/accounts/users/{people.analyst.pk}/deactivate/", {"reason": "r" * 501}, follow=True
    )
    assert "Ensure this value has at most 500 characters" in response.content.decode()
    people.analyst.refresh_from_db()
    assert people.analyst.is_active


def test_an_unknown_account_action_is_not_found(people: People) -> None:
    response = signed_in(people.administrator).post(
        f"/accounts/users/{people.analyst.pk}/delete-everything/"
    )
    assert response.status_code == 404


def test_only_administrators_manage_people(people: People, client: Client) -> None:
    for person in (people.lahore_investigator, people.lahore_supervisor, people.auditor):
        assert signed_in(person).get("/accounts/users/").status_code == 403
        with pytest.raises(PermissionDenied):
            actions.reset_password(person, people.analyst, reason="test")
    assert client.get("/accounts/users/")["Location"].startswith("/accounts/login/")


def test_the_people_page_shows_locked_and_unenrolled_accounts(people: People) -> None:
    TOTPDevice.objects.filter(user=people.analyst).delete()
    body = signed_in(people.administrator).get("/accounts/users/?q=analyst").content.decode()
    assert "No two-factor yet" in body
    assert "inv.lahore" not in body


def test_the_administrator_holds_no_case_permission(people: People) -> None:
    from muhafiz.core.permissions import Perm, has_perm

    admin = people.administrator
    for perm in (Perm.CASE_VIEW, Perm.VICTIM_IDENTITY, Perm.EVIDENCE_VIEW, Perm.MEDIA_REVEAL):
        assert not has_perm(admin, perm)
    assert has_perm(admin, Perm.USER_MANAGE)


@pytest.mark.parametrize(
    "action", ["reset-password", "reset-two-factor", "deactivate", "unlock", "reactivate"]
)
def test_an_account_change_without_a_reason_is_refused_and_changes_nothing(
    people: People, action: str
) -> None:
    target = people.analyst
    before = target.password
    response = signed_in(people.administrator).post(
        f"/accounts/users/{target.pk}/{action}/", {"reason": "  "}, follow=True
    )
    assert "the reason is written to the audit log" in response.content.decode()
    target.refresh_from_db()
    assert target.password == before and target.is_active
    assert (
        not AuditEvent.objects.filter(action__startswith="accounts.")
        .exclude(action__in=["accounts.user_created"])
        .filter(object_id=str(target.pk))
        .exists()
    )
