"""Sign-in: password, then a TOTP code; enrolment; lockout; idle expiry; one-time passwords."""

from __future__ import annotations

import time

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from muhafiz.accounts import actions
from muhafiz.accounts.middleware import LAST_SEEN_KEY
from muhafiz.accounts.roles import Role
from muhafiz.audit.models import AuditEvent
from muhafiz.testing import TEST_PASSWORD, People, device_of, make_user, signed_in, totp_code

pytestmark = pytest.mark.django_db


def give_password(client: Client, username: str, password: str = TEST_PASSWORD) -> None:
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/accounts/verify/"


def test_investigator_signs_in_with_password_then_code(people: People, client: Client) -> None:
    investigator = people.lahore_investigator
    give_password(client, investigator.username)
    # Past the password only: no page opens yet, every page sends to the second step.
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/verify/")

    response = client.post("/accounts/verify/", {"code": totp_code(device_of(investigator))})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="accounts.signed_in", actor_user=investigator).exists()


def test_the_session_id_changes_at_each_step_of_sign_in(people: People, client: Client) -> None:
    investigator = people.lahore_investigator
    client.get("/accounts/login/")
    give_password(client, investigator.username)
    after_password = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/accounts/verify/", {"code": totp_code(device_of(investigator))})
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != after_password


def test_one_persons_failures_do_not_lock_a_colleague_at_the_same_office(
    people: People,
) -> None:
    office = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT + 1):
        office.post("/accounts/login/", {"username": "inv.lahore", "password": "typo"})
    give_password(office, people.prosecutor.username)
    assert actions.is_locked(people.lahore_investigator)
    assert not actions.is_locked(people.prosecutor)


def test_sign_in_returns_to_the_page_asked_for(people: People, client: Client) -> None:
    response = client.post(
        "/accounts/login/?next=/accounts/users/",
        {"username": people.administrator.username, "password": TEST_PASSWORD},
    )
    assert response["Location"] == "/accounts/verify/"
    response = client.post(
        "/accounts/verify/", {"code": totp_code(device_of(people.administrator))}
    )
    assert response["Location"] == "/accounts/users/"


def test_a_page_opened_between_the_two_steps_is_shown_after_the_code(
    people: People, client: Client
) -> None:
    give_password(client, people.administrator.username)
    response = client.get("/accounts/clients/")
    assert response["Location"] == "/accounts/verify/?next=/accounts/clients/"
    client.get(response["Location"])
    code = totp_code(device_of(people.administrator))
    assert client.post("/accounts/verify/", {"code": code})["Location"] == "/accounts/clients/"


def test_sign_in_never_redirects_off_site(people: People, client: Client) -> None:
    client.post(
        "/accounts/login/",
        {
            "username": people.analyst.username,
            "password": TEST_PASSWORD,
            "next": "https://evil.example/steal",
        },
    )
    response = client.post("/accounts/verify/", {"code": totp_code(device_of(people.analyst))})
    assert response["Location"] == "/"


def test_wrong_password_says_so_and_warns_of_the_lockout(people: People, client: Client) -> None:
    response = client.post(
        "/accounts/login/", {"username": people.prosecutor.username, "password": "wrong"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "username or password is not right" in body
    assert "After 5 failed attempts" in body
    assert 'aria-describedby="form-errors"' in body


def test_wrong_code_is_refused_with_a_clear_error(people: People, client: Client) -> None:
    investigator = people.kasur_investigator
    give_password(client, investigator.username)
    right = totp_code(device_of(investigator))
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post("/accounts/verify/", {"code": wrong})
    assert response.status_code == 200
    body = response.content.decode()
    assert "That code is not right, or it has already been used" in body
    assert 'aria-invalid="true"' in body
    assert 'aria-describedby="id_code_helptext id_code-errors"' in body or (
        "id_code-errors" in body
    )
    assert client.get("/").status_code == 302
    # A mistyped code does not make the right one wait.
    response = client.post("/accounts/verify/", {"code": right})
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_malformed_code_is_refused_before_it_is_checked(people: People, client: Client) -> None:
    give_password(client, people.kasur_investigator.username)
    response = client.post("/accounts/verify/", {"code": "12ab56"})
    assert "Enter the six digits your app shows." in response.content.decode()
    response = client.post("/accounts/verify/", {"code": "1234567"})
    assert "Ensure this value has at most 6 characters" in response.content.decode()


def test_a_replayed_code_is_refused(people: People) -> None:
    prosecutor = people.prosecutor
    code = totp_code(device_of(prosecutor))
    first = Client()
    give_password(first, prosecutor.username)
    assert first.post("/accounts/verify/", {"code": code})["Location"] == "/"

    # Someone who watched the code being typed tries it again within the same 30 seconds.
    second = Client()
    give_password(second, prosecutor.username)
    response = second.post("/accounts/verify/", {"code": code})
    assert response.status_code == 200
    assert "already been used" in response.content.decode()
    assert second.get("/").status_code == 302


def test_five_wrong_passwords_lock_the_account_until_an_administrator_unlocks_it(
    people: People,
) -> None:
    analyst = people.analyst
    client = Client()
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post("/accounts/login/", {"username": analyst.username, "password": "x"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": analyst.username, "password": "x"})
    assert response.status_code == 429
    assert "Account locked" in response.content.decode()

    # The right password does not help while locked.
    response = client.post(
        "/accounts/login/", {"username": analyst.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 429
    body = response.content.decode()
    assert "until an administrator unlocks it" in body
    assert actions.is_locked(analyst)

    actions.unlock_user(people.administrator, analyst, reason="called the desk")
    assert not actions.is_locked(analyst)
    give_password(client, analyst.username)
    assert AuditEvent.objects.filter(action="accounts.user_unlocked").exists()


def test_wrong_codes_count_towards_the_lockout(people: People) -> None:
    auditor = people.auditor
    client = Client()
    give_password(client, auditor.username)
    right = totp_code(device_of(auditor))
    wrong = f"{(int(right) + 7) % 1_000_000:06d}"
    statuses = [
        client.post("/accounts/verify/", {"code": wrong}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[-1] == 429
    assert actions.is_locked(auditor)
    # Signed out, and the password alone no longer opens the door.
    assert client.get("/").status_code == 302
    response = client.post(
        "/accounts/login/", {"username": auditor.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 429


def test_an_idle_session_expires_with_a_clear_message(people: People) -> None:
    client = signed_in(people.lahore_investigator)
    assert client.get("/").status_code == 200
    session = client.session
    session[LAST_SEEN_KEY] = time.time() - settings.SESSION_IDLE_SECONDS - 1
    session.save()

    response = client.get("/", follow=True)
    assert response.redirect_chain[0][0].startswith("/accounts/login/")
    assert "Your session expired after inactivity" in response.content.decode()
    assert client.get("/").status_code == 302


def test_a_session_in_use_does_not_expire(people: People) -> None:
    client = signed_in(people.lahore_investigator)
    session = client.session
    session[LAST_SEEN_KEY] = time.time() - settings.SESSION_IDLE_SECONDS + 60
    session.save()
    assert client.get("/").status_code == 200


def test_first_sign_in_enrols_an_authenticator_with_a_qr_code(client: Client) -> None:
    newcomer = make_user("new.investigator", Role.INVESTIGATOR, with_totp=False)
    give_password(client, newcomer.username)
    response = client.get("/accounts/verify/")
    assert response["Location"] == "/accounts/enrol/"

    response = client.get("/accounts/enrol/")
    body = response.content.decode()
    assert response.status_code == 200
    assert '<img src="data:image/svg+xml' in body
    assert 'data-testid="totp-secret"' in body
    assert "no-store" in response["Cache-Control"]
    device = TOTPDevice.objects.get(user=newcomer, confirmed=False)

    wrong = f"{(int(totp_code(device)) + 1) % 1_000_000:06d}"
    response = client.post("/accounts/enrol/", {"code": wrong})
    assert "That code does not match" in response.content.decode()

    # The right code straight after a wrong one is accepted (no waiting; the lockout limits
    # guessing).
    response = client.post("/accounts/enrol/", {"code": totp_code(device)})
    assert response["Location"] == "/"
    assert TOTPDevice.objects.filter(user=newcomer, confirmed=True).count() == 1
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="accounts.two_factor_enrolled").exists()


def test_enrolment_is_not_offered_to_someone_who_has_an_authenticator(
    people: People, client: Client
) -> None:
    give_password(client, people.prosecutor.username)
    response = client.get("/accounts/enrol/")
    assert response["Location"] == "/accounts/verify/"
    assert not TOTPDevice.objects.filter(user=people.prosecutor, confirmed=False).exists()


def test_a_one_time_password_must_be_replaced_at_next_sign_in(people: People) -> None:
    officer = people.child_protection_officer
    one_time = actions.reset_password(people.administrator, officer, reason="forgot it")
    client = Client()
    give_password(client, officer.username, one_time)
    response = client.post("/accounts/verify/", {"code": totp_code(device_of(officer))})
    assert response["Location"] == "/accounts/password/"
    assert client.get("/")["Location"] == "/accounts/password/"

    response = client.post(
        "/accounts/password/",
        {"old_password": one_time, "new_password1": "short", "new_password2": "short"},
    )
    assert "This password is too short" in response.content.decode()

    new = "a long passphrase of my own choosing"
    response = client.post(
        "/accounts/password/",
        {"old_password": one_time, "new_password1": new, "new_password2": new},
    )
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    officer.refresh_from_db()
    assert not officer.must_change_password
    assert officer.check_password(new)


def test_a_deactivated_account_cannot_sign_in_and_its_session_ends(people: People) -> None:
    investigator = people.lahore_investigator
    session = signed_in(investigator)
    actions.deactivate_user(people.administrator, investigator, reason="left the service")
    assert session.get("/").status_code == 302
    response = Client().post(
        "/accounts/login/", {"username": investigator.username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200
    assert "username or password is not right" in response.content.decode()


def test_sign_out_needs_a_post_and_ends_the_session(people: People) -> None:
    client = signed_in(people.analyst)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/", follow=True)
    assert "You have signed out." in response.content.decode()
    assert client.get("/").status_code == 302


def test_a_persons_language_follows_them_to_their_next_sign_in(people: People) -> None:
    prosecutor = people.prosecutor
    first = signed_in(prosecutor)
    first.post("/i18n/setlang/", {"language": "ur", "next": "/"})
    prosecutor.refresh_from_db()
    assert prosecutor.preferred_language == "ur"
    assert AuditEvent.objects.filter(action="accounts.language_changed").count() == 1

    elsewhere = Client()  # another computer: no language cookie yet
    give_password(elsewhere, prosecutor.username)
    elsewhere.post("/accounts/verify/", {"code": totp_code(device_of(prosecutor))})
    assert '<html lang="ur" dir="rtl">' in elsewhere.get("/").content.decode()


def test_a_signed_in_person_opening_sign_in_goes_home(people: People) -> None:
    client = signed_in(people.analyst)
    assert client.get("/accounts/login/")["Location"] == "/"
