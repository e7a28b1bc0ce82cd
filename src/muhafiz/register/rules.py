"""The register's rules as pure functions: reading a sentence, choosing the period rule, the
period's end. Nothing here reads the database or the clock; the rules themselves are rows
(`PeriodRule`, `NoticeRule`, shipped by `shipped.py`) passed in by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar

from muhafiz.proceedings.clocks import add_months

_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
_YEARS = re.compile(r"(\d{1,3})\s*(?:-\s*)?(?:years?|yrs?|y\b|سال)", re.IGNORECASE)
_MONTHS = re.compile(r"(\d{1,3})\s*(?:-\s*)?(?:months?|mos?\b|ماہ)", re.IGNORECASE)
_LIFE = re.compile(r"\b(?:life|imprisonment\s+for\s+life)\b|عمر\s*قید", re.IGNORECASE)
_DEATH = re.compile(r"\b(?:death|hang(?:ed|ing)?)\b|سزائے\s*موت", re.IGNORECASE)
_FINE_ONLY = re.compile(r"^\s*(?:a\s+)?fine\b|^\s*جرمانہ", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Sentence:
    kind: str  # SentenceKind value
    months: int | None


def read_sentence(text: str) -> Sentence:
    """What a judgment's sentence says, as far as the register needs it: imprisonment for life,
    death, a custodial term in months (years and months added), a fine only, or not understood.

    "7 years rigorous imprisonment and fine Rs 500,000" → custodial, 84 months.
    """
    clean = (text or "").translate(_DIGITS).strip()
    if not clean:
        return Sentence("unknown", None)
    if _DEATH.search(clean):
        return Sentence("death", None)
    if _LIFE.search(clean):
        return Sentence("life", None)
    years = sum(int(m) for m in _YEARS.findall(clean))
    months = sum(int(m) for m in _MONTHS.findall(clean))
    total = years * 12 + months
    if total > 0:
        return Sentence("custodial", total)
    if _FINE_ONLY.search(clean):
        return Sentence("non_custodial", 0)
    return Sentence("unknown", None)


class RuleLike(Protocol):
    code: str
    rank: int
    offence_codes: Any
    min_sentence_months: int | None
    max_sentence_months: int | None
    life_or_death: bool
    non_custodial: bool


R = TypeVar("R", bound=RuleLike)


def rule_matches(rule: RuleLike, offences: Iterable[str], sentence: Sentence) -> bool:
    codes = set(rule.offence_codes or [])
    if codes and not codes & set(offences):
        return False
    if sentence.kind in {"life", "death"}:
        if rule.life_or_death:
            return True
        # A life sentence is longer than any bounded term: a rule open upwards covers it.
        return rule.max_sentence_months is None and not rule.non_custodial
    if sentence.kind == "non_custodial":
        return rule.non_custodial or (
            rule.min_sentence_months in (None, 0) and not rule.life_or_death
        )
    if sentence.kind == "custodial" and sentence.months is not None:
        if rule.non_custodial or rule.life_or_death:
            return False
        low = rule.min_sentence_months or 0
        high = rule.max_sentence_months
        return sentence.months >= low and (high is None or sentence.months <= high)
    # Sentence not understood: only rules that do not depend on the sentence (SORNA tiers).
    return (
        rule.min_sentence_months is None
        and rule.max_sentence_months is None
        and not rule.life_or_death
        and not rule.non_custodial
    )


def choose_rule(rules: Iterable[R], offences: Iterable[str], sentence: Sentence) -> R | None:
    """The most severe rule (highest rank) of `rules` that matches; None when none does."""
    offences = list(offences)
    matching = [r for r in rules if rule_matches(r, offences, sentence)]
    if not matching:
        return None
    return max(matching, key=lambda r: (r.rank, r.code))


def period_end(released_on: date, period_months: int | None) -> date | None:
    """The last day of registration: `period_months` after release (None: without end)."""
    if period_months is None:
        return None
    return add_months(released_on, period_months)
