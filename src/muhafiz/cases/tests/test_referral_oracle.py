"""A victim's code or a referral's number tells nobody without the right whether it exists (issue
8, finding 14): the referral handlers looked the victim (by code) and the referral (by number) up
before the action's permission check, so a caller without the right heard 404 for a made-up one
and 403 for a real one. The actions now take the code or number and look it up after the check.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import Role
from muhafiz.cases import actions
from muhafiz.cases.models import Case, Referral, ReferralStatus, Victim
from muhafiz.testing import People, make_user, signed_in

VIA = ["page", "api"]
MADE_UP_CODE = "V-2026-LHR-9999"
MADE_UP_ID = 987654


@pytest.fixture
def newcomer(people: People) -> User:
    """A Lahore investigator on no team: may know of the case, may not refer its victims."""
    return make_user("inv.lahore.new", Role.INVESTIGATOR, district_code="LHR")


@pytest.fixture
def other_officer(people: People) -> User:
    """A Lahore child-protection officer on no team: may not decide the case's referrals."""
    return make_user("cpo.lahore.two", Role.CHILD_PROTECTION_OFFICER, district_code="LHR")


@pytest.fixture
def referral(people: People, victim: Victim) -> Referral:
    return actions.refer_victim(people.lahore_investigator, victim, needs="Counselling")


def _answer(response: Any) -> tuple[int, str]:
    """The status, and the body of an API answer (a page's carries a fresh nonce each time)."""
    json = response["Content-Type"].startswith("application/json")
    return response.status_code, response.content.decode() if json else ""


def _refer(client: Any, case: Case, code: str, via: str) -> Any:
    data = {"victim": code, "needs": "Counselling"}
    if via == "page":
        return client.post(f"/cases/{case.reference}/referrals/new/", data)
    return client.post(
        f"/api/v1/cases/{case.reference}/referrals", data, content_type="application/json"
    )


def _decide(client: Any, case: Case, referral_id: int, via: str) -> Any:
    if via == "page":
        return client.post(f"/cases/{case.reference}/referrals/{referral_id}/accept/", {})
    return client.post(
        f"/api/v1/cases/{case.reference}/referrals/{referral_id}/accept",
        {},
        content_type="application/json",
    )


@pytest.mark.parametrize("via", VIA)
def test_a_caller_who_may_not_refer_hears_the_same_for_a_real_and_a_made_up_code(
    newcomer: User, lahore_case: Case, victim: Victim, via: str
) -> None:
    client = signed_in(newcomer)
    real = _answer(_refer(client, lahore_case, victim.pseudonym, via))
    made_up = _answer(_refer(client, lahore_case, MADE_UP_CODE, via))
    assert real == made_up
    assert made_up[0] == 403
    assert not Referral.objects.exists()


@pytest.mark.parametrize("via", VIA)
def test_a_caller_who_may_not_decide_hears_the_same_for_a_real_and_a_made_up_referral(
    other_officer: User, lahore_case: Case, referral: Referral, via: str
) -> None:
    client = signed_in(other_officer)
    real = _answer(_decide(client, lahore_case, referral.pk, via))
    made_up = _answer(_decide(client, lahore_case, MADE_UP_ID, via))
    assert real == made_up
    assert made_up[0] == 403
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.REQUESTED


@pytest.mark.parametrize("via", VIA)
def test_with_the_right_a_made_up_code_is_named_plainly(
    people: People, lahore_case: Case, victim: Victim, via: str
) -> None:
    response = _refer(signed_in(people.lahore_investigator), lahore_case, MADE_UP_CODE, via)
    if via == "page":
        assert response.status_code == 200
        assert "This case has no victim with that code." in response.content.decode()
    else:
        assert response.status_code == 400
        assert "victim" in str(response.json()["error"]["details"])
    assert not Referral.objects.exists()
    # …and a real code still refers.
    response = _refer(signed_in(people.lahore_investigator), lahore_case, victim.pseudonym, via)
    assert response.status_code == (302 if via == "page" else 201)
    assert Referral.objects.filter(victim=victim).count() == 1


def test_with_the_right_a_made_up_referral_is_not_found(
    people: People, lahore_case: Case, referral: Referral
) -> None:
    client = signed_in(people.child_protection_officer)
    assert _decide(client, lahore_case, MADE_UP_ID, "api").status_code == 404
    assert _decide(client, lahore_case, referral.pk, "api").status_code == 200
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.ACCEPTED


@pytest.mark.django_db
def test_the_actions_check_the_permission_before_they_look_the_code_up(
    newcomer: User, other_officer: User, lahore_case: Case, referral: Referral
) -> None:
    for code in (referral.victim.pseudonym, MADE_UP_CODE):
        with pytest.raises(PermissionDenied):
            actions.refer_victim(newcomer, code, case=lahore_case, needs="Counselling")
    for number in (referral.pk, MADE_UP_ID):
        with pytest.raises(PermissionDenied):
            actions.decide_referral(other_officer, number, "accept", case=lahore_case)
