"""Field length limits live on the models and the actions check them (issue 9, `core.limits`):
an overlong value gets a 4xx naming the field, through the pages, the API and a direct call of
the action, and nothing is written."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from muhafiz.cases import actions
from muhafiz.cases.models import Accused, Case, Victim, Witness
from muhafiz.catalogue.models import Agency, District, PoliceStation
from muhafiz.core.limits import check_lengths, max_length
from muhafiz.testing import People, signed_in

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
