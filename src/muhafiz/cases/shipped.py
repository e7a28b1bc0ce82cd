"""The shipped section rules (facts → offence), installed when the table is empty.

Installed by migration 0002 and again after every migrate or test-database flush
(`post_migrate`), like the catalogue; once rows exist, editors own them (retired rules stay as
rows, so a retired shipped rule is never brought back).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps

SOURCE = (
    "shared/domain/pakistan-law.md; PPC ss.292A, 328A, 369A, 371A, 377A/377B as amended 2016; "
    "PECA 2016 ss.21, 22, 22A-22C as amended 2023 [unverified]"
)
WEAKER = ["PPC 292", "PPC 354", "PPC 355"]

RULES: list[tuple[list[str], str, list[str], str]] = [
    (
        ["victim_under_18", "sexual_abuse"],
        "PPC 377A",
        WEAKER,
        "Sexual abuse of a person under 18 is an offence under s.377A.",
    ),
    (
        ["victim_under_18", "sexual_abuse"],
        "PPC 377B",
        WEAKER,
        "s.377B sets the punishment for sexual abuse under s.377A.",
    ),
    (
        ["victim_under_18", "abuse_recorded"],
        "PPC 377A",
        WEAKER,
        "Filming or photographing a child in sexually explicit conduct is sexual abuse (s.377A).",
    ),
    (
        ["victim_under_18", "abuse_recorded"],
        "PPC 377B",
        WEAKER,
        "s.377B sets the punishment for sexual abuse under s.377A.",
    ),
    (
        ["victim_under_18", "abuse_recorded"],
        "PECA 22",
        WEAKER,
        "Producing material of a child in sexually explicit conduct is child pornography "
        "(PECA s.22).",
    ),
    (
        ["victim_under_18", "material_online"],
        "PECA 22",
        WEAKER,
        "Distributing material of a child through an information system is PECA s.22.",
    ),
    (
        ["material_online"],
        "PECA 21",
        [],
        "Sharing sexually explicit images of a person through an information system (PECA s.21).",
    ),
    (
        ["victim_under_18", "online_grooming"],
        "PECA 22A",
        [],
        "Online grooming of a child (PECA s.22A).",
    ),
    (
        ["victim_under_18", "commercial_exploitation"],
        "PECA 22B",
        [],
        "Commercial sexual exploitation of a child (PECA s.22B).",
    ),
    (
        ["victim_under_18", "commercial_exploitation"],
        "PPC 371A",
        [],
        "Selling a person for prostitution (s.371A).",
    ),
    (
        ["victim_under_18", "missing_child", "online_grooming"],
        "PECA 22C",
        [],
        "Using an information system to kidnap or traffic a minor (PECA s.22C).",
    ),
    (["victim_under_18", "trafficking"], "PPC 369A", [], "Trafficking of a child (s.369A)."),
    (
        ["victim_under_18", "exposure_to_seduction"],
        "PPC 292A",
        [],
        "Exposing a child to seduction (s.292A).",
    ),
    (["victim_under_18", "cruelty"], "PPC 328A", [], "Cruelty to a child (s.328A)."),
]


def install_section_rules(*, using: str = "default", apps: Apps = global_apps) -> int:
    """Add the shipped rules if the table is empty; returns how many were added."""
    rule_model = apps.get_model("cases", "SectionRule")
    if rule_model.objects.using(using).exists():
        return 0
    rule_model.objects.using(using).bulk_create(
        [
            rule_model(
                offence_code=code, facts=facts, weaker_codes=weaker, explanation=why, source=SOURCE
            )
            for facts, code, weaker, why in RULES
        ]
    )
    return len(RULES)


def install_after_migrate(*, using: str = "default", apps: Apps = global_apps, **_: Any) -> None:
    """`post_migrate` receiver: install the shipped rules once the table exists."""
    try:
        apps.get_model("cases", "SectionRule")
    except LookupError:
        return
    install_section_rules(using=using, apps=apps)
