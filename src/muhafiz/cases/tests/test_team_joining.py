"""Joining a case team: nobody adds themselves; a person asks, a supervisor of the case's
district approves or refuses, and both are audited. Identity, consents and evidence need the
team (or the oversight rule of the permission module)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import Role
from muhafiz.audit.models import AuditEvent
from muhafiz.cases import actions
from muhafiz.cases.models import Case, TeamJoinRequest, Victim
from muhafiz.cases.tests.conftest import VICTIM_NAME
from muhafiz.core.permissions import Perm, has_perm, oversees
from muhafiz.testing import People, make_user, signed_in

VIA = ["page", "api"]
PURPOSE = {"purpose": "Preparing the statement before the magistrate"}


@pytest.fixture
def newcomer(people: People) -> User:
    """A Lahore investigator who is on no team."""
    return make_user("inv.lahore.new", Role.INVESTIGATOR, district_code="LHR")


def _add_self(client: Client, case: Case, user: User, via: str) -> int:
    data = {"username": user.username, "team_role": "investigator"}
    if via == "page":
        return client.post(f"/cases/{case.reference}/team/", data).status_code
    url = f"/api/v1/cases/{case.reference}/team"
    return client.post(url, data, content_type="application/json").status_code


def _identity(client: Client, case: Case, victim: Victim, via: str) -> bool:
    if via == "page":
        url = f"/cases/{case.reference}/victims/{victim.pseudonym}/identity/"
        response = client.post(url, PURPOSE)
        return response.status_code == 200 and VICTIM_NAME in response.content.decode()
    url = f"/api/v1/cases/{case.reference}/victims/{victim.pseudonym}/identity"
    response = client.post(url, PURPOSE, content_type="application/json")
    return response.status_code == 200 and response.json()["name"] == VICTIM_NAME


def _set_consents(client: Client, case: Case, victim: Victim, via: str) -> int:
    if via == "page":
        url = f"/cases/{case.reference}/victims/{victim.pseudonym}/consents/"
        return client.post(url, {}).status_code  # every box unticked: all consents withdrawn
    url = f"/api/v1/cases/{case.reference}/victims/{victim.pseudonym}/consents"
    body = {"sharing": False, "referral": False, "statistics": False}
    return client.post(url, body, content_type="application/json").status_code


@pytest.mark.parametrize("via", VIA)
def test_an_investigator_of_the_district_cannot_add_themselves_to_a_team(
    newcomer: User, lahore_case: Case, victim: Victim, via: str
) -> None:
    client = signed_in(newcomer)
    assert _add_self(client, lahore_case, newcomer, via) == 403
    assert not lahore_case.team.filter(user=newcomer).exists()
    assert not _identity(client, lahore_case, victim, via)
    assert not AuditEvent.objects.filter(action="victim.identity.view").exists()


@pytest.mark.parametrize("via", VIA)
def test_an_investigator_off_the_team_cannot_change_a_victims_consents(
    newcomer: User, lahore_case: Case, victim: Victim, via: str
) -> None:
    assert _set_consents(signed_in(newcomer), lahore_case, victim, via) == 403
    victim.refresh_from_db()
    assert (victim.consent_sharing, victim.consent_referral, victim.consent_statistics) == (
        True,
        True,
        True,
    )
    assert not AuditEvent.objects.filter(action="victim.consent.update").exists()


def test_an_investigator_off_the_team_sees_no_evidence(newcomer: User, lahore_case: Case) -> None:
    assert not has_perm(newcomer, Perm.EVIDENCE_VIEW, lahore_case)
    assert not has_perm(newcomer, Perm.EVIDENCE_EDIT, lahore_case)
    client = signed_in(newcomer)
    assert client.get(f"/cases/{lahore_case.reference}/evidence/").status_code == 403
    url = f"/api/v1/evidence/cases/{lahore_case.reference}/items"
    assert client.get(url).status_code == 403
    # The case itself stays open to the district's investigators.
    assert client.get(f"/cases/{lahore_case.reference}/").status_code == 200


@pytest.mark.parametrize("via", VIA)
def test_joining_is_asked_then_approved_by_the_districts_supervisor(
    people: People, newcomer: User, lahore_case: Case, victim: Victim, via: str
) -> None:
    client = signed_in(newcomer)
    reason = "Taking over the investigation from the current officer"
    if via == "page":
        response = client.post(
            f"/cases/{lahore_case.reference}/team/request/",
            {"team_role": "investigator", "reason": reason},
        )
        assert response.status_code == 302
    else:
        response = client.post(
            f"/api/v1/cases/{lahore_case.reference}/team/requests",
            {"team_role": "investigator", "reason": reason},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
    join = TeamJoinRequest.objects.get()
    assert (join.user, join.requested_by, join.status) == (newcomer, newcomer, "requested")
    assert not _identity(client, lahore_case, victim, via)  # asking is not joining

    # The person who asked cannot approve it; nor can a team member who is no supervisor.
    for who in (newcomer, people.lahore_investigator):
        with pytest.raises(PermissionDenied):
            actions.decide_team_join(who, join, True)

    supervisor = signed_in(people.lahore_supervisor)
    if via == "page":
        page = supervisor.get(f"/cases/{lahore_case.reference}/").content.decode()
        assert f'data-approve="{join.pk}"' in page
        url = f"/cases/{lahore_case.reference}/team/requests/{join.pk}/approve/"
        assert supervisor.post(url).status_code == 302
    else:
        url = f"/api/v1/cases/{lahore_case.reference}/team/requests/{join.pk}/approve"
        response = supervisor.post(url, {}, content_type="application/json")
        assert response.status_code == 200, response.content
        assert response.json()["decided_by"] == people.lahore_supervisor.username
    join.refresh_from_db()
    assert (join.status, join.decided_by) == ("approved", people.lahore_supervisor)
    added = AuditEvent.objects.get(action="case.team.add", details__user_id=newcomer.pk)
    assert added.actor_name == people.lahore_supervisor.username
    assert added.details["approved_by"] == people.lahore_supervisor.pk
    assert added.details["join_request"] == join.pk
    assert AuditEvent.objects.filter(action="case.team.join_requested").count() == 1
    assert AuditEvent.objects.filter(action="case.team.join_approved").count() == 1
    assert _identity(client, lahore_case, victim, via)


@pytest.mark.parametrize("via", VIA)
def test_a_supervisor_refuses_a_request_with_a_reason(
    people: People, newcomer: User, lahore_case: Case, via: str
) -> None:
    join = actions.request_team_join(newcomer, lahore_case, "investigator", "Curious about it")
    supervisor = signed_in(people.lahore_supervisor)
    if via == "page":
        url = f"/cases/{lahore_case.reference}/team/requests/{join.pk}/refuse/"
        supervisor.post(url, {"note": ""})
        join.refresh_from_db()
        assert join.status == "requested"  # a refusal needs its reason
        supervisor.post(url, {"note": "Not needed on this case"})
    else:
        url = f"/api/v1/cases/{lahore_case.reference}/team/requests/{join.pk}/refuse"
        response = supervisor.post(url, {"note": ""}, content_type="application/json")
        assert response.status_code == 400
        response = supervisor.post(
            url, {"note": "Not needed on this case"}, content_type="application/json"
        )
        assert response.status_code == 200
    join.refresh_from_db()
    assert (join.status, join.decision_note) == ("refused", "Not needed on this case")
    assert not lahore_case.team.filter(user=newcomer).exists()
    refused = AuditEvent.objects.get(action="case.team.join_refused")
    assert refused.reason == "Not needed on this case"


def test_a_kasur_supervisor_does_not_decide_for_a_lahore_case(
    people: People, newcomer: User, lahore_case: Case
) -> None:
    kasur_supervisor = make_user("sup.kasur", Role.SUPERVISOR, district_code="KSR")
    join = actions.request_team_join(newcomer, lahore_case, "investigator", "Helping out")
    assert oversees(people.lahore_supervisor, lahore_case)
    assert not oversees(kasur_supervisor, lahore_case)
    with pytest.raises(PermissionDenied):
        actions.decide_team_join(kasur_supervisor, join, True)


def test_a_team_member_asks_for_a_colleague_and_a_stranger_cannot(
    people: People, newcomer: User, lahore_case: Case
) -> None:
    other = make_user("inv.lahore.other", Role.INVESTIGATOR, district_code="LHR")
    with pytest.raises(PermissionDenied):
        actions.request_team_join(newcomer, lahore_case, "investigator", "Help", user=other)
    join = actions.request_team_join(
        people.lahore_investigator, lahore_case, "investigator", "Second officer", user=other
    )
    assert join.requested_by == people.lahore_investigator
    with pytest.raises(ValidationError):
        actions.request_team_join(other, lahore_case, "investigator", "Again")


def test_a_supervisor_adds_directly_and_a_team_member_cannot(
    people: People, newcomer: User, lahore_case: Case
) -> None:
    with pytest.raises(PermissionDenied):
        actions.add_team_member(people.lahore_investigator, lahore_case, newcomer, "investigator")
    actions.add_team_member(people.lahore_supervisor, lahore_case, newcomer, "investigator")
    event = AuditEvent.objects.get(action="case.team.add", details__user_id=newcomer.pk)
    assert event.details["approved_by"] == people.lahore_supervisor.pk


def test_only_a_supervisor_takes_someone_else_off_the_team(
    people: People, lahore_case: Case
) -> None:
    member = lahore_case.team.get(user=people.prosecutor)
    with pytest.raises(PermissionDenied):
        actions.remove_team_member(people.lahore_investigator, member, "Not needed")
    actions.remove_team_member(people.lahore_supervisor, member, "Reassigned")
    assert not lahore_case.team.filter(user=people.prosecutor).exists()


def test_the_request_form_speaks_urdu(newcomer: User, lahore_case: Case) -> None:
    from django.conf import settings

    client = signed_in(newcomer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get(f"/cases/{lahore_case.reference}/").content.decode()
    assert "ٹیم میں شمولیت کی درخواست دیں" in html
    assert "ٹیم میں شامل ہونے کی وجہ" in html
