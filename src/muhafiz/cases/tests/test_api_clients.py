"""API clients (bearer tokens with scopes) go through the same permission checks as people."""

from __future__ import annotations

from django.test import Client
from django.utils import timezone

from muhafiz.accounts.models import ApiClient
from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Case
from muhafiz.testing import People


def _client(
    name: str, district: str, profile: str, agency_code: str = "PB-POLICE"
) -> tuple[ApiClient, Client]:
    from muhafiz.testing import bearer, make_api_client

    api_client, token = make_api_client(
        profile, name=name, level="district", district_code=district, agency_code=agency_code
    )
    return api_client, bearer(token)


def test_a_lahore_intake_client_opens_a_case_that_a_kasur_client_cannot_read(
    people: People,
) -> None:
    _intake, lahore = _client("lahore-intake", "LHR", "case_system")
    _other, kasur = _client("kasur-intake", "KSR", "case_system")
    response = lahore.post(
        "/api/v1/cases/",
        {"district": "LHR", "agency": "PB-POLICE", "reported_at": timezone.now().isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    case = Case.objects.get()
    assert case.created_by is None
    assert AuditEvent.objects.get(action="case.create").actor_name == "lahore-intake"
    assert lahore.get(f"/api/v1/cases/{case.reference}").status_code == 200
    assert kasur.get(f"/api/v1/cases/{case.reference}").status_code == 404
    refused = kasur.post(
        "/api/v1/cases/",
        {"district": "LHR", "agency": "PB-POLICE", "reported_at": timezone.now().isoformat()},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"


def test_a_client_without_the_identity_scope_cannot_read_a_victim(
    people: People, lahore_case: Case, victim: object
) -> None:
    _c, client = _client("lahore-cases", "LHR", "case_system")
    code = lahore_case.victims.get().pseudonym
    response = client.post(
        f"/api/v1/cases/{lahore_case.reference}/victims/{code}/identity",
        {"purpose": "curious"},
        content_type="application/json",
    )
    assert response.status_code == 403


def _client_numbered_like(user: object, profile: str) -> tuple[ApiClient, Client]:
    """An API client (of another agency) whose database id is the same number as `user`'s."""
    from muhafiz.testing import agency

    agency("FIA", "cybercrime", "Federal Investigation Agency")
    api_client, client = _client(f"same-id-as-{user}", "LHR", profile, agency_code="FIA")
    ApiClient.objects.filter(pk=api_client.pk).update(id=user.pk)  # type: ignore[attr-defined]
    api_client.pk = user.pk  # type: ignore[attr-defined]
    return api_client, client


def test_a_client_numbered_like_a_team_member_is_not_on_the_team(
    people: People, lahore_case: Case, victim: object
) -> None:
    from muhafiz.core.permissions import Perm, has_perm

    member = people.lahore_investigator
    api_client, client = _client_numbered_like(member, "case_system_identity")
    assert api_client.pk == member.pk
    assert not has_perm(api_client, Perm.VICTIM_IDENTITY, lahore_case)
    code = lahore_case.victims.get().pseudonym
    response = client.post(
        f"/api/v1/cases/{lahore_case.reference}/victims/{code}/identity",
        {"purpose": "Statement before the magistrate"},
        content_type="application/json",
    )
    assert response.status_code in (403, 404)  # refused; 'not yours' may read as 'not there'
    assert not AuditEvent.objects.filter(action="victim.identity.view").exists()


def test_a_client_numbered_like_a_person_neither_reads_nor_marks_their_alerts(
    people: People, lahore_case: Case
) -> None:
    from muhafiz.cases.actions import raise_alert
    from muhafiz.core.permissions import SYSTEM

    officer = people.prosecutor
    alert, _created = raise_alert(
        SYSTEM, lahore_case, officer, "team", "Added to the team", dedupe_key="t:1"
    )
    _api_client, client = _client_numbered_like(officer, "case_system")
    assert client.get("/api/v1/cases/alerts").json() == []
    response = client.post(f"/api/v1/cases/alerts/{alert.pk}/read")
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.read_at is None
