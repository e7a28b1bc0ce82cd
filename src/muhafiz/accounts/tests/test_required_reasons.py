"""A reason required wherever a page says one is recorded (issue 15, item 8): approving an API
client and changing a person's account. The page, the API and the action itself refuse an empty
or blank reason with the reason field named, and nothing is written: no approval, no change, no
audit row."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError

from muhafiz.accounts import actions
from muhafiz.accounts.models import ApiClient, User
from muhafiz.accounts.roles import Role
from muhafiz.audit.models import AuditEvent
from muhafiz.testing import People, make_api_client, signed_in

pytestmark = pytest.mark.django_db

BLANKS = ["", "   "]


def _waiting_client() -> ApiClient:
    client, _token = make_api_client("audit_reader", approved=False)
    assert isinstance(client, ApiClient)
    return client


def _not_approved(client: ApiClient) -> None:
    client.refresh_from_db()
    assert client.approved_at is None and client.approved_by is None
    assert not AuditEvent.objects.filter(action="accounts.api_client_approved").exists()


@pytest.mark.parametrize("blank", BLANKS)
def test_the_approval_action_refuses_a_blank_reason(people: People, blank: str) -> None:
    client = _waiting_client()
    with pytest.raises(ValidationError) as caught:
        actions.approve_api_client(people.auditor, client, reason=blank)
    assert "reason" in caught.value.message_dict
    _not_approved(client)


def test_the_approval_action_still_checks_the_approver_first(people: People) -> None:
    # Permission before validation: a person who may not approve learns nothing about the form.
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        actions.approve_api_client(people.lahore_investigator, _waiting_client(), reason="")


@pytest.mark.parametrize("language", ["en", "ur"])
def test_the_approval_page_refuses_an_empty_reason_and_says_why(
    people: People, language: str
) -> None:
    client = _waiting_client()
    auditor = signed_in(people.auditor)
    auditor.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = auditor.get("/accounts/clients/approvals/").content.decode()
    # The field says it is required, in the page's language.
    assert ("(required)" if language == "en" else "(لازمی)") in page
    response = auditor.post(f"/accounts/clients/{client.pk}/approve/", {"reason": " "}, follow=True)
    assert response.status_code == 200
    body = response.content.decode()
    if language == "en":
        assert "Say why: the reason is written to the audit log." in body
    else:
        assert "وجہ بتائیں: وجہ آڈٹ لاگ میں لکھی جاتی ہے۔" in body
    _not_approved(client)


@pytest.mark.parametrize("payload", [{}, {"reason": ""}, {"reason": "   "}])
def test_the_approval_api_refuses_a_missing_or_blank_reason_naming_the_field(
    people: People, payload: dict[str, str]
) -> None:
    client = _waiting_client()
    response = signed_in(people.auditor).post(
        f"/api/v1/accounts/clients/{client.pk}/approve", payload, content_type="application/json"
    )
    assert response.status_code == 400
    assert "reason" in str(response.json()["error"]["details"])
    _not_approved(client)


def test_the_approval_with_a_reason_is_taken_and_audited_with_it(people: People) -> None:
    client = _waiting_client()
    response = signed_in(people.auditor).post(
        f"/api/v1/accounts/clients/{client.pk}/approve",
        {"reason": "  audit copy for the inspector  "},
        content_type="application/json",
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="accounts.api_client_approved")
    assert event.reason == "audit copy for the inspector"


def _edit_form(person: User) -> dict[str, str]:
    return {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "phone": person.phone,
        "role": Role.SUPERVISOR.value,
        "agency": str(person.agency_id),
        "jurisdiction_level": person.jurisdiction_level,
        "province": str(person.province_id or ""),
        "district": str(person.district_id or ""),
    }


@pytest.mark.parametrize("language", ["en", "ur"])
def test_the_account_page_refuses_a_change_without_a_reason(people: People, language: str) -> None:
    person = people.kasur_investigator
    admin = signed_in(people.administrator)
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = admin.post(
        f"/accounts/users/{person.pk}/edit/", {**_edit_form(person), "reason": ""}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    body = response.content.decode()
    if language == "en":
        assert "Say why: the reason is written to the audit log." in body
    else:
        assert "وجہ بتائیں: وجہ آڈٹ لاگ میں لکھی جاتی ہے۔" in body
    person.refresh_from_db()
    assert person.role == Role.INVESTIGATOR
    assert not AuditEvent.objects.filter(action="accounts.user_changed").exists()


@pytest.mark.parametrize("blank", BLANKS)
def test_the_account_change_action_refuses_a_blank_reason(people: People, blank: str) -> None:
    person = people.kasur_investigator
    with pytest.raises(ValidationError) as caught:
        actions.update_user(
            people.administrator, person, {"role": Role.SUPERVISOR.value}, reason=blank
        )
    assert "reason" in caught.value.message_dict
    person.refresh_from_db()
    assert person.role == Role.INVESTIGATOR
    assert not AuditEvent.objects.filter(action="accounts.user_changed").exists()


@pytest.mark.parametrize(
    "name",
    ["deactivate_user", "reactivate_user", "unlock_user", "reset_password", "reset_two_factor"],
)
def test_every_account_action_whose_page_requires_a_reason_requires_it_too(
    people: People, name: str
) -> None:
    before = people.analyst.password
    with pytest.raises(ValidationError):
        getattr(actions, name)(people.administrator, people.analyst, reason=" ")
    people.analyst.refresh_from_db()
    assert people.analyst.is_active and people.analyst.password == before
    assert (
        not AuditEvent.objects.filter(object_id=str(people.analyst.pk))
        .exclude(action="accounts.user_created")
        .exists()
    )
