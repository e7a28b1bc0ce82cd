"""`{% case_timeline case %}`: a case's stages and clocks, for any page that shows the case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone

from muhafiz.cases.models import Case
from muhafiz.core.permissions import Perm, has_perm
from muhafiz.proceedings.models import CaseProgress, Clock
from muhafiz.proceedings.selectors import case_timeline as build_timeline

register = template.Library()


@register.inclusion_tag("proceedings/_timeline.html", takes_context=True)
def case_timeline(context: template.Context, case: Case) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    visible = has_perm(user, Perm.CASE_VIEW, case)
    return {
        "case": case,
        "timeline": build_timeline(case) if visible else None,
        "progress": CaseProgress.objects.filter(case=case).select_related("court").first()
        if visible
        else None,
        "can_edit": visible and has_perm(user, Perm.CASE_EDIT, case) and case.is_open,
        "on_stages_page": context.get("on_stages_page", False),
    }


@register.inclusion_tag("proceedings/_time_left.html")
def time_left(clock: Clock, now: datetime | None = None) -> dict[str, Any]:
    """A running clock's time left, red when missed, amber when nearly due; a stopped clock's
    state (met, met late)."""
    from muhafiz.proceedings.home import time_left_text, tone

    now = now or timezone.now()
    if clock.stopped_at is not None:
        return {"text": clock.get_state_display(), "tone": "late" if clock.late else "met"}
    return {"text": time_left_text(clock.due_at, now), "tone": tone(clock.state, clock.due_at, now)}
