"""Entries arise from convictions only: the judgment recorded in proceedings makes one pending
entry with the period of the chosen rule set; two convictions of one CNIC are one registrant;
an acquittal on appeal suspends the entry and queues its removal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from muhafiz.core.permissions import SYSTEM
from muhafiz.proceedings.actions import record_stage_event
from muhafiz.register import actions
from muhafiz.register.models import (
    Conviction,
    ConvictionStatus,
    HandledJudgment,
    Obligation,
    RegisterAlert,
    Registrant,
    RegistrantStatus,
)
from muhafiz.register.tests.conftest import (
    ACCUSED_NAME,
    Convict,
    RegisterPeople,
    add_accused,
    open_case,
)


def test_a_conviction_for_a_listed_offence_makes_one_pending_entry(
    rp: RegisterPeople, lahore_case: Any, accused: Any, convict: Convict
) -> None:
    event = convict(lahore_case, accused, "7 years rigorous imprisonment and fine Rs 500,000")
    conviction = Conviction.objects.get()
    registrant = conviction.registrant
    assert registrant.status == RegistrantStatus.PENDING
    assert registrant.name == ACCUSED_NAME
    assert registrant.cnic_index  # searchable by blind index
    assert conviction.judgment_event_id == event.pk
    assert conviction.offence_codes == ["PPC 377A", "PPC 377B"]
    # UK rule set by default: 84 months of imprisonment → registered indefinitely.
    assert conviction.sentence_months == 84
    assert conviction.rule is not None
    assert conviction.rule.code == "uk-indefinite"
    assert conviction.indefinite
    # The register officers are told.
    assert (
        RegisterAlert.objects.filter(recipient=rp.register_officer, kind="pending_entry").count()
        == 1
    )
    # The hook run again (or the daily job) makes nothing more.
    actions.record_judgment(SYSTEM, event.pk)
    assert Conviction.objects.count() == 1


def test_the_sorna_rule_set_gives_tiers(
    rp: RegisterPeople, settings: Any, lahore_case: Any, accused: Any, convict: Convict
) -> None:
    settings.MUHAFIZ_REGISTER_RULE_SET = "sorna"
    convict(lahore_case, accused, "3 years")
    conviction = Conviction.objects.get()
    assert conviction.rule is not None
    assert conviction.rule.code == "sorna-tier-3"  # PPC 377B
    assert conviction.tier == "III"
    assert conviction.indefinite
    assert conviction.verification_interval_months == 3


def test_a_short_sentence_under_the_uk_rules_is_seven_years_from_release(
    rp: RegisterPeople, lahore_case: Any, accused: Any, convict: Convict
) -> None:
    convict(lahore_case, accused, "6 months simple imprisonment")
    conviction = Conviction.objects.get()
    assert conviction.period_months == 84
    actions.confirm_conviction(rp.register_officer, conviction)
    released = conviction.convicted_at + dt.timedelta(days=200)
    registrant = actions.record_release(
        rp.register_officer, conviction.registrant, released_at=released
    )
    local = timezone.localdate(released)
    assert registrant.period_ends_on == local.replace(year=local.year + 7)
    kinds = sorted(Obligation.objects.values_list("kind", flat=True))
    assert kinds == ["initial", "verification"]


def test_an_acquittal_is_not_entered(
    rp: RegisterPeople,
    lahore_case: Any,
    accused: Any,
    court: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from muhafiz.register.tests.conftest import record_trial

    trial = record_trial(rp.base, lahore_case)
    with django_capture_on_commit_callbacks(execute=True):
        record_stage_event(
            rp.lahore_investigator,
            lahore_case,
            code="judgment_delivered",
            occurred_at=trial + dt.timedelta(days=5),
            accused=accused,
            outcome="acquittal",
            court=court,
        )
    assert not Conviction.objects.exists()


def test_a_conviction_for_an_unlisted_offence_is_not_entered(
    rp: RegisterPeople, convict: Convict
) -> None:
    case = open_case(rp.base, "777/2025", ["PPC 328A"])
    accused = add_accused(rp.base, case)
    convict(case, accused)
    assert not Registrant.objects.exists()


def test_two_convictions_of_one_cnic_are_one_registrant(
    rp: RegisterPeople, lahore_case: Any, accused: Any, convict: Convict
) -> None:
    convict(lahore_case, accused)
    second_case = open_case(rp.base, "602/2025", ["PECA 22"])
    second = add_accused(rp.base, second_case)
    convict(second_case, second, "2 years")
    assert Registrant.objects.count() == 1
    assert Conviction.objects.count() == 2


def test_an_acquittal_on_appeal_suspends_the_entry_and_queues_its_removal(
    rp: RegisterPeople,
    lahore_case: Any,
    accused: Any,
    convict: Convict,
    django_capture_on_commit_callbacks: Any,
) -> None:
    judgment = convict(lahore_case, accused)
    with django_capture_on_commit_callbacks(execute=True):
        record_stage_event(
            rp.lahore_investigator,
            lahore_case,
            code="appeal_filed",
            occurred_at=judgment.occurred_at + dt.timedelta(days=10),
            accused=accused,
        )
        record_stage_event(
            rp.lahore_investigator,
            lahore_case,
            code="appeal_decided",
            occurred_at=judgment.occurred_at + dt.timedelta(days=90),
            accused=accused,
            outcome="allowed",
        )
    conviction = Conviction.objects.get()
    assert conviction.status == ConvictionStatus.SUSPENDED
    registrant = conviction.registrant
    assert registrant.status == RegistrantStatus.SUSPENDED
    assert registrant.removal_due
    assert RegisterAlert.objects.filter(kind="removal_queued").count() == 1
    actions.remove_entry(rp.register_officer, registrant, reason="acquittal")
    registrant.refresh_from_db()
    assert registrant.status == RegistrantStatus.REMOVED
    # The handled judgment is remembered, so the daily job never enters it again.
    assert HandledJudgment.objects.filter(event_id=judgment.pk).exists()
    actions.evaluate_compliance(SYSTEM)
    assert not Conviction.objects.exists()


def test_only_the_system_makes_entries(rp: RegisterPeople) -> None:
    with pytest.raises(PermissionDenied):
        actions.record_judgment(rp.register_officer, 1)


def test_a_sentence_not_understood_waits_for_the_officer(
    rp: RegisterPeople, lahore_case: Any, accused: Any, convict: Convict
) -> None:
    convict(lahore_case, accused, "as per the judgment annexed")
    conviction = Conviction.objects.get()
    assert conviction.rule is None
    with pytest.raises(ValidationError):
        actions.confirm_conviction(rp.register_officer, conviction)
    actions.confirm_conviction(rp.register_officer, conviction, sentence_months=12)
    conviction.refresh_from_db()
    assert conviction.rule is not None
    assert conviction.rule.code == "uk-10-years"


def _acquit_then_appeal(
    rp: RegisterPeople, case: Any, accused: Any, court: Any, sentence: str
) -> tuple[Any, Any]:
    """Acquitted at trial; the prosecution appeals and the appeal is allowed (a conviction)."""
    from muhafiz.register.tests.conftest import record_trial

    trial = record_trial(rp.base, case)
    acquittal = record_stage_event(
        rp.lahore_investigator,
        case,
        code="judgment_delivered",
        occurred_at=trial + dt.timedelta(days=5),
        accused=accused,
        outcome="acquittal",
        court=court,
    )
    record_stage_event(
        rp.lahore_investigator,
        case,
        code="appeal_filed",
        occurred_at=acquittal.occurred_at + dt.timedelta(days=20),
        accused=accused,
        note="Appeal by the State against acquittal",
    )
    appeal = record_stage_event(
        rp.lahore_investigator,
        case,
        code="appeal_decided",
        occurred_at=acquittal.occurred_at + dt.timedelta(days=100),
        accused=accused,
        outcome="allowed",
        sentence=sentence,
        court=court,
    )
    return acquittal, appeal


def test_a_conviction_on_the_prosecutions_appeal_against_an_acquittal_makes_an_entry(
    rp: RegisterPeople,
    lahore_case: Any,
    accused: Any,
    court: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _acquittal, appeal = _acquit_then_appeal(rp, lahore_case, accused, court, "5 years")
    conviction = Conviction.objects.get()
    assert conviction.judgment_event_id == appeal.pk
    assert conviction.convicted_at == appeal.occurred_at
    assert conviction.status == ConvictionStatus.PENDING
    assert conviction.sentence_months == 60
    assert conviction.rule is not None and conviction.rule.code == "uk-indefinite"
    assert conviction.registrant.name == ACCUSED_NAME
    # The hook again, and the daily job: still one entry.
    actions.record_judgment(SYSTEM, appeal.pk)
    actions.evaluate_compliance(SYSTEM)
    assert Conviction.objects.count() == 1


def test_the_daily_job_catches_a_conviction_on_appeal_whose_hook_was_lost(
    rp: RegisterPeople, lahore_case: Any, accused: Any, court: Any
) -> None:
    # No on-commit callbacks run: the hook call is lost.
    _acquit_then_appeal(rp, lahore_case, accused, court, "2 years")
    assert not Conviction.objects.exists()
    run = actions.evaluate_compliance(SYSTEM)
    assert run.judgments_caught == 1
    conviction = Conviction.objects.get()
    assert conviction.period_months == 120  # 24 months of imprisonment: UK 10 years
    assert conviction.rule is not None and conviction.rule.code == "uk-10-years"
