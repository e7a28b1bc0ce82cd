"""The shipped section rules (facts → offence), installed when the table is empty.

Installed by migration 0002 and again after every migrate or test-database flush
(`post_migrate`), like the catalogue; once rows exist, editors own them (retired rules stay as
rows, so a retired shipped rule is never brought back).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.utils.translation import gettext_noop

SOURCE = (
    "PPC ss.292A, 328A, 369A, 371A, 377A/377B as amended 2016; "
    "PECA 2016 ss.21, 22, 22A-22C as amended 2023 [unverified]"
)
# What the shipped rules cited before 0009: the team's notes file, meaningless to a reader.
SOURCE_BEFORE_0009 = "shared/domain/pakistan-law.md; " + SOURCE
WEAKER = ["PPC 292", "PPC 354", "PPC 355"]

RULES: list[tuple[list[str], str, list[str], str]] = [
    (
        ["victim_under_18", "sexual_abuse"],
        "PPC 377A",
        WEAKER,
        gettext_noop("Sexual abuse of a person under 18 is an offence under s.377A."),
    ),
    (
        ["victim_under_18", "sexual_abuse"],
        "PPC 377B",
        WEAKER,
        gettext_noop("s.377B sets the punishment for sexual abuse under s.377A."),
    ),
    (
        ["victim_under_18", "abuse_recorded"],
        "PPC 377A",
        WEAKER,
        gettext_noop(
            "Filming or photographing a child in sexually explicit conduct is sexual abuse "
            "(s.377A)."
        ),
    ),
    (
        ["victim_under_18", "abuse_recorded"],
        "PPC 377B",
        WEAKER,
        gettext_noop("s.377B sets the punishment for sexual abuse under s.377A."),
    ),
    (
        ["victim_under_18", "abuse_recorded"],
        "PECA 22",
        WEAKER,
        gettext_noop(
            "Producing material of a child in sexually explicit conduct is child pornography "
            "(PECA s.22)."
        ),
    ),
    (
        ["victim_under_18", "material_online"],
        "PECA 22",
        WEAKER,
        gettext_noop(
            "Distributing material of a child through an information system is PECA s.22."
        ),
    ),
    (
        ["material_online"],
        "PECA 21",
        [],
        gettext_noop(
            "Sharing sexually explicit images of a person through an information system "
            "(PECA s.21)."
        ),
    ),
    (
        ["victim_under_18", "online_grooming"],
        "PECA 22A",
        [],
        gettext_noop("Online grooming of a child (PECA s.22A)."),
    ),
    (
        ["victim_under_18", "commercial_exploitation"],
        "PECA 22B",
        [],
        gettext_noop("Commercial sexual exploitation of a child (PECA s.22B)."),
    ),
    (
        ["victim_under_18", "commercial_exploitation"],
        "PPC 371A",
        [],
        gettext_noop("Selling a person for prostitution (s.371A)."),
    ),
    (
        ["victim_under_18", "missing_child", "online_grooming"],
        "PECA 22C",
        [],
        gettext_noop("Using an information system to kidnap or traffic a minor (PECA s.22C)."),
    ),
    (
        ["victim_under_18", "trafficking"],
        "PPC 369A",
        [],
        gettext_noop("Trafficking of a child (s.369A)."),
    ),
    (
        ["victim_under_18", "exposure_to_seduction"],
        "PPC 292A",
        [],
        gettext_noop("Exposing a child to seduction (s.292A)."),
    ),
    (["victim_under_18", "cruelty"], "PPC 328A", [], gettext_noop("Cruelty to a child (s.328A).")),
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
