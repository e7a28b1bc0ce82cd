"""Concurrent writers append to one unbroken chain (each in its own transaction and connection)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from muhafiz.audit.actions import ObjectRef, record
from muhafiz.audit.chain import verify_chain
from muhafiz.audit.models import AuditEvent
from muhafiz.audit.testing import audit_rows_removed  # noqa: F401 - fixture

WRITERS = 4
EVENTS_EACH = 15


@pytest.mark.usefixtures("audit_rows_removed")
def test_concurrent_writers_leave_one_unbroken_chain() -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(number: int) -> None:
        try:
            start.wait()
            for event in range(EVENTS_EACH):
                with transaction.atomic():
                    record(None, "test.write", ObjectRef("test.writer", str(number)), n=event)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    sequences = list(AuditEvent.objects.order_by("sequence").values_list("sequence", flat=True))
    assert sequences == list(range(1, WRITERS * EVENTS_EACH + 1))
    result = verify_chain()
    assert result.ok, result.reason
    assert result.checked == WRITERS * EVENTS_EACH


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL advisory lock")
@pytest.mark.usefixtures("audit_rows_removed")
def test_a_writer_waits_for_the_open_transaction_before_it() -> None:
    """The second writer reads the chain head only after the first commits."""
    first_recorded = threading.Event()
    release_first = threading.Event()
    order: list[str] = []

    def first() -> None:
        with transaction.atomic():
            record(None, "test.first")
            first_recorded.set()
            release_first.wait(10)
            order.append("first commits")
        connections.close_all()

    def second() -> None:
        first_recorded.wait(10)
        with transaction.atomic():
            record(None, "test.second")
            order.append("second recorded")
        connections.close_all()

    one, two = threading.Thread(target=first), threading.Thread(target=second)
    one.start()
    two.start()
    two.join(0.5)
    assert two.is_alive()  # blocked on the chain lock
    release_first.set()
    one.join()
    two.join()
    assert order == ["first commits", "second recorded"]
    assert verify_chain().ok
