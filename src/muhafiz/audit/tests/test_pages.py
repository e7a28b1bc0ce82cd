"""The auditor's page and API: only auditors read the log, reading is audited, filters work."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from muhafiz.audit.actions import ObjectRef, record
from muhafiz.audit.models import AuditEvent
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db


def _history(people: People) -> None:
    with transaction.atomic():
        record(people.lahore_investigator, "case.create", ObjectRef("cases.case", "7", "LHR-7"))
        record(people.lahore_investigator, "case.update", ObjectRef("cases.case", "7", "LHR-7"))
        record(people.kasur_investigator, "case.create", ObjectRef("cases.case", "9", "KSR-9"))
        record(
            people.prosecutor,
            "victim.identity.view",
            ObjectRef("cases.victim", "3", "V-2026-LHR-0003"),
            reason="statement before trial",
        )


def test_the_auditor_reads_the_log_and_the_reading_is_audited(people: People) -> None:
    _history(people)
    response = signed_in(people.auditor).get(reverse("audit:log"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "victim.identity.view" in body
    assert "statement before trial" in body
    assert "V-2026-LHR-0003" in body
    seen = AuditEvent.objects.get(action="audit.view")
    assert seen.actor_name == "auditor"
    assert seen.client_address == "127.0.0.1"


@pytest.mark.parametrize(
    "who", ["lahore_investigator", "lahore_supervisor", "administrator", "analyst", "outsider"]
)
def test_only_auditors_open_the_audit_log(people: People, who: str) -> None:
    response = signed_in(getattr(people, who)).get(reverse("audit:log"))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="audit.view").exists()


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(people: People) -> None:
    response = Client().get(reverse("audit:log"))
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"actor": "inv.lahore"}, ["case.update", "case.create"]),
        ({"action": "case.create"}, ["case.create", "case.create"]),
        ({"action": "victim"}, ["victim.identity.view"]),
        ({"object_type": "cases.case", "object_id": "7"}, ["case.update", "case.create"]),
    ],
)
def test_the_auditor_filters_by_actor_action_and_object(
    people: People, query: dict[str, str], expected: list[str]
) -> None:
    _history(people)
    response = signed_in(people.auditor).get(reverse("audit:log"), query)
    actions = [event.action for event in response.context["page"]]
    assert actions == expected
    seen = AuditEvent.objects.filter(action="audit.view").get()
    assert query.items() <= seen.details.items()


def test_the_auditor_filters_by_date(people: People) -> None:
    _history(people)
    today = timezone.localdate()
    client = signed_in(people.auditor)
    tomorrow = (today + dt.timedelta(days=2)).isoformat()
    response = client.get(reverse("audit:log"), {"date_from": tomorrow})
    assert list(response.context["page"]) == []
    response = client.get(reverse("audit:log"), {"date_from": tomorrow, "date_to": "2020-01-01"})
    assert "The start date is after the end date." in response.content.decode()


def test_the_log_is_paginated(people: People) -> None:
    with transaction.atomic():
        for number in range(60):
            record(None, "clock.tick", number=number)
    client = signed_in(people.auditor)
    first = client.get(reverse("audit:log"), {"action": "clock"})
    assert len(first.context["page"]) == 50
    second = client.get(reverse("audit:log"), {"action": "clock", "page": "2"})
    assert [e.details["number"] for e in second.context["page"]] == list(range(9, -1, -1))
    assert "action=clock&amp;page=1" in second.content.decode()


def test_the_auditor_checks_the_chain_and_sees_a_break(people: People) -> None:
    _history(people)
    client = signed_in(people.auditor)
    assert client.get(reverse("audit:verify")).status_code == 405
    response = client.post(reverse("audit:verify"))
    assert "intact" in response.content.decode()
    victim_view = AuditEvent.objects.get(action="victim.identity.view")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        else:
            cursor.execute("DROP TRIGGER audit_auditevent_no_update")
        cursor.execute(
            "UPDATE audit_auditevent SET reason = 'routine' WHERE id = %s", [victim_view.pk]
        )
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")
    response = client.post(reverse("audit:verify"))
    assert "BROKEN" in response.content.decode()
    assert response.context["result"].broken_id == victim_view.pk


def _client_token(scopes: list[str]) -> str:
    """A national client of the profile for `scopes`: the audit reader, or one that reads no
    audit (the statistics reader)."""
    from muhafiz.testing import make_api_client

    profile = "audit_reader" if "audit.view" in scopes else "statistics_reader"
    _client, token = make_api_client(profile)
    return token


def test_the_api_lists_events_for_an_auditing_client(people: People) -> None:
    _history(people)
    token = _client_token(["audit.view"])
    response = Client().get(
        "/api/v1/audit/events",
        {"action": "case", "limit": "2"},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3
    assert [item["action"] for item in body["items"]] == ["case.create", "case.update"]
    assert len(body["items"][0]["row_hash"]) == 64
    seen = AuditEvent.objects.get(action="audit.view")
    assert seen.actor_kind == "api_client"
    assert seen.details["via"] == "api"


def test_the_api_refuses_clients_and_people_without_audit_rights(people: People) -> None:
    token = _client_token(["case.view"])
    response = Client().get("/api/v1/audit/events", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"
    assert signed_in(people.lahore_investigator).get("/api/v1/audit/events").status_code == 403


def test_the_api_verifies_the_chain(people: People) -> None:
    _history(people)
    response = signed_in(people.auditor).get("/api/v1/audit/verify")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["checked"] == 4


def test_the_api_ships_the_log_in_order_after_a_sequence(people: People) -> None:
    _history(people)
    token = _client_token(["audit.view"])
    response = Client().get(
        "/api/v1/audit/events",
        {"after_sequence": "2"},
        headers={"authorization": f"Bearer {token}"},
    )
    items = response.json()["items"]
    assert [item["sequence"] for item in items] == [3, 4]
    assert items[0]["prev_hash"] == AuditEvent.objects.get(sequence=2).row_hash


def test_the_audit_log_reads_right_to_left_in_urdu(people: People) -> None:
    from django.conf import settings

    _history(people)
    client = signed_in(people.auditor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    body = client.get(reverse("audit:log")).content.decode()
    assert 'dir="rtl"' in body
    assert 'lang="ur"' in body
    # An action reads in Urdu, by what happened; its code stays for the filter link (issue 15).
    assert 'data-action="victim.identity.view"><a href="?action=victim.identity.view"' in body
    assert "متاثرہ کی شناخت پڑھی گئی</a>" in body
