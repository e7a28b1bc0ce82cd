"""What the intake actions share: limits, references, receipt codes, the queue clock, the
urgent-alert path and the identity safety net. No action lives here."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import uuid
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from muhafiz.catalogue.models import DeadlineRule, District
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import PrincipalKind, Scope, principal_kind
from muhafiz.intake.models import Concern, Report

MAX_LINKS = 20
MAX_LINK = 500

SCREENING_RULE = "intake_report_screened"
MISSING_CHILD_RULE = "fir_missing_child"
_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_PASS_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - an alphabet, not a password
_URL = re.compile(r"^(https?://)?[^\s/$.?#][^\s]*\.[^\s]{2,}$", re.IGNORECASE)


def _new_receipt_code() -> str:
    raw = "".join(secrets.choice(_RECEIPT_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _new_passphrase() -> str:
    groups = ["".join(secrets.choice(_PASS_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


def _normalize_receipt(raw: str) -> str:
    text = re.sub(r"[^A-Z0-9]", "", (raw or "").upper())
    return f"{text[:4]}-{text[4:8]}-{text[8:12]}" if len(text) == 12 else ""


def _normalize_passphrase(raw: str) -> str:
    return re.sub(r"[^a-z0-9]", "", (raw or "").lower())


def _temporary_reference() -> str:
    return f"tmp-{uuid.uuid4().hex[:20]}"


def _final_reference(report: Report) -> str:
    """R-2026-000123 (web, helpline) or CT-2026-000123 (CyberTipline): by row id, so two
    reports never share one and no lock is needed; the district is the queue, not the name."""
    prefix = "CT" if report.channel == "cybertipline" else "R"
    year = timezone.localtime(report.received_at).year
    return f"{prefix}-{year}-{report.pk:06d}"


def _clock_rule(concern: str) -> tuple[str, int, str] | None:
    """The catalogue rule of a new report's queue clock: (code, amount, unit). A missing or
    abducted child → the ZARRA FIR limit (2 hours); anything else → the screening limit."""
    code = MISSING_CHILD_RULE if concern == Concern.MISSING_CHILD else SCREENING_RULE
    rule = DeadlineRule.objects.filter(code=code, active=True).first()
    return None if rule is None else (code, rule.amount, rule.unit)


def _clock_for(
    concern: str, received_at: dt.datetime, rule: tuple[str, int, str] | None = None
) -> tuple[dt.datetime | None, str]:
    """When the report is due (and by which rule); `rule` when the caller read it already."""
    from muhafiz.proceedings.clocks import statutory_deadline

    rule = rule or _clock_rule(concern)
    if rule is None:
        return None, ""
    code, amount, unit = rule
    return statutory_deadline(received_at, amount, unit), code


def _clean_text(
    value: str,
    model: type[Model],
    field: str,
    *,
    model_field: str | None = None,
    required: bool = False,
) -> str:
    """A text stripped, required (if so) and within the limit of the `model` field keeping it
    (`model_field`, when its name differs from `field`, the name the caller's users know)."""
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("This is needed.")})
    check_lengths(model, {field: text}, fields={field: model_field or field})
    return text


def _clean_links(raw: str) -> str:
    """Links to online content, one a line; each must look like a web address."""
    check_lengths(Report, {"links": raw or ""})
    lines = [line.strip() for line in (raw or "").splitlines() if line.strip()]
    if len(lines) > MAX_LINKS:
        raise ValidationError({"links": _("At most %(n)d links.") % {"n": MAX_LINKS}})
    for position, line in enumerate(lines, start=1):
        if len(line) > MAX_LINK or not _URL.match(line):
            raise ValidationError(
                {"links": _("Link %(n)d is not a web address.") % {"n": position}}
            )
    return "\n".join(lines)


def _clean_date(value: dt.date | None) -> dt.date | None:
    if value is not None and value > timezone.localdate() + dt.timedelta(days=1):
        raise ValidationError({"occurred_on": _("The date cannot be in the future.")})
    return value


def _check_choice(value: str, choices: Any, field: str, *, blank: bool = False) -> str:
    if blank and not value:
        return ""
    if value not in choices.values:
        raise ValidationError({field: _("Choose one of the options.")})
    return str(value)


def _place_of(district: District | None) -> Scope:
    return (
        Scope()
        if district is None
        else Scope(district_id=district.pk, province_id=district.province_id)
    )


class Place:
    """Where a report not yet written would live, for the jurisdiction check."""

    def __init__(self, district: District | None) -> None:
        self.district = district

    def access_scope(self) -> Scope:
        return _place_of(self.district)


def _user_or_none(actor: Any) -> Any:
    return actor if principal_kind(actor) == PrincipalKind.USER else None


def _urgent_recipients(district_id: int | None) -> list[Any]:
    """Who hears of a child in danger now: the district's SSOIU (staff of the district who
    handle its queue: investigators and supervisors) and its child-protection unit (officers
    who take referrals); for the national queue, national staff who handle it."""
    from muhafiz.accounts.models import User
    from muhafiz.core.permissions import ROLE_GRANTS, Perm

    roles = [role for role, perms in ROLE_GRANTS.items() if Perm.INTAKE_HANDLE in perms]
    people = User.objects.filter(is_active=True, role__in=roles)
    if district_id is None:
        return list(people.filter(jurisdiction_level="national").order_by("pk"))
    return list(
        people.filter(Q(jurisdiction_level="district", district_id=district_id)).order_by("pk")
    )


def _send_urgent_alerts(report_id: int) -> int:
    """After commit: alert every urgent recipient once (dedupe by report), through cases'
    alert action; mark the report alerted. Returns how many alerts were new."""
    from muhafiz.cases.actions import raise_alert
    from muhafiz.cases.models import AlertKind
    from muhafiz.core.permissions import SYSTEM

    report = Report.objects.get(pk=report_id)
    link = reverse("intake:report", args=[report.reference])
    message = gettext_noop("Urgent: a child may be in danger now (report %(ref)s).")
    new = 0
    for person in _urgent_recipients(report.district_id):
        _alert, created = raise_alert(
            SYSTEM,
            report.case,
            person,
            AlertKind.URGENT_REPORT,
            message,
            params={"ref": report.reference},
            dedupe_key=f"intake.urgent:{report.pk}",
            link=link,
        )
        new += int(created)
    if report.urgent_alerted_at is None:
        Report.objects.filter(pk=report.pk).update(urgent_alerted_at=timezone.now())
    return new
