"""Evidence's length limits live on its models and its actions check them (issue 9,
`core.limits`): an over-long value gets a 4xx naming the field through the pages and the API,
a direct call of the action is refused naming it, and nothing is written. Each page form and
API schema reads its limit from the model that keeps the value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django import forms as django_forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from ninja import Schema

from muhafiz.accounts.models import User
from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Case
from muhafiz.catalogue.models import District
from muhafiz.core.limits import max_length
from muhafiz.demo.media import noise_image
from muhafiz.evidence import actions, api, forms
from muhafiz.evidence.models import (
    REVEAL_REASON_MAX_LENGTH,
    CustodyEvent,
    EvidenceItem,
    MediaFile,
    Scan,
)
from muhafiz.evidence.tests.conftest import upload_of
from muhafiz.hashbank.models import Bank
from muhafiz.testing import People, signed_in

VIA = ["page", "api"]

FORM_FIELDS = [
    (forms.ItemForm, "description", EvidenceItem, "description"),
    (forms.ItemForm, "seized_place", EvidenceItem, "seized_place"),
    (forms.ItemForm, "seal_number", EvidenceItem, "seal_number"),
    (forms.HandoverForm, "purpose_other", CustodyEvent, "purpose"),
    (forms.HandoverForm, "note", CustodyEvent, "note"),
    (forms.ServerScanForm, "source_path", Scan, "source_path"),
    # Before: 10 characters, a district code holds 8.
    (forms.NetworkFilter, "district", District, "code"),
]

API_FIELDS = [
    (api.ItemIn, "kind", EvidenceItem, "kind"),
    (api.ItemIn, "seized_place", EvidenceItem, "seized_place"),
    (api.ItemIn, "seized_by", User, "username"),
    (api.HandoverIn, "from_user", User, "username"),
    (api.HandoverIn, "to_user", User, "username"),
    (api.HandoverIn, "note", CustodyEvent, "note"),
    (api.ServerScanIn, "source_path", Scan, "source_path"),
    (api.CategoryIn, "scheme", MediaFile, "category_scheme"),
    (api.BankIn, "bank", Bank, "name"),
    # Before: 10 characters, a district code holds 8.
    (api.NetworkQuery, "district", District, "code"),
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


def test_the_reveal_reason_has_one_limit_for_the_page_and_the_api() -> None:
    assert _schema_limit(api.RevealIn, "reason") == REVEAL_REASON_MAX_LENGTH


@pytest.mark.parametrize("via", VIA)
def test_an_overlong_seizure_place_is_refused_naming_the_field_and_nothing_written(
    people: People, lahore_case: Case, via: str
) -> None:
    limit = max_length(EvidenceItem, "seized_place")
    seized_at = timezone.now() - dt.timedelta(hours=3)
    client = signed_in(people.lahore_investigator)
    if via == "page":
        response = client.post(
            f"/cases/{lahore_case.reference}/evidence/",
            {
                "form": "item",
                "item-kind": "phone",
                "item-seized_at": seized_at.strftime("%Y-%m-%d %H:%M"),
                "item-seized_place": "p" * (limit + 1),
                "item-seized_by": people.lahore_investigator.pk,
            },
        )
        assert response.status_code == 400
        assert list(response.context["item_form"].errors) == ["seized_place"]
    else:
        response = client.post(
            f"/api/v1/evidence/cases/{lahore_case.reference}/items",
            {
                "kind": "phone",
                "seized_at": seized_at.isoformat(),
                "seized_place": "p" * (limit + 1),
                "seized_by": people.lahore_investigator.username,
            },
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "seized_place" in str(response.json()["error"]["details"])
    assert not EvidenceItem.objects.exists()


@pytest.mark.parametrize("via", VIA)
def test_an_overlong_server_path_is_refused_naming_the_field_and_nothing_queued(
    people: People, lahore_case: Case, sources: Path, via: str
) -> None:
    limit = max_length(Scan, "source_path")
    path = str(sources / ("d" * (limit + 1 - len(str(sources)) - 1)))
    assert len(path) == limit + 1
    client = signed_in(people.lahore_investigator)
    if via == "page":
        response = client.post(
            f"/cases/{lahore_case.reference}/evidence/",
            {"form": "server", "server-source_path": path},
        )
        assert response.status_code == 400
        assert list(response.context["server_form"].errors) == ["source_path"]
    else:
        response = client.post(
            f"/api/v1/evidence/cases/{lahore_case.reference}/server-scans",
            {"source_path": path},
            content_type="application/json",
        )
        assert response.status_code == 400
        assert "source_path" in str(response.json()["error"]["details"])
    assert not Scan.objects.exists()


def test_the_server_scan_action_names_the_path_limit_whoever_calls_it(
    people: People, lahore_case: Case, sources: Path
) -> None:
    # Before: the action answered "There is nothing at this path." (a job or the command line
    # passing a long path got no word about its length).
    limit = max_length(Scan, "source_path")
    with pytest.raises(ValidationError) as caught:
        actions.queue_server_scan(
            people.lahore_investigator, lahore_case, str(sources / ("d" * limit))
        )
    assert list(caught.value.message_dict) == ["source_path"]
    assert f"{limit} characters" in caught.value.message_dict["source_path"][0]
    assert not Scan.objects.exists()


def test_an_overlong_reveal_reason_is_refused_not_cut_and_nothing_audited(
    people: People,
    lahore_case: Case,
    sources: Path,
    make_scan: Callable[[Path, str], Path],
) -> None:
    # Before: the action cut the reason to 500 characters and audited the cut text.
    device = sources / "phone"
    device.mkdir()
    noise_image(5).save(device / "a.png")
    actions.import_uploaded_scan(
        people.lahore_investigator, lahore_case, upload_of(make_scan(device, "field"))
    )
    media = MediaFile.objects.get()
    with pytest.raises(ValidationError) as caught:
        actions.reveal_media(
            people.forensic_examiner, media, reason="r" * (REVEAL_REASON_MAX_LENGTH + 1)
        )
    assert list(caught.value.message_dict) == ["reason"]
    assert not AuditEvent.objects.filter(action="evidence.media.reveal").exists()
    response = signed_in(people.forensic_examiner).post(
        f"/api/v1/evidence/media/{media.pk}/reveal",
        {"reason": "r" * (REVEAL_REASON_MAX_LENGTH + 1)},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "reason" in str(response.json()["error"]["details"])
    page = signed_in(people.forensic_examiner).post(
        f"/evidence/media/{media.pk}/reveal/", {"reason": "r" * (REVEAL_REASON_MAX_LENGTH + 1)}
    )
    assert page.status_code == 400
    assert f"{REVEAL_REASON_MAX_LENGTH} characters" in page.content.decode()
    assert not AuditEvent.objects.filter(action="evidence.media.reveal").exists()
