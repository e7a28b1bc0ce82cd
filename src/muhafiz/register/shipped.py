"""The shipped register rules (periods, verification intervals, notification deadlines),
installed when their tables are empty: by migration 0002 and after every migrate or test-database
flush (`post_migrate`); once rows exist, the register office owns them.

Pakistan's Sex Offenders Register Rules 2023 are not public in detail, so two models from
registers elsewhere ship side by side and a deployment chooses (`MUHAFIZ_REGISTER_RULE_SET`).
Every rule cites its source; `verified=False` marks what is not confirmed against the law's
text ([unverified]) or what is an analogy (the mapping of Pakistani sections to SORNA tiers is
ours, not the law's).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps

SORNA = "US SORNA, 34 U.S.C. 20911, 20915, 20918 (tiers, periods, verification)"
SORNA_MAPPING = (
    "Tier of each Pakistani section by analogy with SORNA's tier definitions: a mapping made "
    "for Muhafiz, to be confirmed by the deployment's legal team"
)
UK = "UK Sexual Offences Act 2003 s.82 (notification periods by sentence), s.85 (yearly)"
UK_REVIEW = (
    "UK Sexual Offences Act 2003 ss.91A-91F (inserted by the Remedial Order 2012): indefinite "
    "notification reviewable 15 years after release (8 if under 18 at conviction); the chief "
    "officer decides within 6 weeks [unverified]"
)
SORNA_REDUCTION = (
    "US SORNA 34 U.S.C. 20915(b): tier I reduced by 5 years after a clean record for 10 years; "
    "decision time is ours (6 weeks, as the UK review) [unverified]"
)
NOTICE_SOURCE = (
    "US SORNA 34 U.S.C. 20913 (3 business days), UK SOA 2003 s.84 (3 days), "
    "s.86 (foreign travel 7 days ahead); Pakistan's Rules 2023 not public [unverified]"
)
UK_FINE_ONLY = "From the UK SOA 2003 s.82 table (a person of any other description: 5 years)."
# What the shipped rules said before migration 0007: they cited the team's notes file, which
# means nothing to a register officer. Rows still carrying these exact texts get the new ones.
CITED_BEFORE_0007 = {
    "source": {
        "shared/domain/pakistan-law.md: US SORNA (3 business days), UK SOA 2003 s.84 (3 days), "
        "s.86 (foreign travel 7 days ahead); Pakistan's Rules 2023 not public [unverified]": (
            NOTICE_SOURCE
        ),
    },
    "notes": {
        "UK Sexual Offences Act 2003 ss.91A-91F (inserted by the Remedial Order 2012): "
        "indefinite notification reviewable 15 years after release (8 if under 18 at "
        "conviction); the chief officer decides within 6 weeks (the 6 weeks are not in "
        "pakistan-law.md) [unverified]": UK_REVIEW,
        "Not in pakistan-law.md's summary of the UK periods; from SOA 2003 s.82 table.": (
            UK_FINE_ONLY
        ),
    },
}

TIER_III = ["PPC 375", "PPC 375A", "PPC 376", "PPC 377B"]
TIER_II = ["PPC 377A", "PPC 292B", "PPC 292C", "PECA 22", "PPC 371A", "PPC 371B"]
TIER_I = ["PPC 292A", "PPC 377", "PECA 21"]

# (rule_set, code, name, name_ur, tier, rank, offences, min, max, life_or_death, non_custodial,
#  period_months, verification months, source, verified, notes)
PERIOD_RULES: list[dict[str, Any]] = [
    {
        "rule_set": "sorna",
        "code": "sorna-tier-3",
        "name": "SORNA tier III: registration for life, verification every 3 months",
        "name_ur": "درجہ سوم: تاحیات اندراج، ہر 3 ماہ تصدیق",
        "tier": "III",
        "rank": 30,
        "offence_codes": TIER_III,
        "period_months": None,
        "verification_interval_months": 3,
        "source": SORNA,
        "verified": False,
        "notes": SORNA_MAPPING,
    },
    {
        "rule_set": "sorna",
        "code": "sorna-tier-2",
        "name": "SORNA tier II: 25 years, verification every 6 months",
        "name_ur": "درجہ دوم: 25 سال، ہر 6 ماہ تصدیق",
        "tier": "II",
        "rank": 20,
        "offence_codes": TIER_II,
        "period_months": 25 * 12,
        "verification_interval_months": 6,
        "source": SORNA,
        "verified": False,
        "notes": SORNA_MAPPING,
    },
    {
        "rule_set": "sorna",
        "code": "sorna-tier-1",
        "name": "SORNA tier I: 15 years, verification every year",
        "name_ur": "درجہ اول: 15 سال، ہر سال تصدیق",
        "tier": "I",
        "rank": 10,
        "offence_codes": TIER_I,
        "period_months": 15 * 12,
        "verification_interval_months": 12,
        "source": SORNA,
        "verified": False,
        "notes": SORNA_MAPPING + "; " + SORNA_REDUCTION,
        "review_after_months": 10 * 12,
        "review_reduction_months": 5 * 12,
        "review_decision_days": 42,
    },
    {
        "rule_set": "uk",
        "code": "uk-indefinite",
        "name": "Imprisonment for 30 months or more (or life): indefinitely, reviewable after 15 "
        "years",
        "name_ur": "30 ماہ یا زیادہ قید (یا عمر قید): غیر معینہ مدت، 15 سال بعد نظرثانی",
        "rank": 40,
        "min_sentence_months": 30,
        "life_or_death": False,
        "period_months": None,
        "verification_interval_months": 12,
        "source": UK,
        "verified": True,
        "notes": UK_REVIEW,
        "review_after_months": 15 * 12,
        "review_decision_days": 42,
    },
    {
        "rule_set": "uk",
        "code": "uk-life",
        "name": "Imprisonment for life or death sentence: indefinitely",
        "name_ur": "عمر قید یا سزائے موت: غیر معینہ مدت",
        "rank": 41,
        "life_or_death": True,
        "period_months": None,
        "verification_interval_months": 12,
        "source": UK,
        "verified": True,
        "notes": UK_REVIEW,
        "review_after_months": 15 * 12,
        "review_decision_days": 42,
    },
    {
        "rule_set": "uk",
        "code": "uk-10-years",
        "name": "Imprisonment for more than 6 and less than 30 months: 10 years",
        "name_ur": "6 ماہ سے زیادہ اور 30 ماہ سے کم قید: 10 سال",
        "rank": 30,
        "min_sentence_months": 7,
        "max_sentence_months": 29,
        "period_months": 120,
        "verification_interval_months": 12,
        "source": UK,
        "verified": True,
    },
    {
        "rule_set": "uk",
        "code": "uk-7-years",
        "name": "Imprisonment for 6 months or less: 7 years",
        "name_ur": "6 ماہ یا کم قید: 7 سال",
        "rank": 20,
        "min_sentence_months": 1,
        "max_sentence_months": 6,
        "period_months": 84,
        "verification_interval_months": 12,
        "source": UK,
        "verified": True,
    },
    {
        "rule_set": "uk",
        "code": "uk-5-years",
        "name": "No imprisonment (fine only): 5 years",
        "name_ur": "قید کے بغیر (صرف جرمانہ): 5 سال",
        "rank": 10,
        "non_custodial": True,
        "period_months": 60,
        "verification_interval_months": 12,
        "source": UK,
        "verified": False,
        "notes": UK_FINE_ONLY,
    },
]

# kind, amount, unit, in advance, verified
NOTICE_RULES: list[tuple[str, int, str, bool, bool]] = [
    ("initial", 3, "business_days", False, False),
    ("name", 3, "business_days", False, False),
    ("address", 3, "business_days", False, False),
    ("phone", 3, "business_days", False, False),
    ("employment", 3, "business_days", False, False),
    ("school", 3, "business_days", False, False),
    ("travel", 7, "days", True, False),
]


def install_register_rules(*, using: str = "default", apps: Apps = global_apps) -> int:
    """Add the shipped rules to empty tables; returns how many rows were added."""
    period_model = apps.get_model("register", "PeriodRule")
    notice_model = apps.get_model("register", "NoticeRule")
    # A migration's historical model may predate some fields (the review ones): give it
    # only what it has; the migration that adds them fills them (0004).
    known = {f.name for f in period_model._meta.get_fields()}
    added = 0
    if not period_model.objects.using(using).exists():
        period_model.objects.using(using).bulk_create(
            [period_model(**{k: v for k, v in rule.items() if k in known}) for rule in PERIOD_RULES]
        )
        added += len(PERIOD_RULES)
    if not notice_model.objects.using(using).exists():
        notice_model.objects.using(using).bulk_create(
            [
                notice_model(
                    kind=kind,
                    amount=amount,
                    unit=unit,
                    in_advance=advance,
                    source=NOTICE_SOURCE,
                    verified=verified,
                )
                for kind, amount, unit, advance, verified in NOTICE_RULES
            ]
        )
        added += len(NOTICE_RULES)
    return added


REVIEW_FIELDS = ("review_after_months", "review_reduction_months", "review_decision_days")


def add_review_terms(*, using: str = "default", apps: Apps = global_apps) -> int:
    """Give the shipped rules still at their first version their review terms (migration
    0004, for registers installed before reviews existed); returns how many rows changed."""
    period_model = apps.get_model("register", "PeriodRule")
    changed = 0
    for rule in PERIOD_RULES:
        terms = {k: rule[k] for k in REVIEW_FIELDS if k in rule}
        if terms:
            changed += (
                period_model.objects.using(using)
                .filter(code=rule["code"], version=1, review_after_months__isnull=True)
                .update(notes=rule.get("notes", ""), **terms)
            )
    return changed


def install_after_migrate(*, using: str = "default", apps: Apps = global_apps, **_: Any) -> None:
    """`post_migrate` receiver: install the shipped rules once the tables exist."""
    try:
        apps.get_model("register", "PeriodRule")
    except LookupError:
        return
    install_register_rules(using=using, apps=apps)


def cite_the_law(*, using: str = "default", apps: Apps = global_apps) -> int:
    """Migration 0007: the shipped rules' citations still as shipped before it (naming the
    team's notes file) say the law instead; returns how many rows changed. Only the wording of
    a citation changes, never a term of a rule; text someone edited is left as it is."""
    changed = 0
    for model_name in ("PeriodRule", "NoticeRule"):
        model = apps.get_model("register", model_name)
        fields = {f.name for f in model._meta.get_fields()}
        for field in fields & CITED_BEFORE_0007.keys():
            for before, after in CITED_BEFORE_0007[field].items():
                rows = model.objects.using(using).filter(**{field: before}, changed_by=None)
                changed += rows.update(**{field: after})
    return changed
