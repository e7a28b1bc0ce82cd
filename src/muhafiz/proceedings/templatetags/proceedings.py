"""`{% case_timeline case %}`: a case's stages and clocks, for any page that shows the case."""

from __future__ import annotations

from typing import Any

from django import template

from muhafiz.cases.models import Case
from muhafiz.core.permissions import Perm, has_perm
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
        "can_edit": visible and has_perm(user, Perm.CASE_EDIT, case) and case.is_open,
        "on_stages_page": context.get("on_stages_page", False),
    }
