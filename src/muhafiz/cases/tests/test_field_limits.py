"""Field length limits live on the models and the actions check them (issue 9, `core.limits`):
an overlong value gets a 4xx naming the field, through the pages, the API and a direct call of
the action, and nothing is written."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from muhafiz.accounts.roles import Role
from muhafiz.cases import actions
from muhafiz.cases.models import (
    Accused,
    Case,
    CaseStatus,
    ConsentOverride,
    Referral,
    StatusChange,
    TeamJoinRequest,
    Victim,
    Witness,
)
from muhafiz.catalogue.models import Agency, District, PoliceStation
from muhafiz.core.limits import check_lengths, max_length
from muhafiz.testing import People, make_user, signed_in

VIA = ["page", "api"]


def test_a_limit_is_read_from_the_model_or_its_text_limits() -> None:
    assert max_length(Case, "fir_number") == 40
    assert max_length(Accused, "addresses") == 2000  # an encrypted field: TEXT_LIMITS
    assert max_length(Victim, "name") == 200
    with pytest.raises(LookupError):
        max_length(Case, "reported_at")


def test_every_overlong_value_is_named_at_once() -> None:
    with pytest.raises(ValidationError) as caught:
        check_lengths(Witness, {"name": "n" * 201, "address": "ok", "relation": "r" * 201})
    assert set(caught.value.message_dict) == {"name", "relation"}
    assert "200 characters" in caught.value.message_dict["name"][0]


def test_the_action_refuses_an_overlong_fir_number_whoever_calls_it(
    people: People, lahore: District, police: Agency, station: PoliceStation
) -> None:
    # Before: create_case stored a 41-character FIR number (SQLite keeps it; PostgreSQL fails
    # with a database error); only the page form and the API schema held the limit.
    with pytest.raises(ValidationError) as caught:
        actions.create_case(
            people.lahore_investigator,
            district=lahore,
            agency=police,
            police_station=station,
            fir_number="1" * 41,
            reported_at=timezone.now(),
            facts={"victim_under_18"},
        )
    assert "fir_number" in caught.value.message_dict
    assert not Case.objects.exists()


@pytest.mark.parametrize("via", VIA)
def test_an_overlong_accused_alias_is_refused_naming_the_field_and_nothing_written(
    people: People, lahore_case: Case, via: str
) -> None:
    client = signed_in(people.lahore_investigator)
    too_long = "a" * (max_length(Accused, "aliases") + 1)
    if via == "page":
        response = client.post(
            f"/cases/{lahore_case.reference}/accused/new/",
            {"name": "Accused Testname", "aliases": too_long, "status": "suspect"},
        )
        assert response.status_code == 200
        assert "Ensure this value has at most 500 characters" in response.content.decode()
    else:
        response = client.post(
            f"/api/v1/cases/{lahore_case.reference}/accused",
            {"name": "Accused Testname", "aliases": too_long},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "aliases" in str(response.json()["error"]["details"])
    assert not Accused.objects.filter(case=lahore_case).exists()


def test_an_overlong_witness_address_is_refused_by_the_action(
    people: People, lahore_case: Case
) -> None:
    with pytest.raises(ValidationError) as caught:
        actions.add_witness(people.lahore_investigator, lahore_case, name="W", address="x" * 1001)
    assert list(caught.value.message_dict) == ["address"]
    assert not Witness.objects.filter(case=lahore_case).exists()


@pytest.mark.parametrize("via", VIA)
def test_an_overlong_closing_reason_is_refused_with_the_limit_named_and_the_case_open(
    people: People, lahore_case: Case, via: str
) -> None:
    # Before: the page answered "Give a reason." to a reason that was given, only too long.
    limit = max_length(StatusChange, "reason")
    client = signed_in(people.lahore_investigator)
    if via == "page":
        response = client.post(
            f"/cases/{lahore_case.reference}/close/", {"reason": "r" * (limit + 1)}, follow=True
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert f"at most {limit} characters" in body
        assert "Give a reason." not in body
    else:
        response = client.post(
            f"/api/v1/cases/{lahore_case.reference}/close",
            {"reason": "r" * (limit + 1)},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "reason" in str(response.json()["error"]["details"])
    lahore_case.refresh_from_db()
    assert lahore_case.status == CaseStatus.OPEN
    assert not StatusChange.objects.filter(case=lahore_case).exists()


@pytest.mark.parametrize("via", VIA)
def test_an_overlong_override_reason_is_refused_and_nothing_written(
    people: People, lahore_case: Case, victim: Victim, via: str
) -> None:
    limit = max_length(ConsentOverride, "reason")
    client = signed_in(people.lahore_supervisor)
    base = f"/cases/{lahore_case.reference}/victims/{victim.pseudonym}"
    if via == "page":
        response = client.post(
            f"{base}/override/", {"consent": "referral", "reason": "r" * (limit + 1)}, follow=True
        )
        assert response.status_code == 200
        assert f"at most {limit} characters" in response.content.decode()
    else:
        response = client.post(
            f"/api/v1{base}/overrides",
            {"consent": "referral", "reason": "r" * (limit + 1)},
            content_type="application/json",
        )
        assert response.status_code == 400
    assert not ConsentOverride.objects.filter(victim=victim).exists()


def test_the_actions_take_each_reason_limit_from_the_column_that_keeps_it(
    people: People, lahore_case: Case, victim: Victim
) -> None:
    # The join request's reason is a 500-character column; the referral's needs 2,000.
    with pytest.raises(ValidationError) as caught:
        actions.request_team_join(
            make_user("inv.lahore.two", Role.INVESTIGATOR, district_code="LHR"),
            lahore_case,
            "investigator",
            "r" * (max_length(TeamJoinRequest, "reason") + 1),
        )
    assert list(caught.value.message_dict) == ["reason"]
    assert not TeamJoinRequest.objects.exists()
    with pytest.raises(ValidationError) as caught:
        actions.refer_victim(
            people.lahore_investigator, victim, needs="n" * (max_length(Referral, "needs") + 1)
        )
    assert list(caught.value.message_dict) == ["needs"]
    assert not Referral.objects.exists()


def test_an_overlong_referral_note_is_refused_not_dropped_with_the_decision_taken(
    people: People, lahore_case: Case, victim: Victim
) -> None:
    # Before: the page dropped the invalid note and accepted the referral without it.
    referral = actions.refer_victim(people.lahore_investigator, victim, needs="Counselling")
    limit = max_length(Referral, "decision_note")
    response = signed_in(people.child_protection_officer).post(
        f"/cases/{lahore_case.reference}/referrals/{referral.pk}/accept/",
        {"note": "n" * (limit + 1)},
        follow=True,
    )
    assert response.status_code == 200
    assert f"at most {limit} characters" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == "requested"
