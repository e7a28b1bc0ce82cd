"""Recording stages: impossible dates refused with nothing half-saved; the clock job alerts once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import override

from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Alert, AlertKind, CaseStatus
from muhafiz.core.permissions import SYSTEM
from muhafiz.proceedings import actions, selectors
from muhafiz.proceedings.clocks import ClockState
from muhafiz.proceedings.models import CaseProgress, Clock, StageCode, StageEvent
from muhafiz.proceedings.tests.conftest import START, CaseFactory, accused_on
from muhafiz.testing import People, signed_in


def _counts() -> tuple[int, int, int]:
    return StageEvent.objects.count(), Clock.objects.count(), AuditEvent.objects.count()


def _refused(people: People, case: object, field: str, **kwargs: object) -> str:
    before = _counts()
    with pytest.raises(ValidationError) as caught:
        actions.record_stage_event(people.lahore_investigator, case, **kwargs)  # type: ignore[arg-type]
    assert _counts() == before, "a refused stage must leave nothing behind"
    messages = caught.value.message_dict
    assert field in messages, messages
    return " ".join(messages[field])


def test_judgment_before_the_fir_is_refused(make_case: CaseFactory, people: People) -> None:
    case = make_case(START - timedelta(days=30))
    inv = people.lahore_investigator
    actions.record_stage_event(inv, case, code=StageCode.FIR_REGISTERED, occurred_at=START)
    actions.record_stage_event(
        inv, case, code=StageCode.CHALLAN_SUBMITTED, occurred_at=START + timedelta(days=5)
    )
    actions.record_stage_event(
        inv, case, code=StageCode.TRIAL_STARTED, occurred_at=START + timedelta(days=20)
    )
    message = _refused(
        people,
        case,
        "occurred_at",
        code=StageCode.JUDGMENT_DELIVERED,
        occurred_at=START - timedelta(days=1),
        accused=accused_on(case),
        outcome="conviction",
        sentence="14 years",
    )
    assert "before the FIR" in message


def test_judgment_without_any_fir_is_refused(make_case: CaseFactory, people: People) -> None:
    case = make_case(START)
    message = _refused(
        people,
        case,
        "code",
        code=StageCode.JUDGMENT_DELIVERED,
        occurred_at=START + timedelta(days=1),
        accused=accused_on(case),
        outcome="acquittal",
    )
    assert "needs a registered FIR first" in message


def test_arrest_before_the_report_is_refused(make_case: CaseFactory, people: People) -> None:
    case = make_case(START)
    message = _refused(
        people,
        case,
        "occurred_at",
        code=StageCode.ARRESTED,
        occurred_at=START - timedelta(hours=3),
        accused=accused_on(case),
    )
    assert "before the report was received" in message


def test_events_in_the_future_are_refused(make_case: CaseFactory, people: People) -> None:
    case = make_case(START)
    message = _refused(
        people,
        case,
        "occurred_at",
        code=StageCode.FIR_REGISTERED,
        occurred_at=START + timedelta(days=3),
        now=START + timedelta(days=1),
    )
    assert "future" in message


def test_a_crisis_cell_examination_and_an_arrest_may_precede_the_fir(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START)
    inv = people.lahore_investigator
    actions.record_stage_event(
        inv, case, code=StageCode.MEDICO_LEGAL_EXAMINED, occurred_at=START + timedelta(hours=2)
    )
    actions.record_stage_event(
        inv,
        case,
        code=StageCode.ARRESTED,
        occurred_at=START + timedelta(hours=5),
        accused=accused_on(case),
    )
    actions.record_stage_event(
        inv, case, code=StageCode.FIR_REGISTERED, occurred_at=START + timedelta(hours=6)
    )
    assert CaseProgress.objects.get(case=case).stage == StageCode.ARRESTED


def test_the_same_fir_cannot_be_recorded_twice(make_case: CaseFactory, people: People) -> None:
    case = make_case(START)
    actions.record_stage_event(
        people.lahore_investigator, case, code=StageCode.FIR_REGISTERED, occurred_at=START
    )
    assert "already recorded" in _refused(
        people, case, "code", code=StageCode.FIR_REGISTERED, occurred_at=START
    )


def test_physical_remand_totals_at_most_fifteen_days(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START)
    inv, a1 = people.lahore_investigator, accused_on(case)
    for code, hours in (
        (StageCode.ARRESTED, 1),
        (StageCode.PRODUCED_BEFORE_MAGISTRATE, 20),
    ):
        actions.record_stage_event(
            inv, case, code=code, occurred_at=START + timedelta(hours=hours), accused=a1
        )
    actions.record_stage_event(
        inv,
        case,
        code=StageCode.PHYSICAL_REMAND_STARTED,
        occurred_at=START + timedelta(hours=21),
        accused=a1,
        remand_days=10,
    )
    message = _refused(
        people,
        case,
        "remand_days",
        code=StageCode.PHYSICAL_REMAND_EXTENDED,
        occurred_at=START + timedelta(days=10),
        accused=a1,
        remand_days=6,
    )
    assert "15 days" in message
    actions.record_stage_event(
        inv,
        case,
        code=StageCode.PHYSICAL_REMAND_EXTENDED,
        occurred_at=START + timedelta(days=10),
        accused=a1,
        remand_days=5,
    )
    assert selectors.remand_days_granted(case, a1) == 15


def test_an_accused_of_another_case_is_refused(make_case: CaseFactory, people: People) -> None:
    case, other = make_case(START), make_case(START)
    assert "not on this case" in _refused(
        people,
        case,
        "accused",
        code=StageCode.ARRESTED,
        occurred_at=START + timedelta(hours=1),
        accused=accused_on(other),
    )


def test_a_conviction_needs_its_sentence(make_case: CaseFactory, people: People) -> None:
    case = make_case(START)
    inv = people.lahore_investigator
    for code, days in (
        (StageCode.FIR_REGISTERED, 0),
        (StageCode.CHALLAN_SUBMITTED, 5),
        (StageCode.TRIAL_STARTED, 20),
    ):
        actions.record_stage_event(inv, case, code=code, occurred_at=START + timedelta(days=days))
    _refused(
        people,
        case,
        "sentence",
        code=StageCode.JUDGMENT_DELIVERED,
        occurred_at=START + timedelta(days=90),
        accused=accused_on(case),
        outcome="conviction",
    )


def test_recording_a_stage_is_audited_and_moves_the_case_on(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START)
    actions.record_stage_event(
        people.lahore_investigator,
        case,
        code=StageCode.FIR_REGISTERED,
        occurred_at=START + timedelta(hours=1),
    )
    audit = AuditEvent.objects.filter(action="proceedings.stage.record").get()
    assert audit.object_id == str(case.pk)
    assert audit.details["stage"] == "fir_registered"
    progress = CaseProgress.objects.get(case=case)
    assert progress.stage == StageCode.FIR_REGISTERED
    assert progress.stage_since == START + timedelta(hours=1)


def test_a_missed_deadline_alerts_supervisor_and_prosecutor_once(
    make_case: CaseFactory, people: People, django_capture_on_commit_callbacks: object
) -> None:
    case = make_case(START, missing_child=True)
    actions.start_proceedings(people.lahore_investigator, case, now=START)
    fir_clock = Clock.objects.get(case=case, rule__code="fir_missing_child")
    assert fir_clock.state == ClockState.PENDING

    # 1h45 after the report: three quarters of two hours have passed.
    actions.evaluate_clocks(SYSTEM, now=START + timedelta(minutes=105))
    fir_clock.refresh_from_db()
    assert fir_clock.state == ClockState.DUE_SOON

    later = START + timedelta(hours=3)
    first = actions.evaluate_clocks(SYSTEM, now=later)
    second = actions.evaluate_clocks(SYSTEM, now=later + timedelta(minutes=5))
    fir_clock.refresh_from_db()
    assert fir_clock.state == ClockState.MISSED
    assert first.missed == 2  # of a missing child: FIR in two hours, and ZARRA informed
    assert second.missed == 0
    assert second.alerts == 0

    missed = Alert.objects.filter(
        case=case, kind=AlertKind.CLOCK_MISSED, dedupe_key=f"clock:{fir_clock.pk}:missed"
    )
    assert sorted(a.recipient.username for a in missed) == ["pros.lahore", "sup.lahore"]
    due_soon = Alert.objects.filter(dedupe_key=f"clock:{fir_clock.pk}:due_soon")
    assert due_soon.count() == 2
    # Nobody else on or off the case hears of it; the investigator sees it on the timeline.
    assert not Alert.objects.filter(recipient=people.lahore_investigator).exists()
    assert "FIR" in missed[0].text() and case.reference in missed[0].text()


def test_a_late_fir_turns_the_missed_clock_into_met_late(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START, missing_child=True)
    actions.start_proceedings(people.lahore_investigator, case, now=START)
    actions.evaluate_clocks(SYSTEM, now=START + timedelta(hours=3))
    actions.record_stage_event(
        people.lahore_investigator,
        case,
        code=StageCode.FIR_REGISTERED,
        occurred_at=START + timedelta(hours=4),
        now=START + timedelta(hours=4),
    )
    clock = Clock.objects.get(case=case, rule__code="fir_missing_child")
    assert clock.state == ClockState.MET_LATE
    assert clock.missed_at is not None  # the miss stays on record


def test_the_job_opens_proceedings_for_new_cases_and_skips_closed_ones(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START, missing_child=True)
    closed = make_case(START, missing_child=True)
    result = actions.evaluate_clocks(SYSTEM, now=START + timedelta(minutes=1))
    assert result.started == 2
    assert Clock.objects.filter(case=case, rule__code="fir_missing_child").exists()
    closed.status = CaseStatus.CLOSED
    closed.save(update_fields=["status"])
    actions.evaluate_clocks(SYSTEM, now=START + timedelta(hours=5))
    assert Clock.objects.get(case=case, rule__code="fir_missing_child").state == "missed"
    assert Clock.objects.get(case=closed, rule__code="fir_missing_child").state == "pending"


def test_a_backlog_of_missed_clocks_alerts_in_bulk_once(
    make_case: CaseFactory, people: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches smaller than the backlog: each batch alerts and marks its clocks together.
    monkeypatch.setattr(actions.clocks, "ALERT_BATCH", 4)
    cases = [make_case(START, missing_child=True) for _ in range(3)]
    for case in cases:
        actions.start_proceedings(people.lahore_investigator, case, now=START)
    later = START + timedelta(days=2)
    first = actions.evaluate_clocks(SYSTEM, now=later)
    again = actions.evaluate_clocks(SYSTEM, now=later)
    # fir, zarra and alert-raiser clocks on each case; supervisor and prosecutor each.
    assert first.alerts == 3 * 3 * 2
    assert again.alerts == 0
    assert Alert.objects.filter(kind=AlertKind.CLOCK_MISSED).count() == 18
    fir = Clock.objects.get(case=cases[0], rule__code="fir_missing_child")
    alert = Alert.objects.get(recipient=people.prosecutor, dedupe_key=f"clock:{fir.pk}:missed")
    assert alert.text().startswith("Deadline missed: FIR registered for a missing")
    assert cases[0].reference in alert.text() and "2026-03-20 18:00" in alert.text()


def test_an_alert_the_job_raised_in_english_reads_in_urdu_on_an_urdu_page(
    make_case: CaseFactory, people: People
) -> None:
    # The job runs with English active; what it stores is the untranslated text and its values,
    # put into words when read: the same alert is Urdu on an Urdu page, English on an English one.
    case = make_case(START, missing_child=True)
    actions.start_proceedings(people.lahore_investigator, case, now=START)
    with override("en"):
        actions.evaluate_clocks(SYSTEM, now=START + timedelta(days=2))
    fir = Clock.objects.get(case=case, rule__code="fir_missing_child")
    alert = Alert.objects.get(recipient=people.prosecutor, dedupe_key=f"clock:{fir.pk}:missed")
    assert alert.params["case"] == case.reference and "مدت" not in alert.message
    client = signed_in(people.prosecutor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    for page in ("/cases/alerts/", "/"):
        html = client.get(page).content.decode()
        assert "مدت گزر گئی: مقدمہ" in html, page
        assert "لاپتہ یا اغوا شدہ بچے کی ایف آئی آر کا اندراج" in html, page
        assert "Deadline missed: FIR registered" not in html, page
    api = client.get("/api/v1/cases/alerts").json()
    assert any(a["message"].startswith("مدت گزر گئی") for a in api)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "Deadline missed: FIR registered" in client.get("/cases/alerts/").content.decode()


def test_an_alert_stored_before_alerts_kept_their_values_reads_as_stored(
    make_case: CaseFactory, people: People
) -> None:
    case = make_case(START, missing_child=True)
    Alert.objects.create(
        recipient=people.prosecutor,
        case=case,
        kind=AlertKind.CLOCK_MISSED,
        message="Deadline missed: FIR in case X was due 2026-03-20 18:00 (100%).",
        dedupe_key="old",
    )
    client = signed_in(people.prosecutor)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    assert (
        "FIR in case X was due 2026-03-20 18:00 (100%)."
        in client.get("/cases/alerts/").content.decode()
    )
