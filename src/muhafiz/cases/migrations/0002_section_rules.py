"""Shipped section rules: which offences the recorded facts point to (editable data)."""

from django.db import migrations

SOURCE = (
    "shared/domain/pakistan-law.md; PPC ss.292A, 328A, 369A, 371A, 377A/377B as amended 2016; "
    "PECA 2016 ss.21, 22, 22A-22C as amended 2023 [unverified]"
)
WEAKER = ["PPC 292", "PPC 354", "PPC 355"]

RULES = [
    (["victim_under_18", "sexual_abuse"], "PPC 377A", WEAKER,
     "Sexual abuse of a person under 18 is an offence under s.377A."),
    (["victim_under_18", "sexual_abuse"], "PPC 377B", WEAKER,
     "s.377B sets the punishment for sexual abuse under s.377A."),
    (["victim_under_18", "abuse_recorded"], "PPC 377A", WEAKER,
     "Filming or photographing a child in sexually explicit conduct is sexual abuse (s.377A)."),
    (["victim_under_18", "abuse_recorded"], "PPC 377B", WEAKER,
     "s.377B sets the punishment for sexual abuse under s.377A."),
    (["victim_under_18", "abuse_recorded"], "PECA 22", WEAKER,
     "Producing material of a child in sexually explicit conduct is child pornography (PECA s.22)."),
    (["victim_under_18", "material_online"], "PECA 22", WEAKER,
     "Distributing material of a child through an information system is PECA s.22."),
    (["material_online"], "PECA 21", [],
     "Sharing sexually explicit images of a person through an information system (PECA s.21)."),
    (["victim_under_18", "online_grooming"], "PECA 22A", [],
     "Online grooming of a child (PECA s.22A)."),
    (["victim_under_18", "commercial_exploitation"], "PECA 22B", [],
     "Commercial sexual exploitation of a child (PECA s.22B)."),
    (["victim_under_18", "commercial_exploitation"], "PPC 371A", [],
     "Selling a person for prostitution (s.371A)."),
    (["victim_under_18", "missing_child", "online_grooming"], "PECA 22C", [],
     "Using an information system to kidnap or traffic a minor (PECA s.22C)."),
    (["victim_under_18", "trafficking"], "PPC 369A", [],
     "Trafficking of a child (s.369A)."),
    (["victim_under_18", "exposure_to_seduction"], "PPC 292A", [],
     "Exposing a child to seduction (s.292A)."),
    (["victim_under_18", "cruelty"], "PPC 328A", [],
     "Cruelty to a child (s.328A)."),
]


def add_rules(apps, schema_editor):
    SectionRule = apps.get_model("cases", "SectionRule")
    for facts, code, weaker, why in RULES:
        SectionRule.objects.create(
            offence_code=code, facts=facts, weaker_codes=weaker, explanation=why, source=SOURCE
        )


def remove_rules(apps, schema_editor):
    apps.get_model("cases", "SectionRule").objects.filter(source=SOURCE).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]
    operations = [migrations.RunPython(add_rules, remove_rules)]
