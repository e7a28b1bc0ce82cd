"""Naming a person tells nobody without the right whether that person exists (issue 8, finding
14): the team and referral handlers looked the username up before the action's permission
check, so a Lahore investigator not on the team heard "no such user" for a made-up name and
"forbidden" for a colleague's."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import Role
from muhafiz.cases import actions
from muhafiz.cases.models import Case, Referral, TeamJoinRequest, TeamMember, Victim
from muhafiz.testing import People, make_user, signed_in

VIA = ["page", "api"]
# A real child-protection officer of Lahore, and a name nobody holds.
NAMES = {"existing": "cpo.lahore", "missing": "nobody.at.all"}


@pytest.fixture
def newcomer(people: People) -> User:
    """A Lahore investigator on no team: knows of the case by jurisdiction, acts on none of it."""
    return make_user("inv.lahore.new", Role.INVESTIGATOR, district_code="LHR")


def _answer(response: Any) -> tuple[int, str]:
    body = response.content.decode()
    return response.status_code, body if response["Content-Type"].startswith(
        "application/json"
    ) else ""


def _ask_for_colleague(client: Any, case: Case, username: str, via: str) -> Any:
    data = {"username": username, "team_role": "child_protection_officer", "reason": "Counselling"}
    if via == "page":
        return client.post(f"/cases/{case.reference}/team/request/", data)
    return client.post(
        f"/api/v1/cases/{case.reference}/team/requests", data, content_type="application/json"
    )


def _refer(client: Any, case: Case, victim: Victim, username: str, via: str) -> Any:
    data = {"victim": victim.pseudonym, "needs": "Counselling", "officer": username}
    if via == "page":
        return client.post(f"/cases/{case.reference}/referrals/new/", data)
    return client.post(
        f"/api/v1/cases/{case.reference}/referrals", data, content_type="application/json"
    )


def _add(client: Any, case: Case, username: str, via: str) -> Any:
    data = {"username": username, "team_role": "child_protection_officer"}
    if via == "page":
        return client.post(f"/cases/{case.reference}/team/", data)
    return client.post(
        f"/api/v1/cases/{case.reference}/team", data, content_type="application/json"
    )


@pytest.mark.parametrize("via", VIA)
def test_a_non_member_asking_for_a_colleague_hears_the_same_for_any_name(
    newcomer: User, lahore_case: Case, via: str
) -> None:
    client = signed_in(newcomer)
    answers = {
        k: _answer(_ask_for_colleague(client, lahore_case, n, via)) for k, n in NAMES.items()
    }
    assert answers["existing"] == answers["missing"]
    assert answers["missing"][0] == 403
    assert not TeamJoinRequest.objects.filter(case=lahore_case).exists()


@pytest.mark.parametrize("via", VIA)
def test_a_non_member_referring_a_victim_hears_the_same_for_any_officer(
    newcomer: User, lahore_case: Case, victim: Victim, via: str
) -> None:
    client = signed_in(newcomer)
    answers = {k: _answer(_refer(client, lahore_case, victim, n, via)) for k, n in NAMES.items()}
    assert answers["existing"] == answers["missing"]
    assert answers["missing"][0] == 403
    assert not Referral.objects.filter(case=lahore_case).exists()


@pytest.mark.parametrize("via", VIA)
def test_a_team_member_without_oversight_adding_anyone_hears_the_same_for_any_name(
    people: People, lahore_case: Case, via: str
) -> None:
    client = signed_in(people.prosecutor)
    answers = {k: _answer(_add(client, lahore_case, n, via)) for k, n in NAMES.items()}
    assert answers["existing"] == answers["missing"]
    assert answers["missing"][0] == 403


@pytest.mark.django_db
def test_the_actions_check_the_permission_before_they_look_the_name_up(
    people: People, newcomer: User, lahore_case: Case, victim: Victim
) -> None:
    for name in NAMES.values():
        with pytest.raises(PermissionDenied):
            actions.add_team_member(newcomer, lahore_case, name, "child_protection_officer")
        with pytest.raises(PermissionDenied):
            actions.request_team_join(
                newcomer, lahore_case, "child_protection_officer", "Counselling", user=name
            )
        with pytest.raises(PermissionDenied):
            actions.refer_victim(newcomer, victim, needs="Counselling", officer=name)


def test_the_supervisor_names_people_by_username_and_hears_plainly_about_a_missing_one(
    people: People, lahore_case: Case, victim: Victim
) -> None:
    """With the right, a name that holds nobody gets the answer of a refused person."""
    client = signed_in(people.lahore_supervisor)
    missing = _add(client, lahore_case, NAMES["missing"], "api")
    assert missing.status_code == 400
    assert "cannot join this case team" in missing.content.decode()
    make_user("cpo.lahore.two", Role.CHILD_PROTECTION_OFFICER, district_code="LHR")
    added = _add(client, lahore_case, "cpo.lahore.two", "api")
    assert added.status_code == 201
    assert TeamMember.objects.filter(case=lahore_case, user__username="cpo.lahore.two").exists()
    unknown_officer = _refer(client, lahore_case, victim, NAMES["missing"], "api")
    assert unknown_officer.status_code == 400
    assert "Choose a child-protection officer" in unknown_officer.content.decode()
    referred = _refer(client, lahore_case, victim, NAMES["existing"], "api")
    assert referred.status_code == 201
    assert Referral.objects.get(case=lahore_case).officer == people.child_protection_officer
