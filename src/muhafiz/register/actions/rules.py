"""Changing the register's rules (periods, verification intervals, review terms, notice
deadlines): the national register office only (`PeriodRule.access_scope` is national), with a
reason and a source, audited. A change never rewrites a version: the version in force is closed
the day the new one starts, so every conviction keeps the rule it was entered under and a
judgment recorded late still gets the version in force on its date."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record
from muhafiz.catalogue.models import Offence
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import Perm, check_perm
from muhafiz.register.models import NoticeRule, NoticeUnit, PeriodRule
from muhafiz.register.support import reason_text, user_or_none

PERIOD_FIELDS = (
    "name",
    "name_ur",
    "tier",
    "rank",
    "offence_codes",
    "min_sentence_months",
    "max_sentence_months",
    "life_or_death",
    "non_custodial",
    "period_months",
    "verification_interval_months",
    "review_after_months",
    "review_reduction_months",
    "review_decision_days",
    "source",
    "verified",
    "notes",
    "active",
)
NOTICE_FIELDS = ("amount", "unit", "in_advance", "source", "verified")
NOTICE_UNITS = tuple(NoticeUnit.values)
MAX_MONTHS = 1200
# A change may be dated ahead (a notified amendment) but not beyond this.
MAX_AHEAD = timedelta(days=5 * 366)

Rule = TypeVar("Rule", PeriodRule, NoticeRule)


def _check_start(current: models.Model, in_force_from: date, today: date) -> None:
    since: date = current.in_force_from  # type: ignore[attr-defined]
    if in_force_from < since:
        raise ValidationError(
            {
                "in_force_from": _("The version in force started on %(date)s: start after it.")
                % {"date": since}
            }
        )
    if in_force_from > today + MAX_AHEAD:
        raise ValidationError({"in_force_from": _("That is more than five years ahead.")})


def _months(value: Any, field: str, *, low: int = 0) -> int | None:
    if value in (None, ""):
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= MAX_MONTHS:
        raise ValidationError({field: _("Give a number from %(low)d to 1200.") % {"low": low}})
    return value


def _clean_period(changes: dict[str, Any]) -> dict[str, Any]:
    clean = dict(changes)
    for field in (
        "min_sentence_months",
        "max_sentence_months",
        "period_months",
        "review_after_months",
        "review_reduction_months",
        "review_decision_days",
    ):
        if field in clean:
            clean[field] = _months(clean[field], field)
    if "verification_interval_months" in clean:
        interval = _months(
            clean["verification_interval_months"], "verification_interval_months", low=1
        )
        if interval is None or interval > 120:
            raise ValidationError(
                {"verification_interval_months": _("Give a number of months from 1 to 120.")}
            )
        clean["verification_interval_months"] = interval
    if "offence_codes" in clean:
        codes = sorted({str(c).strip() for c in clean["offence_codes"] or [] if str(c).strip()})
        listed = set(
            Offence.objects.filter(code__in=codes, registrable=True).values_list("code", flat=True)
        )
        unknown = [c for c in codes if c not in listed]
        if unknown:
            raise ValidationError(
                {
                    "offence_codes": _("Not a listed offence of the catalogue: %(codes)s.")
                    % {"codes": ", ".join(unknown)}
                }
            )
        clean["offence_codes"] = codes
    texts: dict[str, str] = {
        f: str(clean[f] or "").strip() for f in ("name", "name_ur", "tier", "source") if f in clean
    }
    check_lengths(PeriodRule, texts)
    clean.update(texts)
    if "name" in clean and not clean["name"]:
        raise ValidationError({"name": _("This field is required.")})
    return clean


def _check_bounds(rule: PeriodRule) -> None:
    low, high = rule.min_sentence_months, rule.max_sentence_months
    if low is not None and high is not None and low > high:
        raise ValidationError(
            {"max_sentence_months": _("The upper bound is below the lower bound.")}
        )
    if rule.review_reduction_months and rule.period_months is None:
        raise ValidationError(
            {"review_reduction_months": _("Only a period with an end can be shortened.")}
        )


def _new_version(
    actor: Any,
    current: Rule,
    changes: dict[str, Any],
    fields: tuple[str, ...],
    *,
    in_force_from: date,
    reason: str,
) -> tuple[Rule, list[str]]:
    changed = [f for f in fields if f in changes and changes[f] != getattr(current, f)]
    if not changed:
        raise ValidationError(_("Nothing was changed."))
    successor = type(current).objects.get(pk=current.pk)
    successor.pk = None
    successor.version = current.version + 1
    for field in changed:
        setattr(successor, field, changes[field])
    successor.in_force_from = in_force_from
    successor.in_force_until = None
    successor.changed_by = user_or_none(actor)
    successor.change_reason = reason
    if not successor.source.strip():
        raise ValidationError({"source": _("Cite the source of the rule.")})
    return successor, changed


def _publish(current: Rule, successor: Rule) -> None:
    """Close the version in force and add its successor (inside the caller's transaction); the
    row lock makes a second officer's simultaneous change fail cleanly, not collide."""
    locked = type(current).objects.select_for_update().get(pk=current.pk)
    if locked.in_force_until is not None:
        raise ValidationError(_("Someone changed this rule meanwhile: open it again."))
    locked.in_force_until = successor.in_force_from
    locked.save(update_fields=["in_force_until"])
    successor.save(force_insert=True)


def change_period_rule(
    actor: Any,
    rule: PeriodRule,
    *,
    changes: dict[str, Any],
    in_force_from: date,
    reason: str,
    request: HttpRequest | None = None,
) -> PeriodRule:
    """A new version of period rule `rule` (the version in force), in force from
    `in_force_from`; the old version stays with the convictions entered under it."""
    check_perm(actor, Perm.REGISTER_MANAGE, rule)
    reason = reason_text(reason, PeriodRule, model_field="change_reason")
    if rule.in_force_until is not None:
        raise ValidationError(_("Change the version in force, not an earlier one."))
    _check_start(rule, in_force_from, timezone.localdate())
    successor, changed = _new_version(
        actor,
        rule,
        _clean_period(changes),
        PERIOD_FIELDS,
        in_force_from=in_force_from,
        reason=reason,
    )
    _check_bounds(successor)
    with transaction.atomic():
        _publish(rule, successor)
        record(
            actor,
            "register.rule_changed",
            successor,
            request=request,
            reason=reason,
            rule=successor.code,
            version=successor.version,
            fields=changed,
            in_force_from=in_force_from.isoformat(),
        )
    return successor


def change_notice_rule(
    actor: Any,
    rule: NoticeRule,
    *,
    changes: dict[str, Any],
    in_force_from: date,
    reason: str,
    request: HttpRequest | None = None,
) -> NoticeRule:
    """A new version of a notice deadline (within what time, or how long ahead, a registrant
    must report), in force from `in_force_from`."""
    check_perm(actor, Perm.REGISTER_MANAGE, rule)
    reason = reason_text(reason, NoticeRule, model_field="change_reason")
    if rule.in_force_until is not None:
        raise ValidationError(_("Change the version in force, not an earlier one."))
    _check_start(rule, in_force_from, timezone.localdate())
    clean = dict(changes)
    if "amount" in clean:
        amount = clean["amount"]
        if not isinstance(amount, int) or isinstance(amount, bool) or not 1 <= amount <= 365:
            raise ValidationError({"amount": _("Give a number from 1 to 365.")})
    if "unit" in clean and clean["unit"] not in NOTICE_UNITS:
        raise ValidationError({"unit": _("Choose hours, days or business days.")})
    if "source" in clean:
        clean["source"] = str(clean["source"] or "").strip()[:300]
    successor, changed = _new_version(
        actor, rule, clean, NOTICE_FIELDS, in_force_from=in_force_from, reason=reason
    )
    if successor.in_advance and successor.unit != "days":
        raise ValidationError({"unit": _("A notice due ahead of an event counts in days.")})
    with transaction.atomic():
        _publish(rule, successor)
        record(
            actor,
            "register.rule_changed",
            successor,
            request=request,
            reason=reason,
            rule=f"notice:{successor.kind}",
            version=successor.version,
            fields=changed,
            in_force_from=in_force_from.isoformat(),
        )
    return successor
