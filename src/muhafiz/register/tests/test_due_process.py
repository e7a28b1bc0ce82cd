"""Correction, appeal and removal, each audited; after removal no registrant data remains in
the register's tables, and the audit chain still verifies. The harassment-incident log."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection

from muhafiz.audit.chain import verify_chain
from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Accused, Case
from muhafiz.catalogue.models import District
from muhafiz.register import actions
from muhafiz.register.models import (
    DueProcessState,
    Incident,
    PeriodRule,
    Registrant,
    RegistrantStatus,
)
from muhafiz.register.tests.conftest import (
    ACCUSED_ADDRESS,
    ACCUSED_CNIC,
    ACCUSED_NAME,
    NEW_ADDRESS,
    Convict,
    RegisterPeople,
)
from muhafiz.testing import signed_in


@pytest.fixture
def registrant(
    rp: RegisterPeople, lahore_case: Case, accused: Accused, convict: Convict
) -> Registrant:
    convict(lahore_case, accused, "2 years")
    registrant = Registrant.objects.get()
    actions.confirm_conviction(rp.register_officer, registrant.convictions.get())
    released = registrant.convictions.get().convicted_at + dt.timedelta(days=30)
    actions.record_release(rp.register_officer, registrant, released_at=released)
    actions.record_verification(
        rp.station_officer,
        registrant,
        visited_at=released + dt.timedelta(days=1),
        outcome="moved",
        district=District.objects.get(code="LHR"),
        new_address=NEW_ADDRESS,
    )
    actions.record_notification(
        rp.station_officer,
        registrant,
        kind="employment",
        changed_on=released.date() + dt.timedelta(days=3),
        details="Works at a shop",
        received_at=released + dt.timedelta(days=4),
    )
    registrant.refresh_from_db()
    return registrant


def _actions_audited(prefix: str) -> list[str]:
    return list(
        AuditEvent.objects.filter(action__startswith=prefix).values_list("action", flat=True)
    )


def test_a_correction_is_received_reviewed_decided_and_audited(
    rp: RegisterPeople, registrant: Registrant
) -> None:
    item = actions.submit_due_process(
        rp.register_officer,
        registrant,
        kind="correction",
        grounds="The name is misspelt",
        submitted_through="counsel",
    )
    assert item.state == DueProcessState.RECEIVED
    actions.start_review(rp.register_officer, item)
    actions.decide_due_process(
        rp.register_officer,
        item,
        upheld=True,
        reasons="NADRA record shows the spelling",
        corrected_name="Qadir Testabad Registrantwala",
    )
    registrant.refresh_from_db()
    assert registrant.name == "Qadir Testabad Registrantwala"
    assert _actions_audited("register.due_process") == [
        "register.due_process_decided",
        "register.due_process_review",
        "register.due_process_received",
    ]
    assert AuditEvent.objects.filter(action="register.entry_corrected").count() == 1
    with pytest.raises(ValidationError):
        actions.decide_due_process(rp.register_officer, item, upheld=False, reasons="again")


def test_an_appeal_against_the_tier_applies_the_new_rule(
    rp: RegisterPeople, registrant: Registrant
) -> None:
    item = actions.submit_due_process(
        rp.register_officer,
        registrant,
        kind="appeal_tier",
        grounds="The sentence was reduced on revision",
        submitted_through="register_officer",
    )
    rule = PeriodRule.objects.get(code="uk-7-years")
    actions.decide_due_process(
        rp.register_officer, item, upheld=True, reasons="Revision order", new_rule=rule
    )
    registrant.refresh_from_db()
    assert registrant.convictions.get().rule == rule
    assert registrant.period_ends_on is not None


def _register_tables_text() -> str:
    """Every text column of every register table, decrypted where encrypted."""
    chunks: list[str] = []
    for model in apps.get_app_config("register").get_models():
        for row in model._default_manager.all():
            for field in model._meta.concrete_fields:
                chunks.append(str(getattr(row, field.attname)))
    return "\n".join(chunks)


def _raw_register_tables() -> str:
    chunks: list[str] = []
    with connection.cursor() as cursor:
        for model in apps.get_app_config("register").get_models():
            cursor.execute(f"SELECT * FROM {model._meta.db_table}")  # noqa: S608 - our table names
            chunks.extend(str(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def test_an_upheld_appeal_removes_the_entry_and_erases_the_person(
    rp: RegisterPeople, registrant: Registrant
) -> None:
    actions.record_incident(
        rp.register_officer,
        kind="harassment",
        occurred_on=dt.date(2026, 1, 5),
        description="Neighbours attacked the house after a leak",
        registrant=registrant,
    )
    secrets = (
        ACCUSED_NAME,
        ACCUSED_CNIC,
        ACCUSED_CNIC.replace("-", ""),
        ACCUSED_ADDRESS,
        NEW_ADDRESS,
        "Qadeer T.",
        "Works at a shop",
        "+923017654321",
    )
    before = _register_tables_text()
    assert ACCUSED_NAME in before and NEW_ADDRESS in before  # the check below can see them
    item = actions.submit_due_process(
        rp.register_officer,
        registrant,
        kind="appeal_entry",
        grounds="Wrong person entered",
        submitted_through="counsel",
    )
    client = signed_in(rp.register_officer)
    response = client.post(
        f"/register/registrants/{registrant.code}/due-process/{item.pk}/decide/",
        {"upheld": "yes", "reasons": "Fingerprints do not match"},
    )
    assert response.status_code == 302
    registrant.refresh_from_db()
    assert registrant.status == RegistrantStatus.REMOVED
    assert registrant.removal_reason == "appeal_upheld"
    after = _register_tables_text() + _raw_register_tables()
    for secret in secrets:
        assert secret not in after
    assert not registrant.cnic_index and not registrant.name_index
    # The incident stays, by code only, and the audit chain still verifies.
    assert Incident.objects.get().registrant_code == registrant.code
    assert AuditEvent.objects.filter(action="register.entry_removed").count() == 1
    assert verify_chain().ok


def test_removal_at_the_end_of_the_period_waits_for_the_end(
    rp: RegisterPeople, registrant: Registrant
) -> None:
    with pytest.raises(ValidationError):
        actions.remove_entry(rp.register_officer, registrant, reason="period_ended")
    Registrant.objects.filter(pk=registrant.pk).update(
        period_ends_on=dt.date(2020, 1, 1), indefinite=False
    )
    registrant.refresh_from_db()
    client = signed_in(rp.register_officer)
    response = client.post(
        f"/register/registrants/{registrant.code}/removal/", {"reason": "period_ended"}
    )
    assert response.status_code == 302
    registrant.refresh_from_db()
    assert registrant.status == RegistrantStatus.REMOVED
    assert ACCUSED_NAME not in _register_tables_text()
    # The station officer no longer opens it; the office sees only the code and the reason.
    assert signed_in(rp.station_officer).get(
        f"/register/registrants/{registrant.code}/"
    ).status_code in {403, 404}


def test_a_station_officer_records_no_incident_page_but_the_office_does(
    rp: RegisterPeople, registrant: Registrant
) -> None:
    office = signed_in(rp.register_officer)
    response = office.post(
        "/register/incidents/",
        {
            "kind": "disclosure",
            "occurred_on": "2026-02-01",
            "registrant": registrant.code,
            "description": "A list was shared on a messaging group",
        },
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="register.incident_recorded").count() == 1
    assert signed_in(rp.station_officer).get("/register/incidents/").status_code == 403


def test_the_applicant_sees_every_vetting_answer_about_them(
    rp: RegisterPeople, registrant: Registrant, settings: Any
) -> None:
    from django.utils import timezone

    from muhafiz.register.tests.conftest import approve_organisation
    from muhafiz.testing import make_user

    orphanage = make_user("employer.orphanage", "employer", district_code="LHR")
    approve_organisation(rp.register_officer, orphanage, "Orphanage B")
    for employer in (rp.employer, orphanage):
        actions.vet_applicant(
            employer,
            applicant_cnic=ACCUSED_CNIC,
            position="Guard",
            consent_reference="FORM-1",
            consent_given_on=timezone.localdate(),
        )
    office = signed_in(rp.register_officer)
    response = office.post(
        "/register/vetting/answers/",
        {"applicant_cnic": ACCUSED_CNIC, "purpose": "The applicant asked at the counter"},
    )
    body = response.content.decode()
    assert "Sunrise School" in body and "Orphanage B" in body
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.filter(action="register.vetting_answers_shown").count() == 1
    assert AuditEvent.objects.filter(action="register.vetting_answered").count() == 2
