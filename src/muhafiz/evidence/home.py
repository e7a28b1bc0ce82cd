"""The evidence app's part of the home page (core.home): the items I hold, each leading to its
latest scan when it has one. Connected in `EvidenceConfig.ready()`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from muhafiz.core.home import PANEL_ROWS, QueuePanel, QueueRow
from muhafiz.core.permissions import Perm, granted_perms, user_pk
from muhafiz.evidence import selectors


def panels(principal: Any, *, now: datetime) -> QueuePanel | None:
    if user_pk(principal) is None or Perm.EVIDENCE_VIEW not in granted_perms(principal):
        return None
    items = selectors.items_held_by(principal)
    rows = []
    for item in items[:PANEL_ROWS]:
        scans = list(item.scans.all())
        latest = max(scans, key=lambda s: (s.created_at, s.pk)) if scans else None
        rows.append(
            QueueRow(
                label=f"{item.case.reference} · {item.label}",
                url=reverse("evidence:item", args=[item.pk]),
                badge=item.get_kind_display(),
                detail=item.description,
                when=item.seized_at,
                post_url="",
                key=f"item-{item.pk}",
            )
        )
        if latest is not None:
            rows.append(
                QueueRow(
                    label=_("Scan of %(item)s") % {"item": item.label},
                    url=reverse("evidence:scan", args=[latest.pk]),
                    badge=latest.get_status_display(),
                    tone="ok" if latest.status == "imported" else "soon",
                    key=f"scan-{latest.pk}",
                )
            )
    return QueuePanel(
        key="items-held",
        title=_("Evidence items you hold"),
        order=25,
        rows=rows,
        total=items.count(),
        empty=_("You hold no evidence item."),
    )
