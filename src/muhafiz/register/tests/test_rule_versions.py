"""Editing the rules: the national register office makes a new version in force from a date,
audited; a conviction keeps the version in force on its date (also when its judgment is
recorded after the change); nobody else changes a rule; the pages work in English and Urdu."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.register import actions
from muhafiz.register.models import Conviction, NoticeRule, PeriodRule
from muhafiz.register.shipped import CITED_BEFORE_0007, NOTICE_SOURCE, UK_REVIEW, cite_the_law
from muhafiz.register.tests.conftest import Convict, RegisterPeople, add_accused, open_case
from muhafiz.testing import make_user, signed_in

TEN_YEARS = {"period_months": 144}


def _current(code: str) -> PeriodRule:
    return PeriodRule.objects.get(code=code, in_force_until__isnull=True)


def test_a_change_is_a_new_version_and_old_convictions_keep_theirs(
    rp: RegisterPeople, lahore_case: Any, accused: Any, convict: Convict
) -> None:
    convict(lahore_case, accused, "2 years")  # UK: more than 6 and less than 30 months
    before = Conviction.objects.get()
    assert before.rule is not None and before.rule.version == 1
    today = timezone.localdate()
    new = actions.change_period_rule(
        rp.register_officer,
        _current("uk-10-years"),
        changes=TEN_YEARS,
        in_force_from=today,
        reason="Amendment notified in the Gazette",
    )
    assert (new.version, new.period_months, new.in_force_from) == (2, 144, today)
    old = PeriodRule.objects.get(code="uk-10-years", version=1)
    assert old.in_force_until == today and old.period_months == 120
    before.refresh_from_db()
    assert before.rule_id == old.pk and before.period_months == 120
    event = AuditEvent.objects.get(action="register.rule_changed")
    assert event.details["version"] == 2 and event.details["fields"] == ["period_months"]


def test_a_judgment_recorded_after_the_change_takes_the_version_in_force_on_its_date(
    rp: RegisterPeople, convict: Convict
) -> None:
    actions.change_period_rule(
        rp.register_officer,
        _current("uk-10-years"),
        changes=TEN_YEARS,
        in_force_from=timezone.localdate() - dt.timedelta(days=60),
        reason="Amendment in force two months ago",
    )
    # Convicted about 310 days ago (before the change): the first version.
    old_case = open_case(rp.base, "881/2025", ["PPC 377A"], days_ago=400)
    convict(old_case, add_accused(rp.base, old_case), "2 years")
    # Convicted about 10 days ago (after it): the new version.
    new_case = open_case(rp.base, "882/2026", ["PPC 377A"], days_ago=100)
    convict(new_case, add_accused(rp.base, new_case, cnic="35202-1111111-1"), "2 years")
    periods = dict(Conviction.objects.values_list("case__reference", "period_months"))
    assert periods == {old_case.reference: 120, new_case.reference: 144}


def test_only_a_national_register_office_changes_the_rules(rp: RegisterPeople) -> None:
    provincial = make_user("reg.punjab", "register_officer", district_code="LHR", level="province")
    for person in (provincial, rp.station_officer, rp.prosecutor, rp.analyst, rp.administrator):
        with pytest.raises(PermissionDenied):
            actions.change_period_rule(
                person,
                _current("uk-10-years"),
                changes=TEN_YEARS,
                in_force_from=timezone.localdate(),
                reason="x",
            )
        assert signed_in(person).get("/register/rules/periods/uk-10-years/").status_code in {
            403,
            404,
        }
    assert PeriodRule.objects.filter(code="uk-10-years").count() == 1


def test_bad_changes_are_refused_and_change_nothing(rp: RegisterPeople) -> None:
    rule = _current("sorna-tier-1")
    today = timezone.localdate()
    cases: list[tuple[dict[str, Any], dt.date, str]] = [
        ({}, today, "nothing"),
        ({"offence_codes": ["PPC 999Z"]}, today, "offence_codes"),
        ({"min_sentence_months": 40, "max_sentence_months": 10}, today, "max_sentence_months"),
        ({"verification_interval_months": 0}, today, "verification_interval_months"),
        ({"period_months": 99999}, today, "period_months"),
        ({"period_months": 100}, dt.date(1999, 1, 1), "in_force_from"),
        ({"source": ""}, today, "source"),
    ]
    for changes, start, _field in cases:
        with pytest.raises(ValidationError):
            actions.change_period_rule(
                rp.register_officer, rule, changes=changes, in_force_from=start, reason="Test"
            )
    with pytest.raises(ValidationError):
        actions.change_period_rule(
            rp.register_officer,
            rule,
            changes={"period_months": 100},
            in_force_from=today,
            reason="",
        )
    assert PeriodRule.objects.filter(code="sorna-tier-1").count() == 1
    assert not AuditEvent.objects.filter(action="register.rule_changed").exists()


def test_an_earlier_version_cannot_be_changed(rp: RegisterPeople) -> None:
    rule = _current("uk-7-years")
    today = timezone.localdate()
    actions.change_period_rule(
        rp.register_officer, rule, changes={"period_months": 90}, in_force_from=today, reason="A"
    )
    rule.refresh_from_db()
    with pytest.raises(ValidationError):
        actions.change_period_rule(
            rp.register_officer,
            rule,
            changes={"period_months": 96},
            in_force_from=today,
            reason="B",
        )


def test_a_notice_rule_is_in_force_from_midnight_in_pakistan_not_in_utc(
    rp: RegisterPeople,
) -> None:
    """Found when CI ran at 19:30 UTC (00:30 the next day in Pakistan): a version in force from
    the Pakistani day was not yet in force, because the moment's UTC date was taken."""
    from muhafiz.register.support import notice_rule

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    actions.change_notice_rule(
        rp.register_officer,
        NoticeRule.objects.get(kind="travel"),
        changes={"amount": 14},
        in_force_from=tomorrow,
        reason="Travel notice raised to 14 days",
    )
    pakistan = timezone.get_default_timezone()
    just_after_midnight = dt.datetime.combine(tomorrow, dt.time(0, 30), tzinfo=pakistan)
    in_utc = just_after_midnight.astimezone(dt.UTC)  # 19:30 the day before
    assert in_utc.date() < tomorrow
    rule = notice_rule("travel", in_utc)
    assert rule is not None and rule.amount == 14
    just_before = notice_rule("travel", in_utc - dt.timedelta(hours=1))
    assert just_before is not None and just_before.amount != 14


def test_a_notice_rule_change_reaches_the_travel_clock(
    rp: RegisterPeople, released_registrant: Any
) -> None:
    registrant = released_registrant
    travel = NoticeRule.objects.get(kind="travel")
    now = timezone.now()
    actions.change_notice_rule(
        rp.register_officer,
        travel,
        changes={"amount": 14},
        in_force_from=timezone.localdate(now),
        reason="Travel notice raised to 14 days",
    )
    departure = timezone.localdate(now) + dt.timedelta(days=30)
    clock = actions.record_change_detected(
        rp.station_officer, registrant, kind="travel", changed_on=departure, now=now
    )
    assert timezone.localdate(clock.due_at) == departure - dt.timedelta(days=14)
    with pytest.raises(ValidationError):
        actions.change_notice_rule(
            rp.register_officer,
            NoticeRule.objects.get(kind="address"),
            changes={"in_advance": True},
            in_force_from=timezone.localdate(now),
            reason="An advance notice must count in days",
        )


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_the_rule_pages_in_english_and_urdu(rp: RegisterPeople, lang: str) -> None:
    office = signed_in(rp.register_officer)
    office.cookies["django_language"] = lang
    listing = office.get("/register/rules/")
    assert listing.status_code == 200
    text = listing.content.decode()
    assert 'id="edit-rule-uk-10-years"' in text
    # The rule set, a notice's unit and yes/no in words, not as codes (found in a walk).
    assert "business_days" not in text and ">uk<" not in text and ">sorna<" not in text
    # The shipped rules cite the law, not the team's notes file (found in a walk).
    assert "pakistan-law" not in text and "U.S.C. 20913" in text
    if lang == "en":
        assert "3 business days" in text and "UK sentence length" in text
    else:
        assert "ہاں" in text and "ھاں" not in text  # Django's own Urdu misspells "yes"
    page = office.get("/register/rules/periods/uk-10-years/")
    body = page.content.decode()
    assert page.status_code == 200 and 'id="rule-form"' in body
    if lang == "ur":
        assert 'dir="rtl"' in body and "قاعدہ" in body
    form = page.context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and v is not False}
    data |= {
        "period_months": 132,
        "in_force_from": timezone.localdate().isoformat(),
        "reason": "Gazette notification",
        "active": "on",
    }
    if form.initial.get("verified"):
        data["verified"] = "on"
    response = office.post("/register/rules/periods/uk-10-years/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert _current("uk-10-years").period_months == 132
    notice = office.post(
        "/register/rules/notices/travel/",
        {
            "amount": 10,
            "unit": "days",
            "in_advance": "on",
            "source": "Rules 2023 r.9 (as notified)",
            "in_force_from": timezone.localdate().isoformat(),
            "reason": "Gazette notification",
        },
    )
    assert notice.status_code == 302
    assert NoticeRule.objects.get(kind="travel", in_force_until__isnull=True).amount == 10


def test_rules_installed_before_0007_cite_the_law_and_edited_texts_stay(
    rp: RegisterPeople,
) -> None:
    """A register installed before migration 0007 carries the old citations; 0007 rewrites
    those still as shipped and leaves a version someone made (changed_by) as it is."""
    old_source, old_notes = (next(iter(CITED_BEFORE_0007[f])) for f in ("source", "notes"))
    NoticeRule.objects.filter(kind="travel").update(source=old_source)
    NoticeRule.objects.filter(kind="name").update(source=old_source, changed_by=rp.register_officer)
    PeriodRule.objects.filter(code="uk-indefinite").update(notes=old_notes)

    changed = cite_the_law()

    assert changed == 2
    assert NoticeRule.objects.get(kind="travel").source == NOTICE_SOURCE
    assert NoticeRule.objects.get(kind="name").source == old_source
    assert PeriodRule.objects.get(code="uk-indefinite").notes == UK_REVIEW
    texts = [
        *PeriodRule.objects.values_list("source", flat=True),
        *PeriodRule.objects.values_list("notes", flat=True),
        *NoticeRule.objects.values_list("source", flat=True),
    ]
    assert [t for t in texts if "pakistan-law" in t] == [old_source]  # the edited one only
