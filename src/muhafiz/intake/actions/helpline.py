"""Helpline intake: staff of 1099, 1121 and 15 record a call as a report of the same kind as a
public report, with the same urgent path."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record
from muhafiz.cases.models import AgeBand
from muhafiz.catalogue.models import District
from muhafiz.core.permissions import Perm, check_perm
from muhafiz.intake.actions._common import (
    _check_choice,
    _clean_links,
    _clean_text,
    _clock_for,
    _final_reference,
    _send_urgent_alerts,
    _temporary_reference,
    _user_or_none,
)
from muhafiz.intake.models import (
    HELPLINE_CHANNELS,
    CallerType,
    Concern,
    HelplineReferral,
    Report,
    Risk,
)


def record_helpline_call(
    actor: Any,
    *,
    channel: str,
    caller_type: str,
    district: District | None,
    age_band: str,
    concern: str,
    account: str,
    risk: str,
    helpline_referral: str = HelplineReferral.NONE,
    links: str = "",
    caller_contact: str = "",
    received_at: dt.datetime | None = None,
    request: HttpRequest | None = None,
) -> Report:
    """Record a helpline call as a report in the district's queue (national when unknown).

    Immediate risk is a child in danger now: the district's SSOIU and child-protection unit
    are alerted once, after commit, exactly as for a public report.
    """
    check_perm(actor, Perm.INTAKE_RECORD)
    if channel not in HELPLINE_CHANNELS:
        raise ValidationError({"channel": _("Choose the helpline that took the call.")})
    caller_type = _check_choice(caller_type, CallerType, "caller_type")
    age_band = _check_choice(age_band or AgeBand.UNKNOWN, AgeBand, "age_band")
    concern = _check_choice(concern, Concern, "concern")
    risk = _check_choice(risk, Risk, "risk")
    helpline_referral = _check_choice(
        helpline_referral or HelplineReferral.NONE, HelplineReferral, "helpline_referral"
    )
    account = _clean_text(account, Report, "account", required=True)
    links = _clean_links(links)
    caller_contact = _clean_text(
        caller_contact, Report, "caller_contact", model_field="reporter_contact"
    )
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + dt.timedelta(minutes=5):
        raise ValidationError({"received_at": _("The call cannot be in the future.")})
    due_at, due_rule = _clock_for(concern, received_at)
    in_danger = risk == Risk.IMMEDIATE
    with transaction.atomic():
        report = Report.objects.create(
            reference=_temporary_reference(),
            channel=channel,
            district=district,
            concern=concern,
            account=account,
            child_in_danger=in_danger,
            links=links,
            age_band=age_band,
            caller_type=caller_type,
            risk=risk,
            helpline_referral=helpline_referral,
            reporter_contact=caller_contact,
            received_at=received_at,
            due_at=due_at,
            due_rule=due_rule,
            recorded_by=_user_or_none(actor),
        )
        report.reference = _final_reference(report)
        report.save(update_fields=["reference"])
        record(
            actor,
            "intake.report.helpline",
            report,
            request=request,
            channel=channel,
            district=district.code if district else "",
            concern=concern,
            risk=risk,
            referral=helpline_referral,
        )
        if in_danger:
            transaction.on_commit(lambda: _send_urgent_alerts(report.pk))
    return report
