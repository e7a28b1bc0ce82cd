"""API clients hold a profile, not a list of permissions. An administrator alone cannot mint a
token that reads case content; a profile that reads identities needs a second person's approval,
follows the consent rules people follow, and is audited on every call."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from muhafiz.accounts import actions as accounts
from muhafiz.accounts.models import ApiClient
from muhafiz.accounts.roles import Role
from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Case, Victim
from muhafiz.cases.tests.conftest import VICTIM_NAME
from muhafiz.catalogue.models import District
from muhafiz.testing import People, agency, bearer, make_api_client, make_user, signed_in

PURPOSE = {"purpose": "Preparing the statement before the magistrate"}
CONTENT_SCOPES = ["case.view", "victim.identity", "evidence.view", "welfare.view", "audit.view"]


def _identity(client: Client, case: Case, victim: Victim) -> int:
    url = f"/api/v1/cases/{case.reference}/victims/{victim.pseudonym}/identity"
    return int(client.post(url, PURPOSE, content_type="application/json").status_code)


def _mint_through_the_page(people: People, **form: object) -> str:
    """What an administrator gets from the page; empty when no token was minted."""
    lahore = District.objects.get(code="LHR")
    data = {
        "name": "Punjab Police case system",
        "agency": str(agency().pk),
        "jurisdiction_level": "district",
        "province": str(lahore.province_id),
        "district": str(lahore.pk),
        "profile": "case_system_identity",
        "scopes": CONTENT_SCOPES,  # what the old form took; a profile now decides
        **form,
    }
    response = signed_in(people.administrator).post("/accounts/clients/new/", data)
    body = response.content.decode()
    if 'data-testid="api-token">' not in body:
        return ""
    return body.split('data-testid="api-token">')[1].split("<")[0]


def test_an_administrator_alone_cannot_mint_a_token_that_reads_case_content(
    people: People, lahore_case: Case, victim: Victim
) -> None:
    for level in ("district", "national"):
        token = _mint_through_the_page(
            people, name=f"case system {level}", jurisdiction_level=level
        )
        if not token:
            continue
        client = bearer(token)
        assert client.get("/api/v1/accounts/me").json()["permissions"] == []
        # Refused: 'not yours' answers like 'not there' to a caller who may not know the case.
        assert client.get(f"/api/v1/cases/{lahore_case.reference}").status_code in (403, 404)
        assert _identity(client, lahore_case, victim) in (403, 404)
        assert client.get("/api/v1/audit/events").status_code == 403
    assert not AuditEvent.objects.filter(action="victim.identity.view").exists()


def test_a_second_person_approves_an_identity_profile_and_every_call_is_audited(
    people: People, lahore_case: Case, victim: Victim
) -> None:
    token = _mint_through_the_page(people)
    client_row = ApiClient.objects.get(name="Punjab Police case system")
    assert client_row.awaiting_approval
    # Neither the administrator who made it, nor a supervisor of another district, approves.
    kasur_supervisor = make_user("sup.kasur", Role.SUPERVISOR, district_code="KSR")
    for who in (people.administrator, kasur_supervisor, people.lahore_investigator):
        with pytest.raises(PermissionDenied):
            accounts.approve_api_client(who, client_row, reason="test")
    supervisor = signed_in(people.lahore_supervisor)
    listing = supervisor.get("/accounts/clients/approvals/").content.decode()
    assert f'data-approve="{client_row.pk}"' in listing
    response = supervisor.post(
        f"/accounts/clients/{client_row.pk}/approve/", {"reason": "Punjab Police CMS link"}
    )
    assert response.status_code == 302
    client_row.refresh_from_db()
    assert client_row.approved_by == people.lahore_supervisor
    approved = AuditEvent.objects.get(action="accounts.api_client_approved")
    assert approved.actor_name == people.lahore_supervisor.username

    client = bearer(token)
    before = AuditEvent.objects.filter(action="accounts.api_client_used").count()
    assert _identity(client, lahore_case, victim) == 200
    assert client.get(f"/api/v1/cases/{lahore_case.reference}").status_code == 200
    used = AuditEvent.objects.filter(action="accounts.api_client_used").order_by("sequence")
    assert used.count() == before + 2
    assert used.last().details["path"] == f"/api/v1/cases/{lahore_case.reference}"  # type: ignore[union-attr]
    assert VICTIM_NAME not in str(list(used.values("details", "reason")))


def test_a_client_reads_an_identity_only_with_the_victims_consent_to_sharing(
    people: People, lahore_case: Case, victim: Victim
) -> None:
    _row, token = make_api_client("case_system_identity", level="district", district_code="LHR")
    client = bearer(token)
    Victim.objects.filter(pk=victim.pk).update(consent_sharing=False)
    assert _identity(client, lahore_case, victim) == 403
    Victim.objects.filter(pk=victim.pk).update(consent_sharing=True)
    assert _identity(client, lahore_case, victim) == 200


def test_an_agencys_case_system_reads_only_its_own_agencys_cases(
    people: People, lahore_case: Case
) -> None:
    agency("FIA", "cybercrime", "Federal Investigation Agency")
    _mine, own = make_api_client("case_system", level="district", district_code="LHR")
    _theirs, other = make_api_client(
        "case_system", level="district", district_code="LHR", agency_code="FIA"
    )
    assert bearer(own).get(f"/api/v1/cases/{lahore_case.reference}").status_code == 200
    refused = bearer(other).get(f"/api/v1/cases/{lahore_case.reference}").status_code
    assert refused in (403, 404)
    listed = bearer(other).get("/api/v1/cases/").content.decode()
    assert lahore_case.reference not in listed
    assert lahore_case.reference in bearer(own).get("/api/v1/cases/").content.decode()
