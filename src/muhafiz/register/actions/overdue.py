"""The register's short clocks, evaluated with the statutory clocks (every 15 minutes): a check
request past its 48 hours alerts the prosecutors who may decide it and the investigator who
asked; a review past its decision date alerts the register officers covering the registrant.
Each once (`RegisterAlert.dedupe_key`), however often the job runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from muhafiz.accounts.models import User
from muhafiz.audit.actions import record
from muhafiz.core.permissions import Perm, check_system
from muhafiz.register.models import (
    REVIEW_KINDS,
    AlertKind,
    CheckRequest,
    CheckStatus,
    DueProcessRequest,
    DueProcessState,
    RegisterAlert,
)
from muhafiz.register.support import bulk_alerts, people_covering


@dataclass
class OverdueRun:
    checks: int = 0
    reviews: int = 0
    alerts: int = 0


def evaluate_register_clocks(actor: Any, *, now: datetime | None = None) -> OverdueRun:
    """Alert once on every undecided check past its 48 hours and every undecided review past
    its decision date (SYSTEM only; safe to run twice or concurrently)."""
    check_system(actor)
    now = now or timezone.now()
    run = OverdueRun()
    checks = list(
        CheckRequest.objects.filter(status=CheckStatus.REQUESTED, due_at__lt=now)
        .select_related("case__district")
        .order_by("pk")
    )
    reviews = list(
        DueProcessRequest.objects.filter(
            kind__in=REVIEW_KINDS, due_at__lt=now, state__in=_OPEN_REVIEW
        )
        .select_related("registrant__district")
        .order_by("pk")
    )
    run.checks, run.reviews = len(checks), len(reviews)
    rows = [*_check_rows(checks), *_review_rows(reviews)]
    with transaction.atomic():
        run.alerts = bulk_alerts(rows)
        if run.alerts:
            record(
                actor,
                "register.overdue_alerted",
                checks=run.checks,
                reviews=run.reviews,
                alerts=run.alerts,
            )
    return run


_OPEN_REVIEW = (DueProcessState.RECEIVED, DueProcessState.UNDER_REVIEW)


def _recipients(perm: Perm, district: Any) -> list[int]:
    return list(User.objects.filter(people_covering(perm, district)).values_list("pk", flat=True))


def _check_rows(checks: list[CheckRequest]) -> list[RegisterAlert]:
    rows: list[RegisterAlert] = []
    by_district: dict[int, list[int]] = {}
    for check in checks:
        district = check.case.district
        if district.pk not in by_district:
            by_district[district.pk] = _recipients(Perm.REGISTER_APPROVE, district)
        message = gettext_noop(
            "The register check in %(case)s is past its 48 hours without a decision."
        )
        # The prosecutors who may decide it, and the investigator waiting for it.
        for pk in {*by_district[district.pk], check.requested_by_id}:
            rows.append(
                RegisterAlert(
                    recipient_id=pk,
                    kind=AlertKind.CHECK_OVERDUE,
                    message=message,
                    params={"case": check.case.reference},
                    link=f"/register/checks/{check.pk}/",
                    dedupe_key=f"check_overdue:{check.pk}",
                )
            )
    return rows


def _review_rows(reviews: list[DueProcessRequest]) -> list[RegisterAlert]:
    rows: list[RegisterAlert] = []
    for item in reviews:
        registrant = item.registrant
        message = gettext_noop("The review asked by %(code)s is past its decision date.")
        for pk in _recipients(Perm.REGISTER_MANAGE, registrant.district):
            rows.append(
                RegisterAlert(
                    recipient_id=pk,
                    kind=AlertKind.REVIEW_OVERDUE,
                    message=message,
                    params={"code": registrant.code},
                    link=f"/register/registrants/{registrant.code}/",
                    dedupe_key=f"review_overdue:{item.pk}",
                )
            )
    return rows
