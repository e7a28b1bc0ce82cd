"""A full register flow while every log record is captured: the registrant's name, CNIC,
phone and addresses appear in no log line, no URL, no audit record and no response other than
the registrant record itself (register office, district police)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Accused, Case
from muhafiz.core.permissions import SYSTEM
from muhafiz.register import actions
from muhafiz.register.models import CheckRequest, Registrant
from muhafiz.register.tests.conftest import (
    ACCUSED_ADDRESS,
    ACCUSED_CNIC,
    ACCUSED_NAME,
    NEW_ADDRESS,
    Convict,
    RegisterPeople,
    add_accused,
    open_case,
)
from muhafiz.testing import signed_in

SECRETS = (
    ACCUSED_NAME,
    ACCUSED_CNIC,
    ACCUSED_CNIC.replace("-", ""),
    ACCUSED_ADDRESS,
    NEW_ADDRESS,
    "3017654321",
)


class RecordingClient:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.urls: list[str] = []
        self.bodies: list[str] = []

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._keep(url, self.client.get(url, **kwargs))

    def post(self, url: str, data: Any = None, **kwargs: Any) -> Any:
        return self._keep(url, self.client.post(url, data, **kwargs))

    def _keep(self, url: str, response: Any) -> Any:
        self.urls.append(url)
        if response.headers.get("Location"):
            self.urls.append(response.headers["Location"])
        self.bodies.append(response.content.decode())
        return response


@pytest.fixture
def sql_logged() -> Iterator[None]:
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True
    yield
    connection.force_debug_cursor = previous


def test_a_full_register_flow_leaks_no_identity(  # noqa: PLR0917 - one fixture each
    rp: RegisterPeople,
    lahore_case: Case,
    accused: Accused,
    convict: Convict,
    caplog: pytest.LogCaptureFixture,
    sql_logged: None,
) -> None:
    # The cases app keeps an accused's name searchable (its own design): set the cases up
    # first, then watch everything the register does.
    convict(lahore_case, accused, "2 years")
    case = open_case(rp.base, "911/2026", ["PPC 377A"], days_ago=2)
    add_accused(rp.base, case)
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    for name in ("django.request", "django.db.backends", "muhafiz"):
        caplog.set_level(logging.DEBUG, logger=name)
    registrant = Registrant.objects.get()
    office = RecordingClient(signed_in(rp.register_officer))
    police = RecordingClient(signed_in(rp.station_officer))
    conviction = registrant.convictions.get()
    office.post(f"/register/registrants/{registrant.code}/convictions/{conviction.pk}/confirm/", {})
    released = timezone.localtime(conviction.convicted_at + dt.timedelta(days=20))
    office.post(
        f"/register/registrants/{registrant.code}/release/",
        {
            "released_at": released.strftime("%Y-%m-%dT%H:%M"),
            "address": ACCUSED_ADDRESS,
            "district": "LHR",
        },
    )
    # A failed attempt (no new address), then the real visit.
    visit = (released + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    police.post(
        f"/register/registrants/{registrant.code}/verifications/",
        {"visited_at": visit, "outcome": "moved", "district": "LHR"},
    )
    police.post(
        f"/register/registrants/{registrant.code}/verifications/",
        {"visited_at": visit, "outcome": "moved", "district": "LHR", "new_address": NEW_ADDRESS},
    )
    page = police.get(f"/register/registrants/{registrant.code}/")
    assert NEW_ADDRESS in page.content.decode()  # shown to the police of the district...
    assert "no-store" in page["Cache-Control"]
    actions.evaluate_compliance(SYSTEM, now=timezone.now() + dt.timedelta(days=800))

    investigator = RecordingClient(signed_in(rp.lahore_investigator))
    investigator.post(
        "/register/checks/new/",
        {"case": case.reference, "accused": "A1", "reason": "Suspect in FIR"},
    )
    check = CheckRequest.objects.get()
    prosecutor = RecordingClient(signed_in(rp.prosecutor))
    prosecutor.post(
        f"/api/v1/register/checks/{check.pk}/decision",
        {"approve": True, "reason": "Relevant"},
        content_type="application/json",
    )
    answer = investigator.post(f"/api/v1/register/checks/{check.pk}/result")
    assert answer.json()["found"] is True
    employer = RecordingClient(signed_in(rp.employer))
    employer.post(
        "/register/vetting/",
        {
            "position": "Teacher",
            "applicant_cnic": ACCUSED_CNIC,
            "consent_reference": "C-1",
            "consent_given_on": timezone.localdate().isoformat(),
        },
    )
    # Someone without the right is refused (and django.request logs it).
    RecordingClient(signed_in(rp.analyst)).get(f"/register/registrants/{registrant.code}/")
    due = office.get("/api/v1/register/due")
    assert due.status_code == 200

    messages = [record.getMessage() for record in caplog.records]
    assert any("INSERT INTO" in m and "register_address" in m for m in messages)
    urls = office.urls + police.urls + investigator.urls + prosecutor.urls + employer.urls
    not_records = investigator.bodies + prosecutor.bodies + employer.bodies + [due.content.decode()]
    for secret in SECRETS:
        for message in messages:
            assert secret not in message
        for record in caplog.records:
            assert secret not in str(record.args)
        for url in urls:
            assert secret not in url
        for body in not_records:
            assert secret not in body
        for event in AuditEvent.objects.all():
            assert secret not in f"{event.object_label} {event.reason} {event.details}"
