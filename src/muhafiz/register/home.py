"""The register's part of the home page (core.home, the `register.home` slot): what the register
asks of the person now, from `selectors.due_for` (codes and references, never names)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from muhafiz.core.home import PANEL_ROWS, REGISTER_PERMS, QueuePanel, QueueRow
from muhafiz.core.permissions import Perm, granted_perms
from muhafiz.register import selectors


def panels(principal: Any, *, now: datetime) -> QueuePanel | None:
    held = granted_perms(principal) & REGISTER_PERMS
    if not held or held == {Perm.REGISTER_REQUEST}:
        return None
    items = selectors.due_for(principal, now=now)
    rows = [
        QueueRow(
            label=item.label,
            url=item.link,
            badge=item.title,
            tone="missed" if item.due_at is not None and item.due_at <= now else "",
            when=item.due_at,
            key=f"register-{item.kind}-{item.label}",
        )
        for item in items[:PANEL_ROWS]
    ]
    return QueuePanel(
        key="register",
        title=_("The sex offenders register"),
        order=12,
        rows=rows,
        total=len(items),
        more_url="/register/",
        more_label=_("The register"),
        empty=_("Nothing is due on the register."),
    )
