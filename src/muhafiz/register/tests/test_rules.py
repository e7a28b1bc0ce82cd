"""The rules as data and as pure functions: sentences read, the right rule chosen, each shipped
rule citing its source with a verified flag."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from muhafiz.register.models import NoticeRule, PeriodRule
from muhafiz.register.rules import Sentence, choose_rule, period_end, read_sentence


@pytest.mark.parametrize(
    ("text", "kind", "months"),
    [
        ("7 years rigorous imprisonment and fine Rs 500,000", "custodial", 84),
        ("2 years and 6 months", "custodial", 30),
        ("6 months simple imprisonment", "custodial", 6),
        ("imprisonment for life", "life", None),
        ("Death, and fine", "death", None),
        ("Fine Rs 100,000", "non_custodial", 0),
        ("۱۰ سال قید", "custodial", 120),
        ("عمر قید", "life", None),
        ("as per the judgment", "unknown", None),
        ("", "unknown", None),
    ],
)
def test_sentences_are_read(text: str, kind: str, months: int | None) -> None:
    assert read_sentence(text) == Sentence(kind, months)


@given(st.text(max_size=300))
def test_reading_any_text_never_fails(text: str) -> None:
    sentence = read_sentence(text)
    assert sentence.kind in {"custodial", "life", "death", "non_custodial", "unknown"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        (Sentence("custodial", 6), "uk-7-years"),
        (Sentence("custodial", 7), "uk-10-years"),
        (Sentence("custodial", 29), "uk-10-years"),
        (Sentence("custodial", 30), "uk-indefinite"),
        (Sentence("life", None), "uk-life"),
        (Sentence("non_custodial", 0), "uk-5-years"),
        (Sentence("unknown", None), None),
    ],
)
def test_the_uk_rules_follow_the_sentence(sentence: Sentence, code: str | None) -> None:
    rule = choose_rule(PeriodRule.objects.filter(rule_set="uk"), ["PPC 377A"], sentence)
    assert (rule.code if rule else None) == code


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offences", "code"),
    [
        (["PECA 21"], "sorna-tier-1"),
        (["PECA 22"], "sorna-tier-2"),
        (["PECA 21", "PPC 376"], "sorna-tier-3"),
    ],
)
def test_the_sorna_rules_follow_the_offence(offences: list[str], code: str) -> None:
    rule = choose_rule(
        PeriodRule.objects.filter(rule_set="sorna"), offences, Sentence("unknown", None)
    )
    assert rule is not None and rule.code == code


@pytest.mark.django_db
def test_every_shipped_rule_cites_its_source() -> None:
    sources = [r.source for r in PeriodRule.objects.all()]
    sources += [r.source for r in NoticeRule.objects.all()]
    assert len(sources) >= 14
    assert all(sources)
    # The tier mapping is an analogy, and Pakistan's own deadlines are not public.
    assert not any(r.verified for r in PeriodRule.objects.filter(rule_set="sorna"))
    assert not any(r.verified for r in NoticeRule.objects.all())


def test_periods_run_from_release() -> None:
    assert period_end(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert period_end(date(2026, 1, 31), None) is None
