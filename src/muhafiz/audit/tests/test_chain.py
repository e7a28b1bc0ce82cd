"""The audit chain: records commit with their write, tampering is named, rows stay put."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import RequestFactory, override_settings

from muhafiz.audit.actions import (
    AuditError,
    NotInTransactionError,
    ObjectRef,
    record,
    record_read,
)
from muhafiz.audit.chain import GENESIS_HASH, compute_row_hash, verify_chain
from muhafiz.audit.models import AppendOnlyError, AuditEvent
from muhafiz.testing import People

pytestmark = pytest.mark.django_db


def _write_some(people: People, count: int = 3) -> list[AuditEvent]:
    events = []
    with transaction.atomic():
        for number in range(count):
            events.append(
                record(
                    people.lahore_investigator,
                    "case.update",
                    ObjectRef("cases.case", str(number), f"case {number}"),
                    field="stage",
                    value=number,
                )
            )
    return events


@pytest.mark.django_db(transaction=True)
def test_record_refuses_to_write_outside_a_transaction(people: People) -> None:
    with pytest.raises(NotInTransactionError):
        record(people.lahore_investigator, "case.create")


def test_records_chain_from_the_genesis_hash(people: People) -> None:
    first, second, third = _write_some(people)
    assert first.sequence == 1
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.row_hash
    assert third.prev_hash == second.row_hash
    assert compute_row_hash(AuditEvent.objects.get(pk=third.pk)) == third.row_hash
    result = verify_chain()
    assert result.ok
    assert result.checked == 3
    assert result.head_hash == third.row_hash


def test_record_keeps_actor_role_agency_and_staff_address(people: People) -> None:
    request = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3")
    with transaction.atomic():
        event = record(
            people.prosecutor, "case.review", reason="scrutiny of the challan", request=request
        )
    assert event.actor_name == "pros.lahore"
    assert event.actor_role == "prosecutor"
    assert event.actor_agency == "PB-POLICE"
    assert event.client_address == "10.1.2.3"
    assert event.reason == "scrutiny of the challan"


def test_behind_a_trusted_proxy_the_forwarded_address_is_kept(people: People) -> None:
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7"
    )
    with override_settings(MUHAFIZ_TRUSTED_PROXY_COUNT=1), transaction.atomic():
        event = record(people.prosecutor, "case.review", request=request)
    assert event.client_address == "198.51.100.7"  # the client's own claim is not trusted
    with transaction.atomic():
        event = record(people.prosecutor, "case.review", request=request)
    assert event.client_address == "10.0.0.1"


def test_a_public_reporter_leaves_no_address(people: People) -> None:
    request = RequestFactory().post("/report", REMOTE_ADDR="10.9.9.9")
    with transaction.atomic():
        event = record(AnonymousUser(), "intake.report.submit", request=request)
    assert event.actor_kind == "public"
    assert event.client_address is None


def test_a_rolled_back_write_leaves_no_audit_record(people: People) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        record(people.lahore_investigator, "case.create")
        raise RuntimeError("the write failed")
    assert not AuditEvent.objects.exists()


def test_action_names_are_dotted(people: People) -> None:
    with transaction.atomic(), pytest.raises(AuditError):
        record(people.lahore_investigator, "Case Create")
    with transaction.atomic(), pytest.raises(AuditError, match="at most 100"):
        record(people.lahore_investigator, "case." + "x" * 100)


def test_details_refuse_objects_that_are_not_plain_data(people: People) -> None:
    with transaction.atomic(), pytest.raises(ValueError, match="pass the object's id"):
        record(people.lahore_investigator, "case.update", suspect=people.prosecutor)


def test_details_with_times_and_nesting_still_verify(people: People) -> None:
    with transaction.atomic():
        record(
            None,
            "clock.overdue",
            when=dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC),
            stages={"fir": 1, "challan": [1.5, None, True, "ok"]},
            label="ع",
        )
    assert verify_chain().ok


def test_sensitive_read_needs_a_purpose_and_commits(people: People) -> None:
    target = ObjectRef("cases.victim", "17", "V-2026-LHR-0017")
    with pytest.raises(AuditError, match="purpose"):
        record_read(people.lahore_investigator, "victim.identity.view", target, reason=" ")
    event = record_read(
        people.lahore_investigator, "victim.identity.view", target, reason="statement"
    )
    assert event.object_label == "V-2026-LHR-0017"


def test_the_model_refuses_to_change_or_delete_an_event(people: People) -> None:
    (event,) = _write_some(people, 1)
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_an_update_on_the_audit_table_fails_in_the_database(people: People) -> None:
    _write_some(people, 2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(sequence=1).update(reason="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(sequence=2).delete()
    assert AuditEvent.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")
def test_postgresql_rejects_an_update_with_raw_sql(people: People) -> None:
    _write_some(people, 1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE audit_auditevent SET reason = 'x'")


def _tamper(sql: str, params: list[str | int]) -> None:
    """Change a row behind the application's back, as a database administrator could."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A superuser can switch triggers off for the session; the chain still tells.
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(sql, params)
            cursor.execute("SET LOCAL session_replication_role = origin")
        else:
            cursor.execute("DROP TRIGGER audit_auditevent_no_update")
            cursor.execute("DROP TRIGGER audit_auditevent_no_delete")
            cursor.execute(sql, params)
            # The test's transaction rolls back, which brings the triggers back.


def test_changing_one_audit_row_makes_verify_name_that_row(people: People) -> None:
    events = _write_some(people, 5)
    target = events[2]
    _tamper("UPDATE audit_auditevent SET reason = %s WHERE id = %s", ["nothing", target.pk])
    result = verify_chain()
    assert not result.ok
    assert result.broken_id == target.pk
    assert result.broken_sequence == 3
    assert result.checked == 2
    assert "changed" in result.reason


def test_deleting_a_row_makes_verify_name_the_next_row(people: People) -> None:
    events = _write_some(people, 4)
    _tamper("DELETE FROM audit_auditevent WHERE id = %s", [events[1].pk])
    result = verify_chain()
    assert not result.ok
    assert result.broken_id == events[2].pk
    assert "missing" in result.reason


def test_rehashing_a_changed_row_still_breaks_the_next_link(people: People) -> None:
    events = _write_some(people, 3)
    forged = AuditEvent.objects.get(pk=events[0].pk)
    forged.reason = "forged"
    forged_hash = compute_row_hash(forged)
    _tamper(
        "UPDATE audit_auditevent SET reason = %s, row_hash = %s WHERE id = %s",
        ["forged", forged_hash, forged.pk],
    )
    result = verify_chain()
    assert result.broken_id == events[1].pk
    assert "prev_hash" in result.reason


def test_two_events_cannot_share_a_sequence(people: People) -> None:
    (event,) = _write_some(people, 1)
    clone = AuditEvent(
        sequence=event.sequence,
        occurred_at=event.occurred_at,
        actor_kind="system",
        action="x.y",
        prev_hash=GENESIS_HASH,
        row_hash="f" * 64,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


def test_cli_verify_reports_the_broken_row(people: People) -> None:
    from click.testing import CliRunner

    from muhafiz.ops.cli import audit

    events = _write_some(people, 2)
    runner = CliRunner()
    assert "2 rows verified" in runner.invoke(audit, ["verify"]).output
    _tamper("UPDATE audit_auditevent SET action = %s WHERE id = %s", ["x.y", events[1].pk])
    outcome = runner.invoke(audit, ["verify"])
    assert outcome.exit_code == 1
    assert f"row {events[1].pk}" in outcome.output


def test_oversized_details_and_reasons_are_refused(people: People) -> None:
    with transaction.atomic():
        with pytest.raises(AuditError, match="ids and codes"):
            record(None, "case.update", blob="x" * 20_000)
        with pytest.raises(AuditError, match="at most 2000"):
            record(None, "case.update", reason="y" * 2001)
    assert not AuditEvent.objects.exists()


def test_awkward_details_read_back_to_the_same_hash(people: People) -> None:
    """Unicode, big and small numbers, nesting: the hash survives the database's JSON type."""
    with transaction.atomic():
        event = record(
            None,
            "case.update",
            urdu="مقدمہ نمبر ۱۷",
            emoji="✓",
            big=2**62,
            negative=-(2**40),
            tiny=1e-7,
            tenth=0.1,
            nested={"z": [1, {"b": None, "a": True}], "a": []},
            quote='"\\\n\t',
        )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert compute_row_hash(stored) == event.row_hash
    assert verify_chain().ok
