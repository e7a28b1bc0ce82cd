"""Every statutory rule in the catalogue, computed right on a real case with a controlled clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from muhafiz.cases.models import Case
from muhafiz.catalogue.models import DeadlineRule
from muhafiz.catalogue.shipped import FIXTURES_DIR
from muhafiz.core.permissions import SYSTEM
from muhafiz.proceedings import actions
from muhafiz.proceedings.actions import PREREQUISITES
from muhafiz.proceedings.clocks import ClockState
from muhafiz.proceedings.models import PER_ACCUSED, Clock, StageCode
from muhafiz.proceedings.tests.conftest import START, CaseFactory, accused_on, end_of_day, pk_time

# The case clocks; a rule starting at an intake event (the queue's screening limit) is intake's.
SHIPPED_RULES = [
    rule
    for rule in json.loads((FIXTURES_DIR / "deadlines.json").read_text(encoding="utf-8"))["rules"]
    if not rule["start_event"].startswith("intake_")
]

# Worked by hand from the statutes' wording, for a clock started on Friday 20 March 2026 at 16:00
# Lahore time (CrPC, ZARRA Act, Anti-Rape Act; the day of the event excluded, the last day whole).
EXPECTED_DUE: dict[str, datetime] = {
    "fir_missing_child": pk_time(2026, 3, 20, 18, 0),  # 2 hours
    "zarra_informed": pk_time(2026, 3, 20, 18, 0),  # 2 hours
    "alert_raiser_contacted": pk_time(2026, 3, 21, 16, 0),  # 24 hours
    "medico_legal_examination": pk_time(2026, 3, 20, 22, 0),  # 6 hours
    "produce_before_magistrate": pk_time(2026, 3, 21, 16, 0),  # 24 hours, over the weekend
    "physical_remand_total": end_of_day(2026, 3, 25),  # the 5 days granted (15 at most)
    "judicial_remand_period": end_of_day(2026, 4, 4),  # 15 days
    "register_check_forwarded": pk_time(2026, 3, 22, 16, 0),  # 48 hours
    "challan_submitted": end_of_day(2026, 4, 3),  # 14 days
    "interim_report_submitted": end_of_day(2026, 4, 6),  # day 17
    "trial_concluded": end_of_day(2026, 7, 20),  # 4 months
    "trial_concluded_zarra": end_of_day(2026, 6, 20),  # 3 months
    "appeal_decided": end_of_day(2026, 9, 20),  # 6 months
    "child_before_protection_court": pk_time(2026, 3, 21, 16, 0),  # 24 hours
}

# The case facts that make a rule's condition hold (derived conditions need none).
FACTS_FOR = {"missing_child": {"missing_child": True}, "sexual_offence": {"sexual_abuse": True}}


def test_every_shipped_rule_has_a_hand_worked_deadline() -> None:
    assert {rule["code"] for rule in SHIPPED_RULES} == set(EXPECTED_DUE)


def test_every_event_a_rule_names_is_a_stage_of_the_proceedings() -> None:
    for rule in SHIPPED_RULES:
        for code in (rule["start_event"], *rule["end_event"].split("|")):
            assert code in StageCode.values, f"{rule['code']}: {code} is not a stage code"


def _record_with_prerequisites(actor: object, case: Case, code: str, at: datetime) -> None:
    """Record `code` at `at`, after recording (an hour apart, earlier) what it needs first."""
    chain = [code]
    while chain[-1] in PREREQUISITES:
        chain.append(PREREQUISITES[chain[-1]][0][0])
    needs_fir = code in actions.NEEDS_FIR and StageCode.FIR_REGISTERED not in chain
    if needs_fir:
        chain.append(StageCode.FIR_REGISTERED)
    for steps_back, step in reversed(list(enumerate(chain))):
        extra: dict[str, object] = {}
        if step in {StageCode.PHYSICAL_REMAND_STARTED, StageCode.PHYSICAL_REMAND_EXTENDED}:
            extra["remand_days"] = 5
        if step == StageCode.JUDGMENT_DELIVERED:
            extra.update(outcome="acquittal")
        actions.record_stage_event(
            actor,
            case,
            code=step,
            occurred_at=at - timedelta(hours=steps_back),
            accused=accused_on(case) if step in PER_ACCUSED else None,
            now=at,
            **extra,  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("rule_code", sorted(EXPECTED_DUE))
def test_statutory_rule_computed_right(
    rule_code: str, make_case: CaseFactory, people: object
) -> None:
    rule = DeadlineRule.objects.get(code=rule_code)
    facts = FACTS_FOR.get(rule.applies_when, {})
    investigator = people.lahore_investigator  # type: ignore[attr-defined]
    if rule.start_event == StageCode.REPORT_RECEIVED:
        case = make_case(START, **facts)
        actions.start_proceedings(investigator, case, now=START)
    else:
        case = make_case(START - timedelta(days=2), **facts)
        if rule.applies_when == "challan_incomplete":
            # The interim report is due only once the 14-day challan clock has run out.
            _record_with_prerequisites(investigator, case, rule.start_event, START)
            actions.evaluate_clocks(SYSTEM, now=START + timedelta(days=15))
        else:
            _record_with_prerequisites(investigator, case, rule.start_event, START)

    clock = Clock.objects.get(case=case, rule=rule)
    assert clock.started_at == START
    assert clock.due_at == EXPECTED_DUE[rule_code]
    assert clock.due_soon_at == START + (clock.due_at - START) * rule.due_soon_fraction


@pytest.mark.parametrize("rule_code", ["fir_missing_child", "trial_concluded"])
def test_rule_met_in_time_then_one_met_late(
    rule_code: str, make_case: CaseFactory, people: object
) -> None:
    rule = DeadlineRule.objects.get(code=rule_code)
    investigator = people.lahore_investigator  # type: ignore[attr-defined]
    on_time = make_case(START - timedelta(days=1), missing_child=True)
    late = make_case(START - timedelta(days=1), missing_child=True)
    for case, stop_at in ((on_time, EXPECTED_DUE[rule_code]), (late, None)):
        if rule.start_event == StageCode.REPORT_RECEIVED:
            case.reported_at = START
            case.save(update_fields=["reported_at"])
            actions.start_proceedings(investigator, case, now=START)
        else:
            _record_with_prerequisites(investigator, case, rule.start_event, START)
        end = stop_at or EXPECTED_DUE[rule_code] + timedelta(minutes=1)
        per_accused = rule.end_event in PER_ACCUSED
        actions.record_stage_event(
            investigator,
            case,
            code=rule.end_event,
            occurred_at=end,
            now=end,
            accused=accused_on(case) if per_accused else None,
            outcome="acquittal" if per_accused else "",
        )
    # A per-case clock is stopped by the judgment of any accused.
    assert Clock.objects.get(case=on_time, rule=rule).state == ClockState.MET
    assert Clock.objects.get(case=late, rule=rule).state == ClockState.MET_LATE


def test_a_rule_whose_condition_does_not_hold_starts_no_clock(
    make_case: CaseFactory, people: object
) -> None:
    case = make_case(START, missing_child=False)
    actions.start_proceedings(people.lahore_investigator, case, now=START)  # type: ignore[attr-defined]
    assert not Clock.objects.filter(case=case, rule__applies_when="missing_child").exists()
