"""The register's length limits live on its models and its actions check them (issue 9,
`core.limits`): an over-long value gets a 4xx naming the field through the pages and the API,
a direct call of the action is refused naming it, and nothing is written. Each page form and
API schema reads its limit from the model that keeps the value."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django import forms as django_forms
from django.core.exceptions import ValidationError
from ninja import Schema

from muhafiz.cases.models import Accused, Case
from muhafiz.catalogue.models import District
from muhafiz.core.limits import max_length
from muhafiz.register import actions, api, forms
from muhafiz.register.models import (
    Address,
    CheckRequest,
    DueProcessRequest,
    Incident,
    Notification,
    Organisation,
    PeriodRule,
    Registrant,
    Verification,
    VettingRequest,
)
from muhafiz.register.tests.conftest import Convict, RegisterPeople
from muhafiz.testing import signed_in

VIA = ["page", "api"]

# (form, its field, the model that keeps the value, the model's field)
FORM_FIELDS = [
    (forms.ReleaseForm, "address", Address, "address"),
    (forms.VerificationForm, "new_address", Address, "address"),
    (forms.VerificationForm, "photo_reference", Verification, "photo_reference"),
    (forms.NotificationForm, "details", Notification, "details"),
    (forms.NotificationForm, "new_address", Address, "address"),
    (forms.DueProcessForm, "grounds", DueProcessRequest, "grounds"),
    (forms.DueProcessDecisionForm, "reasons", DueProcessRequest, "decision_reasons"),
    (forms.DueProcessDecisionForm, "corrected_name", Registrant, "name"),
    (forms.CheckRequestForm, "case", Case, "reference"),
    (forms.CheckRequestForm, "accused", Accused, "label"),
    (forms.CheckRequestForm, "reason", CheckRequest, "reason"),
    (forms.CheckDecisionForm, "reason", CheckRequest, "decision_reason"),
    (forms.VettingForm, "position", VettingRequest, "position"),
    (forms.VettingForm, "consent_reference", VettingRequest, "consent_reference"),
    (forms.IncidentForm, "registrant", Incident, "registrant_code"),
    (forms.IncidentForm, "description", Incident, "description"),
    (forms.PeriodRuleForm, "name", PeriodRule, "name"),
    (forms.PeriodRuleForm, "source", PeriodRule, "source"),
    (forms.PeriodRuleForm, "reason", PeriodRule, "change_reason"),
    (forms.OrganisationApplicationForm, "name", Organisation, "name"),
    (forms.OrganisationApplicationForm, "registration_number", Organisation, "registration_number"),
    (forms.OrganisationDecisionForm, "reason", Organisation, "decision_reason"),
]

# (API schema, its field, the model, the model's field)
API_FIELDS = [
    (api.CheckIn, "reason", CheckRequest, "reason"),
    (api.DecisionIn, "reason", CheckRequest, "decision_reason"),
    (api.VettingIn, "position", VettingRequest, "position"),
    (api.VerificationIn, "new_address", Address, "address"),
    (api.VerificationIn, "photo_reference", Verification, "photo_reference"),
    (api.NotificationIn, "details", Notification, "details"),
    (api.NotificationIn, "new_address", Address, "address"),
]


def _schema_limit(schema: type[Schema], field: str) -> int:
    metadata = schema.model_fields[field].metadata
    return int(next(m.max_length for m in metadata if getattr(m, "max_length", None) is not None))


@pytest.mark.parametrize(("form", "field", "model", "model_field"), FORM_FIELDS)
def test_each_form_field_takes_its_limit_from_the_model(
    form: type[django_forms.Form], field: str, model: Any, model_field: str
) -> None:
    assert form.base_fields[field].max_length == max_length(model, model_field)  # type: ignore[attr-defined]


@pytest.mark.parametrize(("schema", "field", "model", "model_field"), API_FIELDS)
def test_each_api_field_takes_its_limit_from_the_model(
    schema: type[Schema], field: str, model: Any, model_field: str
) -> None:
    assert _schema_limit(schema, field) == max_length(model, model_field)


@pytest.mark.parametrize("via", VIA)
def test_an_overlong_check_reason_is_refused_naming_the_field_and_nothing_written(
    rp: RegisterPeople, lahore_case: Case, accused: Accused, via: str
) -> None:
    limit = max_length(CheckRequest, "reason")
    data = {"case": lahore_case.reference, "accused": accused.label, "reason": "r" * (limit + 1)}
    client = signed_in(rp.lahore_investigator)
    if via == "page":
        response = client.post("/register/checks/new/", data)
        assert response.status_code == 200
        assert f"Ensure this value has at most {limit} characters" in response.content.decode()
    else:
        response = client.post("/api/v1/register/checks", data, content_type="application/json")
        assert response.status_code == 400
        assert "reason" in str(response.json()["error"]["details"])
    assert not CheckRequest.objects.exists()


@pytest.mark.parametrize("via", VIA)
def test_an_overlong_new_address_on_a_visit_is_refused_and_nothing_written(
    rp: RegisterPeople, released_registrant: Registrant, via: str
) -> None:
    limit = max_length(Address, "address")
    code = released_registrant.code
    assert released_registrant.released_at is not None
    visited_at = released_registrant.released_at + dt.timedelta(days=2)
    visits = Verification.objects.count()
    addresses = Address.objects.count()
    data = {
        "visited_at": visited_at.isoformat(),
        "outcome": "moved",
        "district": "LHR",
        "new_address": "a" * (limit + 1),
        "photo_reference": "",
    }
    client = signed_in(rp.station_officer)
    if via == "page":
        data["visited_at"] = visited_at.strftime("%Y-%m-%d %H:%M")
        response = client.post(f"/register/registrants/{code}/verifications/", data)
        assert response.status_code == 200
        assert f"Ensure this value has at most {limit} characters" in response.content.decode()
    else:
        response = client.post(
            f"/api/v1/register/registrants/{code}/verifications",
            data,
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "new_address" in str(response.json()["error"]["details"])
    assert Verification.objects.count() == visits
    assert Address.objects.count() == addresses


def test_the_actions_refuse_an_overlong_address_whoever_calls_them(
    rp: RegisterPeople, released_registrant: Registrant
) -> None:
    # Before: only the page form and the API schema held the address limit; the actions
    # stored an address of any length (a job or the command line could write one).
    too_long = "a" * (max_length(Address, "address") + 1)
    addresses = Address.objects.count()
    since = released_registrant.released_at
    assert since is not None
    lahore = District.objects.get(code="LHR")
    with pytest.raises(ValidationError) as caught:
        actions.record_verification(
            rp.station_officer,
            released_registrant,
            visited_at=since + dt.timedelta(days=2),
            outcome="moved",
            district=lahore,
            new_address=too_long,
        )
    assert list(caught.value.message_dict) == ["new_address"]
    with pytest.raises(ValidationError) as caught:
        actions.record_notification(
            rp.station_officer,
            released_registrant,
            kind="address",
            changed_on=since.date() + dt.timedelta(days=2),
            details="Moved",
            new_address=too_long,
            district=lahore,
        )
    assert list(caught.value.message_dict) == ["new_address"]
    assert Address.objects.count() == addresses
    assert not Verification.objects.filter(outcome="moved").exists()
    assert not Notification.objects.exists()


def test_the_release_refuses_an_overlong_address(
    rp: RegisterPeople, lahore_case: Case, accused: Accused, convict: Convict
) -> None:
    convict(lahore_case, accused, "2 years")
    registrant = Registrant.objects.get()
    actions.confirm_conviction(rp.register_officer, registrant.convictions.get())
    released = registrant.convictions.get().convicted_at + dt.timedelta(days=30)
    addresses = Address.objects.count()
    with pytest.raises(ValidationError) as caught:
        actions.record_release(
            rp.register_officer,
            registrant,
            released_at=released,
            address="a" * (max_length(Address, "address") + 1),
            district=District.objects.get(code="LHR"),
        )
    assert list(caught.value.message_dict) == ["address"]
    registrant.refresh_from_db()
    assert registrant.released_at is None
    assert Address.objects.count() == addresses


def test_a_correction_refuses_an_overlong_name_and_leaves_the_request_undecided(
    rp: RegisterPeople, released_registrant: Registrant
) -> None:
    item = actions.submit_due_process(
        rp.register_officer,
        released_registrant,
        kind="correction",
        grounds="The name is misspelt",
        submitted_through="counsel",
    )
    name = released_registrant.name
    with pytest.raises(ValidationError) as caught:
        actions.decide_due_process(
            rp.register_officer,
            item,
            upheld=True,
            reasons="NADRA record shows the spelling",
            corrected_name="n" * (max_length(Registrant, "name") + 1),
        )
    assert list(caught.value.message_dict) == ["corrected_name"]
    item.refresh_from_db()
    released_registrant.refresh_from_db()
    assert item.decided_at is None
    assert released_registrant.name == name


def test_a_reason_is_checked_against_the_field_that_keeps_it(
    rp: RegisterPeople, released_registrant: Registrant
) -> None:
    with pytest.raises(ValidationError) as caught:
        actions.submit_due_process(
            rp.register_officer,
            released_registrant,
            kind="correction",
            grounds="g" * (max_length(DueProcessRequest, "grounds") + 1),
            submitted_through="counsel",
        )
    assert list(caught.value.message_dict) == ["grounds"]
    assert "2000 characters" in caught.value.message_dict["grounds"][0]
    assert not DueProcessRequest.objects.exists()
