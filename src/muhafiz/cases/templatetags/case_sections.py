"""The case's section bar: overview, parties, proceedings and clocks, evidence and scans, links and
network, referrals, history; each a page under /cases/<reference>/, shown to those its page
opens for. The apps above cases (proceedings, evidence) render it on their sections too."""

from __future__ import annotations

from typing import Any

from django import template

from muhafiz.cases import selectors
from muhafiz.cases.models import Case

register = template.Library()


@register.inclusion_tag("cases/_case_nav.html", takes_context=True)
def case_sections(context: template.Context, case: Case, current: str) -> dict[str, Any]:
    request = context["request"]
    return {
        "sections": selectors.case_sections(request.user, case),
        "current": current,
        "case": case,
    }
