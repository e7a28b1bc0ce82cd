"""The reason an administrator or approver gives has one limit (issue 9): `actions.
REASON_MAX_LENGTH`, used by the pages, the API and the actions themselves. An over-long reason
is refused with the error shown (page) or a 400 (API), and nothing changes: no deactivation,
no approval, no audit row.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from muhafiz.accounts import actions
from muhafiz.accounts.models import ApiClient, User
from muhafiz.audit.models import AuditEvent
from muhafiz.testing import People, make_api_client, signed_in

pytestmark = pytest.mark.django_db

TOO_LONG = "r" * (actions.REASON_MAX_LENGTH + 1)


def test_the_action_refuses_an_over_long_reason_and_changes_nothing(people: People) -> None:
    # Before: the action took any reason the audit log would (2,000 characters), so the
    # command line and any other caller had another limit than the pages and the API.
    with pytest.raises(ValidationError) as caught:
        actions.deactivate_user(people.administrator, people.analyst, reason=TOO_LONG)
    assert "reason" in caught.value.message_dict
    assert User.objects.get(pk=people.analyst.pk).is_active
    assert not AuditEvent.objects.filter(action="accounts.user_deactivated").exists()


def test_the_page_refuses_an_over_long_reason_with_the_error_shown(people: People) -> None:
    admin = signed_in(people.administrator)
    response = admin.post(
        f"/accounts/users/{people.analyst.pk}/deactivate/", {"reason": TOO_LONG}, follow=True
    )
    assert response.status_code == 200
    assert f"at most {actions.REASON_MAX_LENGTH} characters" in response.content.decode()
    assert User.objects.get(pk=people.analyst.pk).is_active
    assert not AuditEvent.objects.filter(action="accounts.user_deactivated").exists()


def _waiting_client() -> ApiClient:
    client, _token = make_api_client("audit_reader", approved=False)
    assert isinstance(client, ApiClient)
    return client


def test_an_approval_with_an_over_long_reason_is_refused_on_the_page(people: People) -> None:
    # Before: the page dropped the invalid reason and approved the client without one.
    client = _waiting_client()
    response = signed_in(people.auditor).post(
        f"/accounts/clients/{client.pk}/approve/", {"reason": TOO_LONG}, follow=True
    )
    assert response.status_code == 200
    assert f"at most {actions.REASON_MAX_LENGTH} characters" in response.content.decode()
    client.refresh_from_db()
    assert client.approved_at is None
    assert not AuditEvent.objects.filter(action__contains="approved").exists()


def test_an_approval_with_an_over_long_reason_is_refused_by_the_api(people: People) -> None:
    client = _waiting_client()
    response = signed_in(people.auditor).post(
        f"/api/v1/accounts/clients/{client.pk}/approve",
        {"reason": TOO_LONG},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "reason" in str(response.json()["error"]["details"])
    client.refresh_from_db()
    assert client.approved_at is None


def test_a_reason_at_the_limit_is_taken(people: People) -> None:
    client = _waiting_client()
    response = signed_in(people.auditor).post(
        f"/accounts/clients/{client.pk}/approve/",
        {"reason": "r" * actions.REASON_MAX_LENGTH},
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.approved_at is not None
