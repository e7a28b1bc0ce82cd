"""The audit app's part of the home page (core.home): the cases most recently acted on, each
leading to everything the audit log holds about it. Connected in `AuditConfig.ready()`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from muhafiz.audit.models import AuditEvent
from muhafiz.core.home import PANEL_ROWS, QueuePanel, QueueRow
from muhafiz.core.permissions import Perm, granted_perms

# How far back the panel looks for cases (the newest events first).
RECENT_EVENTS = 500


def panels(principal: Any, *, now: datetime) -> QueuePanel | None:
    if Perm.AUDIT_VIEW not in granted_perms(principal):
        return None
    recent = (
        AuditEvent.objects.filter(object_type="cases.case")
        .order_by("-sequence")
        .values_list("object_label", "occurred_at")[:RECENT_EVENTS]
    )
    seen: dict[str, datetime] = {}
    for label, when in recent:
        if label and label not in seen:
            seen[label] = when
        if len(seen) >= PANEL_ROWS:
            break
    log = reverse("audit:log")
    rows = [
        QueueRow(
            label=reference,
            url=f"{log}?{urlencode({'case': reference})}",
            detail=_("Every event about this case"),
            when=when,
            key=f"audit-case-{reference}",
        )
        for reference, when in seen.items()
    ]
    return QueuePanel(
        key="audit-cases",
        title=_("Cases recently acted on"),
        order=10,
        rows=rows,
        total=len(rows),
        more_url=log,
        more_label=_("The whole audit log"),
        empty=_("No case has been acted on yet."),
    )
