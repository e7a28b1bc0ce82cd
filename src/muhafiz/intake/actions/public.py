"""The confidential public report: submit it, come back with the receipt code and passphrase,
add information. The actor is a `PublicVisitor` (core.permissions.may_report_publicly); each
step is rate limited by the visitor's daily-rotating key."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.hashers import check_password, make_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record
from muhafiz.cases.models import AgeBand
from muhafiz.catalogue.models import District
from muhafiz.core.permissions import may_report_publicly
from muhafiz.intake.actions._common import (
    _check_choice,
    _clean_date,
    _clean_links,
    _clean_text,
    _clock_for,
    _final_reference,
    _new_passphrase,
    _new_receipt_code,
    _normalize_passphrase,
    _normalize_receipt,
    _send_urgent_alerts,
    _temporary_reference,
)
from muhafiz.intake.models import Channel, Concern, Report, ReportMessage
from muhafiz.intake.throttle import check_limit, count_hit


def _check_public(actor: Any) -> None:
    if not may_report_publicly(actor):
        raise PermissionDenied("intake.public")


@dataclass(frozen=True)
class Receipt:
    """What the reporter takes away: shown once, never stored in plain (the passphrase)."""

    report: Report
    receipt_code: str
    passphrase: str


def submit_public_report(
    actor: Any,
    *,
    concern: str,
    account: str,
    district: District | None,
    occurred_on: dt.date | None = None,
    child_in_danger: bool = False,
    links: str = "",
    age_band: str = "",
    reporter_name: str = "",
    reporter_contact: str = "",
    honeypot: str = "",
) -> Receipt:
    """File a confidential report from the public page; returns the receipt code and passphrase.

    A filled honeypot field (a bot) is refused like a bad form, naming no field. Immediate
    danger alerts the district's SSOIU and child-protection unit once, after commit.
    """
    _check_public(actor)
    check_limit("submit", actor.rate_key)
    check_limit("submit_day", actor.rate_key)
    if honeypot:
        count_hit("submit", actor.rate_key)
        raise ValidationError(_("The report could not be accepted. Please try again."))
    concern = _check_choice(concern, Concern, "concern")
    account = _clean_text(account, Report, "account", required=True)
    links = _clean_links(links)
    age_band = _check_choice(age_band or AgeBand.UNKNOWN, AgeBand, "age_band")
    reporter_name = _clean_text(reporter_name, Report, "reporter_name")
    reporter_contact = _clean_text(reporter_contact, Report, "reporter_contact")
    occurred_on = _clean_date(occurred_on)
    code, passphrase = _new_receipt_code(), _new_passphrase()
    received_at = timezone.now()
    due_at, due_rule = _clock_for(concern, received_at)
    count_hit("submit", actor.rate_key)
    count_hit("submit_day", actor.rate_key)
    with transaction.atomic():
        report = Report.objects.create(
            reference=_temporary_reference(),
            channel=Channel.WEB,
            district=district,
            concern=concern,
            account=account,
            occurred_on=occurred_on,
            child_in_danger=child_in_danger,
            links=links,
            age_band=age_band,
            reporter_name=reporter_name,
            reporter_contact=reporter_contact,
            receipt_code=code,
            passphrase_hash=make_password(_normalize_passphrase(passphrase)),
            received_at=received_at,
            due_at=due_at,
            due_rule=due_rule,
        )
        report.reference = _final_reference(report)
        report.save(update_fields=["reference"])
        record(
            actor,
            "intake.report.submit",
            report,
            channel=Channel.WEB,
            district=district.code if district else "",
            concern=concern,
            child_in_danger=child_in_danger,
            contact_left=bool(reporter_contact),
        )
        if child_in_danger:
            transaction.on_commit(lambda: _send_urgent_alerts(report.pk))
    return Receipt(report, code, passphrase)


def open_receipt(actor: Any, receipt_code: str, passphrase: str) -> Report:
    """The reporter's report, when the receipt code and passphrase match. A wrong pair is
    refused with one message (which of the two was wrong is not said) and counted, per
    visitor and per receipt; past the limit even the right pair waits (`RateLimited`)."""
    _check_public(actor)
    code = _normalize_receipt(receipt_code)
    check_limit("login_fail", actor.rate_key)
    if code:
        check_limit("receipt_fail", code)
    report = Report.objects.filter(receipt_code=code).first() if code else None
    # Hash even when there is no such receipt, so the time taken does not tell.
    stored = report.passphrase_hash if report is not None else make_password("no such receipt")
    if not check_password(_normalize_passphrase(passphrase), stored) or report is None:
        count_hit("login_fail", actor.rate_key)
        if code:
            count_hit("receipt_fail", code)
        raise PermissionDenied(_("The receipt code or the passphrase is not right."))
    with transaction.atomic():
        record(actor, "intake.report.reporter_view", report)
    return report


def add_reporter_information(actor: Any, report: Report, text: str) -> ReportMessage:
    """The reporter adds information to their report (after `open_receipt` let them in)."""
    _check_public(actor)
    if not report.receipt_code:
        raise PermissionDenied("intake.public")
    check_limit("add_info", report.receipt_code)
    body = _clean_text(text, ReportMessage, "body", required=True)
    count_hit("add_info", report.receipt_code)
    with transaction.atomic():
        message = ReportMessage.objects.create(report=report, from_staff=False, body=body)
        record(actor, "intake.report.reporter_message", report, message=message.pk)
    return message
