"""The public report, the helpline call and the triage queue, through the actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Alert, AlertKind, Case
from muhafiz.catalogue.models import District
from muhafiz.intake import actions
from muhafiz.intake.models import Report, ReportState, Throttle
from muhafiz.intake.tests.conftest import CHILD_NAME, REPORTER_CONTACT
from muhafiz.intake.throttle import PublicVisitor, RateLimited, visitor_key
from muhafiz.testing import People

pytestmark = pytest.mark.django_db(transaction=False)


def _public(reporter: Any, district: Any, **extra: Any) -> actions.Receipt:
    return actions.submit_public_report(
        reporter,
        concern=extra.pop("concern", "sexual_abuse"),
        account=extra.pop("account", f"A neighbour abuses {CHILD_NAME} in the afternoons."),
        district=district,
        reporter_contact=extra.pop("reporter_contact", REPORTER_CONTACT),
        **extra,
    )


def test_a_public_report_lands_in_its_districts_queue_with_a_receipt(
    reporter: PublicVisitor, lahore: Any, people: People
) -> None:
    receipt = _public(reporter, lahore)
    report = receipt.report
    assert report.district == lahore
    assert report.state == ReportState.NEW
    assert report.reference.startswith("R-")
    assert len(receipt.receipt_code) == 14 and len(receipt.passphrase) == 19
    # The passphrase is kept as a password hash only; the account and contact encrypted.
    assert receipt.passphrase not in report.passphrase_hash
    assert report.due_at is not None and report.due_rule == "intake_report_screened"
    assert report in Report.objects.filter(district=lahore)
    event = AuditEvent.objects.get(action="intake.report.submit")
    assert event.actor_kind == "public" and event.client_address is None


def test_a_missing_child_gets_the_zarra_two_hour_clock(
    reporter: PublicVisitor, lahore: Any
) -> None:
    report = _public(reporter, lahore, concern="missing_child").report
    assert report.due_rule == "fir_missing_child"
    assert report.due_at is not None
    assert report.due_at - report.received_at == dt.timedelta(hours=2)


def test_an_unknown_district_goes_to_the_national_queue(
    reporter: PublicVisitor, nccia_investigator: Any, people: People
) -> None:
    report = _public(reporter, None).report
    assert report.district is None
    from muhafiz.intake import selectors

    assert report in selectors.queue(nccia_investigator)
    assert report not in selectors.queue(people.lahore_investigator)


def test_the_honeypot_refuses_a_bot(reporter: PublicVisitor, lahore: Any) -> None:
    with pytest.raises(ValidationError):
        _public(reporter, lahore, honeypot="http://spam.example")
    assert Report.objects.count() == 0


def test_a_visitor_is_slowed_after_five_reports_an_hour(
    reporter: PublicVisitor, lahore: Any
) -> None:
    for _ in range(5):
        _public(reporter, lahore)
    with pytest.raises(RateLimited):
        _public(reporter, lahore)
    assert Report.objects.count() == 5
    other = PublicVisitor(rate_key=visitor_key("198.51.100.9"))
    _public(other, lahore)


def test_the_throttle_keeps_no_address(reporter: PublicVisitor, lahore: Any) -> None:
    _public(reporter, lahore)
    keys = list(Throttle.objects.values_list("key", flat=True))
    assert keys and all("203.0.113" not in k for k in keys)
    # The key rotates daily.
    assert visitor_key("203.0.113.77", dt.date(2026, 1, 1)) != visitor_key(
        "203.0.113.77", dt.date(2026, 1, 2)
    )


def test_staff_and_accounts_cannot_use_the_public_rule(people: People, lahore: Any) -> None:
    for person in (people.lahore_investigator, people.analyst):
        with pytest.raises(PermissionDenied):
            _public(person, lahore)


def test_the_receipt_and_passphrase_bring_back_the_staff_reply(
    reporter: PublicVisitor, lahore: Any, people: People
) -> None:
    receipt = _public(reporter, lahore)
    actions.reply_to_reporter(people.lahore_investigator, receipt.report, "We are looking into it.")
    report = actions.open_receipt(reporter, receipt.receipt_code.lower(), receipt.passphrase)
    assert report == receipt.report
    actions.add_reporter_information(reporter, report, "It happens on Tuesdays.")
    bodies = [(m.from_staff, m.body) for m in report.messages.all()]
    assert bodies == [(True, "We are looking into it."), (False, "It happens on Tuesdays.")]


def test_a_wrong_passphrase_is_refused_and_then_rate_limited(
    reporter: PublicVisitor, lahore: Any
) -> None:
    receipt = _public(reporter, lahore)
    for _ in range(5):
        with pytest.raises(PermissionDenied):
            actions.open_receipt(reporter, receipt.receipt_code, "wrong-pass-word-0000")
    # Past the limit on this receipt even the right passphrase waits (and from elsewhere too).
    elsewhere = PublicVisitor(rate_key=visitor_key("198.51.100.9"))
    with pytest.raises(RateLimited):
        actions.open_receipt(elsewhere, receipt.receipt_code, receipt.passphrase)


def test_danger_now_alerts_the_districts_ssoiu_and_cpu_once(
    reporter: PublicVisitor,
    lahore: Any,
    people: People,
    kasur_cpo: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report = _public(reporter, lahore, child_in_danger=True).report
    alerted = set(
        Alert.objects.filter(kind=AlertKind.URGENT_REPORT).values_list(
            "recipient__username", flat=True
        )
    )
    assert alerted == {"inv.lahore", "sup.lahore", "cpo.lahore"}
    assert "cpo.kasur" not in alerted and "inv.kasur" not in alerted
    # Sending again (a retried job) alerts nobody twice.
    from muhafiz.intake.actions._common import _send_urgent_alerts

    assert _send_urgent_alerts(report.pk) == 0
    assert Alert.objects.filter(kind=AlertKind.URGENT_REPORT).count() == 3
    alert = Alert.objects.filter(kind=AlertKind.URGENT_REPORT).first()
    assert alert is not None and alert.case is None and report.reference in alert.link
    assert CHILD_NAME not in alert.text()


def test_a_helpline_call_is_the_same_record_with_the_same_urgent_path(
    helpline_officer: Any,
    lahore: Any,
    people: People,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        report = actions.record_helpline_call(
            helpline_officer,
            channel="helpline_1099",
            caller_type="parent",
            district=lahore,
            age_band="6-10",
            concern="missing_child",
            account="Boy did not come home from school.",
            risk="immediate",
            helpline_referral="zarra",
        )
    assert isinstance(report, Report) and report.child_in_danger
    assert report.due_rule == "fir_missing_child"
    assert Alert.objects.filter(kind=AlertKind.URGENT_REPORT).count() == 3
    with pytest.raises(PermissionDenied):
        actions.record_helpline_call(
            people.lahore_investigator,
            channel="helpline_1099",
            caller_type="parent",
            district=lahore,
            age_band="6-10",
            concern="missing_child",
            account="x",
            risk="low",
        )


def test_the_queue_moves_new_screening_referred_closed_with_a_reason(
    reporter: PublicVisitor, lahore: Any, people: People
) -> None:
    report = _public(reporter, lahore).report
    investigator = people.lahore_investigator
    with pytest.raises(ValidationError):
        actions.refer_report(investigator, report, "police")  # not screened yet
    actions.start_screening(investigator, report)
    assert report.screened_at is not None
    actions.assign_report(investigator, report, people.child_protection_officer)
    actions.refer_report(people.child_protection_officer, report, "child_protection", "CPU visit")
    with pytest.raises(ValidationError):
        actions.close_report(investigator, report, "bored")
    actions.close_report(investigator, report, "referral_done")
    report.refresh_from_db()
    assert (report.state, report.referred_to, report.close_reason) == (
        "closed",
        "child_protection",
        "referral_done",
    )
    assert [t.to_state for t in report.transitions.all()] == ["screening", "referred", "closed"]
    with pytest.raises(ValidationError):
        actions.assign_report(investigator, report, people.kasur_investigator)


def test_kasur_staff_cannot_touch_a_lahore_report(
    reporter: PublicVisitor, lahore: Any, people: People, kasur_cpo: Any
) -> None:
    report = _public(reporter, lahore).report
    for person in (people.kasur_investigator, kasur_cpo, people.prosecutor):
        with pytest.raises(PermissionDenied):
            actions.start_screening(person, report)


def test_open_a_case_from_the_report_creates_the_linked_case(
    reporter: PublicVisitor, lahore: Any, people: People, police: Any
) -> None:
    report = _public(
        reporter, lahore, concern="online_material", occurred_on=dt.date(2026, 1, 3)
    ).report
    actions.start_screening(people.lahore_investigator, report)
    with pytest.raises(PermissionDenied):  # child protection opens no case
        actions.open_case_from_report(people.child_protection_officer, report, agency=police)
    case = actions.open_case_from_report(people.lahore_investigator, report, agency=police)
    report.refresh_from_db()
    assert report.case == case and report.state == ReportState.CASE_OPENED
    assert case.district == lahore and case.reported_at == report.received_at
    assert case.facts() == {"victim_under_18", "abuse_recorded", "material_online"}
    assert case.summary == report.account
    assert AuditEvent.objects.filter(action="case.create", object_id=str(case.pk)).exists()
    with pytest.raises(ValidationError):
        actions.open_case_from_report(people.lahore_investigator, report, agency=police)
    assert Case.objects.count() == 1


def test_a_national_report_is_routed_before_a_case_is_opened(
    reporter: PublicVisitor, nccia_investigator: Any, lahore: Any, police: Any, people: People
) -> None:
    report = _public(reporter, None).report
    with pytest.raises(ValidationError):
        actions.open_case_from_report(nccia_investigator, report, agency=police)
    actions.move_report_to_district(nccia_investigator, report, lahore)
    assert report.district == lahore
    with pytest.raises(PermissionDenied):
        actions.move_report_to_district(
            people.lahore_investigator, report, District.objects.get(code="KSR")
        )


def test_the_clock_is_overdue_after_its_deadline(reporter: PublicVisitor, lahore: Any) -> None:
    from muhafiz.intake import selectors

    report = _public(reporter, lahore).report
    assert not selectors.is_overdue(report)
    Report.objects.filter(pk=report.pk).update(due_at=timezone.now() - dt.timedelta(minutes=1))
    report.refresh_from_db()
    assert selectors.is_overdue(report)


def test_the_statistics_hook_counts_reports_not_yet_cases_and_child_protection_referrals(
    reporter: PublicVisitor, lahore: Any, people: People, police: Any
) -> None:
    from muhafiz.core.statistics import statistics_counts

    first = _public(reporter, lahore).report
    second = _public(reporter, lahore).report
    _public(reporter, None)
    actions.start_screening(people.lahore_investigator, first)
    actions.refer_report(people.lahore_investigator, first, "child_protection")
    actions.start_screening(people.lahore_investigator, second)
    actions.open_case_from_report(people.lahore_investigator, second, agency=police)
    year = timezone.localtime().year
    rows = [row for result in statistics_counts.send() for row in result]
    mine = {(r.measure, r.district_id, r.year, r.value) for r in rows}
    assert ("reports_received", lahore.pk, year, 1) in mine  # the second became a case
    assert ("reports_received", None, year, 1) in mine  # the national queue
    assert ("referrals", lahore.pk, year, 1) in mine
