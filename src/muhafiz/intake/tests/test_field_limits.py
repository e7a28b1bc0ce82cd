"""Intake's length limits live on its models and its actions check them (issue 9,
`core.limits`): an over-long value gets a 4xx or a field error naming the field through the
pages and the API, a direct call of the action is refused naming it, and nothing is written.
Each page form and API schema reads its limit from the model that keeps the value."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms as django_forms
from django.core.exceptions import ValidationError
from ninja import Schema

from muhafiz.accounts.models import User
from muhafiz.cases.models import Case
from muhafiz.catalogue.models import District
from muhafiz.core.limits import max_length
from muhafiz.intake import actions, api, forms
from muhafiz.intake.models import Report, ReportMessage, ReportState, ReportTransition
from muhafiz.intake.tests.conftest import CLIENT_ADDRESS
from muhafiz.intake.throttle import PublicVisitor
from muhafiz.testing import People, signed_in

VIA = ["page", "api"]

FORM_FIELDS = [
    (forms.PublicReportForm, "account", Report, "account"),
    (forms.PublicReportForm, "links", Report, "links"),
    (forms.PublicReportForm, "reporter_name", Report, "reporter_name"),
    (forms.PublicReportForm, "reporter_contact", Report, "reporter_contact"),
    (forms.AddInformationForm, "information", ReportMessage, "body"),
    (forms.HelplineForm, "account", Report, "account"),
    # Before: the helpline page took links of any length (the API 10,000 characters).
    (forms.HelplineForm, "links", Report, "links"),
    (forms.HelplineForm, "caller_contact", Report, "reporter_contact"),
    (forms.ReferForm, "note", ReportTransition, "note"),
    (forms.CloseForm, "note", ReportTransition, "note"),
    (forms.ReplyForm, "body", ReportMessage, "body"),
    (forms.AssignForm, "username", User, "username"),
    (forms.OpenCaseForm, "fir_number", Case, "fir_number"),
]

API_FIELDS = [
    (api.HelplineIn, "account", Report, "account"),
    (api.HelplineIn, "links", Report, "links"),
    (api.HelplineIn, "caller_contact", Report, "reporter_contact"),
    (api.HelplineIn, "concern", Report, "concern"),
    (api.ReportReferIn, "note", ReportTransition, "note"),
    (api.ReportCloseIn, "note", ReportTransition, "note"),
    (api.ReportCloseIn, "reason", Report, "close_reason"),
    (api.ReporterReplyIn, "body", ReportMessage, "body"),
    (api.CaseFromReportIn, "fir_number", Case, "fir_number"),
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


def _call(**extra: Any) -> dict[str, Any]:
    return {
        "channel": "helpline_1121",
        "caller_type": "teacher",
        "district": "LHR",
        "age_band": "6-10",
        "concern": "sexual_abuse",
        "account": "Pupil disclosed abuse by a relative.",
        "risk": "high",
        "helpline_referral": "child_protection",
        "links": "",
        "caller_contact": "",
        **extra,
    }


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("field", ["account", "caller_contact", "links"])
def test_an_overlong_helpline_field_is_refused_naming_it_and_nothing_written(
    people: People, helpline_officer: Any, via: str, field: str
) -> None:
    limit = _schema_limit(api.HelplineIn, field)
    data = _call(**{field: "a" * (limit + 1)})
    client = signed_in(helpline_officer)
    if via == "page":
        response = client.post("/intake/helpline/", data)
        assert response.status_code == 200
        form = response.context["form"]
        assert list(form.errors) == [field]
        assert f"at most {limit} characters" in form.errors[field][0]
    else:
        response = client.post("/api/v1/intake/reports", data, content_type="application/json")
        assert response.status_code == 400
        assert field in str(response.json()["error"]["details"])
    assert not Report.objects.exists()


def test_the_helpline_action_refuses_an_overlong_contact_naming_the_field(
    people: People, helpline_officer: Any
) -> None:
    data = _call(caller_contact="c" * (max_length(Report, "reporter_contact") + 1))
    data["district"] = None
    with pytest.raises(ValidationError) as caught:
        actions.record_helpline_call(helpline_officer, **data)
    assert list(caught.value.message_dict) == ["caller_contact"]
    assert not Report.objects.exists()


@pytest.fixture
def web_report(reporter: PublicVisitor, people: People) -> Report:
    """A Lahore public report, in the Lahore investigator's queue."""
    actions.submit_public_report(
        reporter,
        concern="sexual_abuse",
        account="A teacher touches a pupil.",
        district=District.objects.get(code="LHR"),
    )
    return Report.objects.get()


@pytest.mark.parametrize("via", VIA)
def test_an_overlong_closing_note_is_refused_naming_the_field_and_the_report_open(
    people: People, web_report: Report, via: str
) -> None:
    limit = max_length(ReportTransition, "note")
    data = {"reason": "duplicate", "note": "n" * (limit + 1)}
    client = signed_in(people.lahore_investigator)
    reference = web_report.reference
    if via == "page":
        response = client.post(f"/intake/reports/{reference}/close/", data, follow=True)
        assert response.status_code == 200
        assert f"Note: Ensure this value has at most {limit} characters" in (
            response.content.decode()
        )
    else:
        response = client.post(
            f"/api/v1/intake/reports/{reference}/close", data, content_type="application/json"
        )
        assert response.status_code == 400
        assert "note" in str(response.json()["error"]["details"])
    web_report.refresh_from_db()
    assert web_report.state == ReportState.NEW
    assert not ReportTransition.objects.filter(report=web_report).exists()


@pytest.mark.parametrize("via", VIA)
def test_an_overlong_reply_is_refused_naming_the_field_and_nothing_sent(
    people: People, web_report: Report, via: str
) -> None:
    limit = max_length(ReportMessage, "body")
    client = signed_in(people.lahore_investigator)
    reference = web_report.reference
    if via == "page":
        response = client.post(
            f"/intake/reports/{reference}/reply/", {"body": "b" * (limit + 1)}, follow=True
        )
        assert response.status_code == 200
        assert f"at most {limit} characters" in response.content.decode()
    else:
        response = client.post(
            f"/api/v1/intake/reports/{reference}/reply",
            {"body": "b" * (limit + 1)},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "body" in str(response.json()["error"]["details"])
    assert not ReportMessage.objects.exists()


def test_the_public_page_refuses_an_overlong_account_naming_the_field(
    client: Any, people: People
) -> None:
    limit = max_length(Report, "account")
    response = client.post(
        "/report/",
        {
            "lang": "en",
            "concern": "sexual_abuse",
            "account": "a" * (limit + 1),
            "age_band": "unknown",
            "website": "",
        },
        REMOTE_ADDR=CLIENT_ADDRESS,
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["account"]
    assert not Report.objects.exists()
