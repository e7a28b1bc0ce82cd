"""The proceedings app's part of the home page (core.home): the deadlines of my cases that are
missed, nearly due or coming up, with the time left. Connected in `ProceedingsConfig.ready()`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy, ngettext

from muhafiz.core.home import PANEL_ROWS, QueuePanel, QueueRow
from muhafiz.core.permissions import Perm, granted_perms, user_pk
from muhafiz.proceedings import selectors
from muhafiz.proceedings.clocks import ClockState


def time_left_text(due_at: datetime, now: datetime) -> str:
    """ "3 days left", "5 hours left", "missed 2 days ago"."""
    days, hours = selectors.time_left(due_at, now)
    if days < 0 or hours < 0:
        if days:
            return ngettext("missed %(n)d day ago", "missed %(n)d days ago", -days) % {"n": -days}
        return ngettext("missed %(n)d hour ago", "missed %(n)d hours ago", max(1, -hours)) % {
            "n": max(1, -hours)
        }
    if days:
        return ngettext("%(n)d day left", "%(n)d days left", days) % {"n": days}
    return ngettext("%(n)d hour left", "%(n)d hours left", hours) % {"n": hours}


def tone(state: str, due_at: datetime, now: datetime) -> str:
    if state == ClockState.MISSED or due_at <= now:
        return "missed"
    if state == ClockState.DUE_SOON:
        return "soon"
    return "ok"


def panels(principal: Any, *, now: datetime) -> QueuePanel | None:
    if user_pk(principal) is None or Perm.CASE_VIEW not in granted_perms(principal):
        return None
    clocks = selectors.deadlines_for(principal, now=now)
    rows = []
    for clock in clocks[:PANEL_ROWS]:
        name = clock.rule.name_ur if _urdu() and clock.rule.name_ur else clock.rule.name
        detail = name + (f" · {clock.accused.label}" if clock.accused else "")
        rows.append(
            QueueRow(
                label=clock.case.reference,
                url=reverse("proceedings:case", args=[clock.case.reference]),
                badge=time_left_text(clock.due_at, now),
                tone=tone(clock.state, clock.due_at, now),
                detail=detail,
                when=clock.due_at,
                key=f"clock-{clock.pk}",
            )
        )
    # Those who see statistics open the dashboard of their jurisdiction; everyone else the
    # dashboard of their own cases.
    if Perm.STATS_VIEW in granted_perms(principal):
        more_url = reverse("proceedings:dashboard")
        more_label = gettext_lazy("The deadline dashboard")
    else:
        more_url = reverse("proceedings:my_deadlines")
        more_label = gettext_lazy("Deadlines of my cases")
    return QueuePanel(
        key="deadlines",
        title=gettext_lazy("Deadlines"),
        order=10,
        rows=rows,
        total=clocks.count(),
        lead=gettext_lazy("Missed, nearly due and due within a week, on the cases you work on."),
        more_url=more_url,
        more_label=more_label,
        empty=gettext_lazy("No deadline is close."),
    )


def _urdu() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("ur")
