"""A public report, its follow-up and its triage, with every log record and every SQL query
captured: the reporter's address is nowhere (database, logs), and the reporter's contact and
the child's name reach no log line, URL, audit record, export or statistic."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client

from muhafiz.audit.models import AuditEvent
from muhafiz.intake import selectors
from muhafiz.intake.models import Report
from muhafiz.intake.tests.conftest import (
    CHILD_NAME,
    CLIENT_ADDRESS,
    REPORTER_CONTACT,
    REPORTER_NAME,
)
from muhafiz.testing import People, signed_in

SECRETS = (REPORTER_NAME, REPORTER_CONTACT, "7654321", CHILD_NAME)


@pytest.fixture
def sql_logged() -> Iterator[None]:
    previous = connection.force_debug_cursor
    connection.force_debug_cursor = True
    yield
    connection.force_debug_cursor = previous


def _every_stored_value() -> str:
    """Every column of every row of every table, as text (encrypted columns as stored)."""
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            if table not in connection.introspection.table_names(cursor):
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


@pytest.mark.django_db
def test_no_address_in_the_database_or_logs_and_no_contact_anywhere_it_should_not_be(
    people: People, caplog: pytest.LogCaptureFixture, sql_logged: None
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("django.request", "django.db.backends", "django.server", "muhafiz"):
        caplog.set_level(logging.DEBUG, logger=name)
    public = Client()
    urls: list[str] = []

    def post(client: Client, url: str, data: dict[str, Any], **extra: Any) -> Any:
        urls.append(url)
        # Staff requests come from the office (their address is audited, as for all staff).
        address = CLIENT_ADDRESS if client is public else "192.0.2.10"
        response = client.post(url, data, REMOTE_ADDR=address, **extra)
        if response.get("Location"):
            urls.append(response["Location"])
        return response

    form = {
        "lang": "ur",
        "concern": "sexual_abuse",
        "account": f"{CHILD_NAME} is abused by her tutor.",
        "district": "LHR",
        "age_band": "6-10",
        "child_in_danger": "on",
        "reporter_name": REPORTER_NAME,
        "reporter_contact": REPORTER_CONTACT,
        "website": "",
    }
    post(public, "/report/", {**form, "links": "not a link"})  # refused, echoing nothing
    html = post(public, "/report/", form).content.decode()
    code = re.search(r'id="receipt-code">([A-Z0-9-]+)<', html).group(1)  # type: ignore[union-attr]
    secret = re.search(r'id="receipt-passphrase">([a-z0-9-]+)<', html).group(1)  # type: ignore[union-attr]
    report = Report.objects.get()
    staff = signed_in(people.lahore_investigator)
    post(staff, f"/intake/reports/{report.reference}/reply/", {"body": "We will visit."})
    post(public, "/report/follow-up/", {"receipt": code, "passphrase": "wrong", "lang": "ur"})
    post(
        public,
        "/report/follow-up/",
        {
            "receipt": code,
            "passphrase": secret,
            "information": f"{CHILD_NAME} is at home.",
            "lang": "ur",
        },
    )
    post(staff, f"/intake/reports/{report.reference}/screen/", {})
    post(staff, f"/intake/reports/{report.reference}/refer/", {"referred_to": "police", "note": ""})
    api_list = staff.get("/api/v1/intake/reports").content.decode()
    counts = repr(selectors.report_counts())

    messages = [record.getMessage() for record in caplog.records]
    assert any("INSERT INTO" in m and "intake_report" in m for m in messages)  # SQL captured
    stored = _every_stored_value()
    assert CLIENT_ADDRESS not in stored
    for message in messages:
        assert CLIENT_ADDRESS not in message
    for secret_value in SECRETS:
        assert secret_value not in stored  # encrypted at rest
        for message in messages:
            assert secret_value not in message
        for record in caplog.records:
            assert secret_value not in str(record.args)
        for url in urls:
            assert secret_value not in url
        assert secret_value not in api_list
        assert secret_value not in counts
        for event in AuditEvent.objects.all():
            assert secret_value not in f"{event.object_label} {event.reason} {event.details}"
    for url in urls:
        assert code not in url and secret not in url
