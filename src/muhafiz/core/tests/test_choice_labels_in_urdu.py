"""Every label a page shows from a list defined in code has its Urdu (issue 8: labels defined at
module level and translated later must be marked, or `makemessages` drops their Urdu): the
choices of every model field of the platform's apps, and the API client profiles.

A label whose Urdu is missing reads the same in both languages; the few that are the same on
purpose (codes, names of things) are listed with their reason.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils import translation

from muhafiz.core.permissions import CLIENT_PROFILES

# Labels that read the same in Urdu on purpose, with the reason.
SAME_IN_URDU: dict[str, str] = {
    "0–5": "an age band: digits read the same",
    "6–10": "an age band",
    "11–15": "an age band",
    "16–18": "an age band",
    "اردو": "the language's own name, shown to readers of every language",
}
# Fields whose choices no page shows, with the reason.
NEVER_SHOWN: dict[str, str] = {
    "evidence.ScanShard.status": "bookkeeping of the scan jobs; the scan page shows its progress",
}


def _choice_labels() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("muhafiz."):
            continue
        for field in model._meta.get_fields():
            for value, label in getattr(field, "flatchoices", None) or []:
                if value in (None, "") or f"{model._meta.label}.{field.name}" in NEVER_SHOWN:
                    continue
                found[f"{model._meta.label}.{field.name}={value}"] = label
    return found


def _untranslated(labels: dict[str, Any]) -> list[str]:
    missing = []
    for where, label in sorted(labels.items()):
        with translation.override("en"):
            english = str(label)
        with translation.override("ur"):
            urdu = translation.gettext(english) if isinstance(label, str) else str(label)
        if urdu == english and english not in SAME_IN_URDU:
            missing.append(f"{where}: {english!r}")
    return missing


def test_the_walk_finds_the_choices_of_the_apps() -> None:
    labels = _choice_labels()
    assert any(key.startswith("cases.Victim.gender=") for key in labels)
    assert any(key.startswith("intake.Report.") for key in labels)
    assert len(labels) > 100


def test_every_choice_label_of_every_model_has_its_urdu() -> None:
    assert _untranslated(_choice_labels()) == []


def test_every_client_profile_label_has_its_urdu() -> None:
    labels = {f"profile={code}": p.label for code, p in CLIENT_PROFILES.items()}
    assert _untranslated(labels) == []


def test_the_state_a_scan_file_was_left_in_reads_in_urdu() -> None:
    # Before: the scan page showed the scan file's own word ("interrupted") on Urdu pages.
    from muhafiz.evidence.models import SCAN_STATE_LABELS

    assert _untranslated({f"scan_state={k}": v for k, v in SCAN_STATE_LABELS.items()}) == []


def test_the_kind_of_identifier_an_accused_shares_reads_in_urdu() -> None:
    # Before: the accused page showed the code ("phone") of the identifier another case shares.
    from muhafiz.cases.selectors import SharedIdentifier

    link = SharedIdentifier("phone", 1, "LHR-2026-0001", "LHR", 1, "A1")
    with translation.override("ur"):
        assert link.kind_label not in ("phone", "Phone")


def test_the_rule_catches_a_label_without_urdu() -> None:
    assert _untranslated({"sample": "An unmarked label never translated"}) == [
        "sample: 'An unmarked label never translated'"
    ]
