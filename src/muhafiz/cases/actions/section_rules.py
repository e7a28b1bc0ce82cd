"""Section rules: when facts suggest an offence (edited with CATALOGUE_EDIT)."""

from __future__ import annotations

from collections.abc import Sequence as Seq
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record
from muhafiz.cases.actions._common import _clean
from muhafiz.cases.models import (
    FACT_FIELDS,
    SectionRule,
)
from muhafiz.catalogue.models import Offence
from muhafiz.core.permissions import (
    Perm,
    check_perm,
)

# --- section rules ------------------------------------------------------------------------------


def add_section_rule(
    actor: Any,
    *,
    facts: Seq[str],
    offence_code: str,
    explanation: str,
    weaker_codes: Seq[str] = (),
    source: str = "",
    request: HttpRequest | None = None,
) -> SectionRule:
    """Add a rule: when every fact in `facts` holds, suggest `offence_code`."""
    check_perm(actor, Perm.CATALOGUE_EDIT)
    wanted = sorted(set(facts))
    if not wanted:
        raise ValidationError({"facts": _("Choose at least one fact.")})
    unknown = set(wanted) - set(FACT_FIELDS)
    if unknown:
        raise ValidationError({"facts": _("Unknown fact: %(f)s") % {"f": ", ".join(unknown)}})
    if not Offence.objects.filter(code=offence_code).exists():
        raise ValidationError(
            {"offence_code": _("Not in the catalogue: %(c)s") % {"c": offence_code}}
        )
    rule = SectionRule(
        facts=wanted,
        offence_code=offence_code,
        explanation=(explanation or "").strip(),
        weaker_codes=sorted({c.strip() for c in weaker_codes if c.strip()}),
        source=(source or "").strip(),
    )
    _clean(rule)
    with transaction.atomic():
        rule.save(force_insert=True)
        record(
            actor,
            "catalogue.section_rule.add",
            rule,
            request=request,
            facts=wanted,
            offence=offence_code,
            weaker=rule.weaker_codes,
        )
    return rule


def set_section_rule_active(
    actor: Any, rule: SectionRule, active: bool, *, request: HttpRequest | None = None
) -> SectionRule:
    check_perm(actor, Perm.CATALOGUE_EDIT)
    if rule.active != active:
        rule.active = active
        with transaction.atomic():
            rule.save(update_fields=["active"])
            record(
                actor,
                "catalogue.section_rule.activate" if active else "catalogue.section_rule.retire",
                rule,
                request=request,
            )
    return rule
