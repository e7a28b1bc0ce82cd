"""The cases app's part of each person's home page (core.home): my open cases, unread alerts,
team-join requests to decide, referrals named to me. Read through `selectors`; connected in
`CasesConfig.ready()`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from muhafiz.cases import selectors
from muhafiz.core.home import PANEL_ROWS, QueuePanel, QueueRow
from muhafiz.core.permissions import Perm, granted_perms, user_pk


def panels(principal: Any, *, now: datetime) -> list[QueuePanel]:
    if user_pk(principal) is None:
        return []
    perms = granted_perms(principal)
    result: list[QueuePanel] = []
    if Perm.CASE_VIEW in perms or Perm.WELFARE_VIEW in perms:
        result.append(_alerts(principal))
    if Perm.CASE_OVERSEE in perms:
        result.append(_join_requests(principal))
    if Perm.WELFARE_EDIT in perms:
        result.append(_referrals(principal))
    if Perm.CASE_VIEW in perms:
        result.append(_my_cases(principal))
    return result


def _alerts(principal: Any) -> QueuePanel:
    unread = selectors.alerts_for(principal, unread=True)
    rows = [
        QueueRow(
            # An alert about something that is not a case yet (intake's urgent report) has
            # a link instead.
            label=alert.case.reference if alert.case else alert.get_kind_display(),
            url=(
                reverse("cases:detail", args=[alert.case.reference]) if alert.case else alert.link
            ),
            badge=alert.get_kind_display(),
            tone="missed" if alert.kind == "clock_missed" else "",
            detail=alert.text(),
            when=alert.created_at,
            post_url=reverse("cases:alert_read", args=[alert.pk]),
            post_label=_("Mark read"),
            key=f"alert-{alert.pk}",
        )
        for alert in unread[:PANEL_ROWS]
    ]
    return QueuePanel(
        key="alerts",
        title=_("Unread alerts"),
        order=20,
        rows=rows,
        total=unread.count(),
        more_url=reverse("cases:alerts"),
        more_label=_("All alerts"),
        empty=_("No unread alerts."),
    )


def _join_requests(principal: Any) -> QueuePanel:
    waiting = selectors.join_requests_to_decide(principal)
    rows = [
        QueueRow(
            label=request.case.reference,
            url=reverse("cases:detail", args=[request.case.reference]) + "#join-requests",
            badge=request.get_team_role_display(),
            detail=_("%(user)s asks to join: %(reason)s")
            % {"user": request.user.username, "reason": request.reason},
            when=request.requested_at,
            key=f"join-{request.pk}",
        )
        for request in waiting[:PANEL_ROWS]
    ]
    return QueuePanel(
        key="join-requests",
        title=_("Team-join requests to decide"),
        order=30,
        rows=rows,
        total=waiting.count(),
        empty=_("No request waits for you."),
    )


def _referrals(principal: Any) -> QueuePanel:
    mine = selectors.referrals_for_officer(principal)
    rows = [
        QueueRow(
            label=f"{referral.case.reference} · {referral.victim.pseudonym}",
            url=reverse("cases:referrals", args=[referral.case.reference]),
            badge=referral.get_status_display(),
            tone="soon" if referral.status == "requested" else "",
            detail=referral.needs[:160],
            when=referral.created_at,
            key=f"referral-{referral.pk}",
        )
        for referral in mine[:PANEL_ROWS]
    ]
    return QueuePanel(
        key="referrals",
        title=_("Referrals to you"),
        order=15,
        rows=rows,
        total=mine.count(),
        more_url=reverse("cases:referral_queue"),
        more_label=_("All referrals in your district"),
        empty=_("No referral is waiting for you."),
    )


def _my_cases(principal: Any) -> QueuePanel:
    cases = selectors.my_open_cases(principal)
    rows = [
        QueueRow(
            label=case.reference,
            url=reverse("cases:detail", args=[case.reference]),
            detail=" · ".join(
                part
                for part in (
                    case.district.name,
                    case.police_station.name if case.police_station else "",
                    f"FIR {case.fir_number}" if case.fir_number else "",
                )
                if part
            ),
            when=case.reported_at,
            key=f"case-{case.reference}",
        )
        for case in cases[:PANEL_ROWS]
    ]
    return QueuePanel(
        key="my-cases",
        title=_("My open cases"),
        order=40,
        rows=rows,
        total=cases.count(),
        more_url=reverse("cases:list"),
        more_label=_("All cases"),
        empty=_("You are on no open case's team."),
    )


def nav_counts(principal: Any) -> dict[str, int]:
    """Unread alerts beside "Alerts" in the navigation."""
    if user_pk(principal) is None:
        return {}
    return {"cases:alerts": selectors.alerts_for(principal, unread=True).count()}
