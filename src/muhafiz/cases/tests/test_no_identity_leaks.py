"""A full flow with a victim's identity, while every log record is captured: the identity
appears in no log record, no URL and no CSV export (it is shown only in audited responses)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Case
from muhafiz.cases.tests.conftest import GUARDIAN_NAME, VICTIM_CNIC, VICTIM_NAME
from muhafiz.catalogue.models import PoliceStation
from muhafiz.testing import People, signed_in

SECRETS = (VICTIM_NAME, VICTIM_CNIC, VICTIM_CNIC.replace("-", ""), GUARDIAN_NAME, "3001234567")


class RecordingClient:
    """A test client that remembers every URL it was sent to (including redirects)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.urls: list[str] = []

    def get(self, url: str, **kwargs: object):  # type: ignore[no-untyped-def]
        self.urls.append(url)
        return self._follow(self.client.get(url, **kwargs))  # type: ignore[arg-type]

    def post(self, url: str, data: object = None, **kwargs: object):  # type: ignore[no-untyped-def]
        self.urls.append(url)
        return self._follow(self.client.post(url, data, **kwargs))  # type: ignore[arg-type]

    def _follow(self, response: Any) -> Any:
        location = response.headers.get("Location")
        if location:
            self.urls.append(location)
        return response


@pytest.fixture
def sql_logged() -> Iterator[None]:
    """Make django.db.backends log every query with its parameters, as with DEBUG on."""
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True
    yield
    connection.force_debug_cursor = previous


def test_a_full_flow_leaves_no_victim_identity_in_logs_urls_or_exports(
    people: People,
    station: PoliceStation,
    caplog: pytest.LogCaptureFixture,
    sql_logged: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("django.request", "django.db.backends", "django.server", "muhafiz"):
        caplog.set_level(logging.DEBUG, logger=name)
    investigator = RecordingClient(signed_in(people.lahore_investigator))
    response = investigator.post(
        "/cases/new/",
        {
            "district": "LHR",
            "agency": "PB-POLICE",
            "police_station": station.pk,
            "fir_number": "303/2026",
            "reported_at": "2026-11-01T10:30",
            "facts": ["victim_under_18", "abuse_recorded", "material_online"],
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    ref = case.reference
    # A failed attempt first (bad CNIC, identity in the form), then the real one.
    investigator.post(
        f"/cases/{ref}/victims/new/",
        {
            "name": VICTIM_NAME,
            "cnic": "35202-765",
            "guardian_name": GUARDIAN_NAME,
            "gender": "girl",
        },
    )
    investigator.post(
        f"/cases/{ref}/victims/new/",
        {
            "name": VICTIM_NAME,
            "cnic": VICTIM_CNIC,
            "birth_date": "2013-05-02",
            "guardian_name": GUARDIAN_NAME,
            "phones": "0300 1234567",
            "gender": "girl",
            "consent_referral": "on",
            "consent_statistics": "on",
        },
    )
    victim = case.victims.get()
    api = RecordingClient(signed_in(people.prosecutor))
    RecordingClient(signed_in(people.lahore_supervisor)).post(
        f"/cases/{ref}/team/", {"username": people.prosecutor.username, "team_role": "prosecutor"}
    )
    shown = api.post(
        f"/api/v1/cases/{ref}/victims/{victim.pseudonym}/identity",
        {"purpose": "Charge sheet"},
        content_type="application/json",
    )
    assert shown.json()["name"] == VICTIM_NAME  # shown to the team member who asked...
    page = investigator.post(
        f"/cases/{ref}/victims/{victim.pseudonym}/identity/", {"purpose": "Statement"}
    )
    assert VICTIM_NAME in page.content.decode()
    assert page.headers["Cache-Control"] == "no-store"
    # An outsider's attempt is refused (and logged by django.request as a 404: not theirs to
    # know of).
    outsider = RecordingClient(signed_in(people.kasur_investigator))
    outsider.post(
        f"/api/v1/cases/{ref}/victims/{victim.pseudonym}/identity",
        {"purpose": "curious"},
        content_type="application/json",
    )
    refused = api.post(
        f"/api/v1/cases/{ref}/victims",
        {"name": VICTIM_NAME, "cnic": "3520-2765", "guardian_name": GUARDIAN_NAME},
        content_type="application/json",
    )
    assert refused.status_code == 400
    investigator.post(
        f"/cases/{ref}/accused/new/",
        {"name": "Accused Testname", "cnic": "35202-1111111-1", "status": "suspect"},
    )
    investigator.post(
        f"/cases/{ref}/referrals/new/", {"victim": victim.pseudonym, "needs": "Counselling"}
    )
    for section in (
        "",
        "parties/",
        "proceedings/",
        "evidence/",
        "links/",
        "referrals/",
        "history/",
    ):
        assert investigator.get(f"/cases/{ref}/{section}").status_code == 200
    investigator.get(f"/cases/{ref}/victims/{victim.pseudonym}/")
    export = investigator.get("/cases/export.csv")
    api_export = api.get(f"/api/v1/cases/{ref}")
    stats = RecordingClient(signed_in(people.analyst)).get("/api/v1/cases/statistics/victims")

    assert export.status_code == 200
    exported = export.content.decode()
    assert victim.pseudonym in exported
    messages = [record.getMessage() for record in caplog.records]
    assert any("INSERT INTO" in m and "cases_victim" in m for m in messages)  # SQL was captured
    assert any("Not Found" in m for m in messages)  # django.request was captured
    urls = investigator.urls + api.urls + outsider.urls
    for secret in SECRETS:
        for message in messages:
            assert secret not in message
        for record in caplog.records:
            assert secret not in str(record.args)
        for url in urls:
            assert secret not in url
        assert secret not in exported
        assert secret not in api_export.content.decode()
        assert secret not in stats.content.decode()
        for event in AuditEvent.objects.all():
            assert secret not in f"{event.object_label} {event.reason} {event.details}"
