"""Administrators edit the catalogue on its pages; every change is audited; others cannot."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from muhafiz.audit.models import AuditEvent
from muhafiz.catalogue import actions
from muhafiz.catalogue.models import Agency, DeadlineRule, District, Offence
from muhafiz.testing import People, signed_in


def offence_form(offence: Offence, **overrides: Any) -> dict[str, Any]:
    data = {
        name: getattr(offence, name)
        for name in ("code", *actions.OFFENCE_FIELDS)
        if getattr(offence, name) not in (False, None)
    }
    return {**data, "reason": "Notified amendment", **overrides}


def rule_form(rule: DeadlineRule, **overrides: Any) -> dict[str, Any]:
    data = {
        name: getattr(rule, name)
        for name in ("code", *actions.DEADLINE_RULE_FIELDS)
        if getattr(rule, name) not in (False, None)
    }
    return {**data, "reason": "Legal review", **overrides}


@pytest.mark.parametrize(
    "page",
    [
        "catalogue:home",
        "catalogue:offence_list",
        "catalogue:rule_list",
        "catalogue:agency_list",
        "catalogue:geography",
        "catalogue:offence_create",
        "catalogue:rule_create",
        "catalogue:agency_create",
    ],
)
def test_the_administrator_opens_every_catalogue_page(people: People, page: str) -> None:
    response = signed_in(people.administrator).get(reverse(page))
    assert response.status_code == 200


def test_the_catalogue_pages_show_the_shipped_law_and_geography(people: People) -> None:
    admin = signed_in(people.administrator)
    home = admin.get(reverse("catalogue:home")).content.decode()
    assert reverse("cases:section_rules") in home
    offences = admin.get(reverse("catalogue:offence_list")).content.decode()
    assert "PPC 377A" in offences
    assert "Listed (s.2(h))" in offences
    assert "Unverified" in offences
    rules = admin.get(reverse("catalogue:rule_list"), {"q": "magistrate"}).content.decode()
    assert "produced_before_magistrate" in rules
    assert "challan_submitted" not in rules
    geography = admin.get(reverse("catalogue:geography")).content.decode()
    assert "Muzaffargarh" in geography
    assert "مظفرگڑھ" in geography
    ssoius = admin.get(reverse("catalogue:agency_list"), {"kind": "ssoiu", "q": "Kasur"})
    assert "SSOIU-KSR" in ssoius.content.decode()


@pytest.mark.parametrize("who", ["lahore_investigator", "prosecutor", "auditor", "outsider"])
def test_only_administrators_open_the_catalogue_pages(people: People, who: str) -> None:
    response = signed_in(getattr(people, who)).get(reverse("catalogue:offence_list"))
    assert response.status_code == 403


def test_a_visitor_who_is_not_signed_in_is_sent_to_sign_in(db: None) -> None:
    response = Client().get(reverse("catalogue:rule_list"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_administrator_changes_a_penalty_with_a_reason_and_it_is_audited(
    people: People,
) -> None:
    offence = Offence.objects.get(code="PECA 22")
    response = signed_in(people.administrator).post(
        reverse("catalogue:offence_edit", args=[offence.pk]),
        offence_form(offence, penalty="Up to 10 years and/or fine up to Rs 10,000,000"),
    )
    assert response.status_code == 302
    offence.refresh_from_db()
    assert offence.penalty == "Up to 10 years and/or fine up to Rs 10,000,000"
    event = AuditEvent.objects.get(action="catalogue.offence_changed")
    assert event.reason == "Notified amendment"
    assert event.actor_user_id == people.administrator.pk
    assert event.object_id == str(offence.pk)
    assert event.details["changed"] == {
        "penalty": [
            "Up to 7 years and/or fine up to Rs 5,000,000",
            "Up to 10 years and/or fine up to Rs 10,000,000",
        ]
    }


def test_a_change_without_a_reason_is_refused(people: People) -> None:
    offence = Offence.objects.get(code="PPC 377B")
    response = signed_in(people.administrator).post(
        reverse("catalogue:offence_edit", args=[offence.pk]),
        offence_form(offence, penalty="changed", reason=""),
    )
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    offence.refresh_from_db()
    assert offence.penalty != "changed"
    assert not AuditEvent.objects.filter(action="catalogue.offence_changed").exists()


def test_the_code_of_an_entry_cannot_change(people: People) -> None:
    rule = DeadlineRule.objects.get(code="challan_submitted")
    signed_in(people.administrator).post(
        reverse("catalogue:rule_edit", args=[rule.pk]),
        rule_form(rule, code="renamed", amount=15),
    )
    rule.refresh_from_db()
    assert (rule.code, rule.amount) == ("challan_submitted", 15)


def test_the_legal_team_marks_a_rule_verified(people: People) -> None:
    rule = DeadlineRule.objects.get(code="trial_concluded")
    assert not rule.verified
    signed_in(people.administrator).post(
        reverse("catalogue:rule_edit", args=[rule.pk]), rule_form(rule, verified="on")
    )
    rule.refresh_from_db()
    assert rule.verified
    event = AuditEvent.objects.get(action="catalogue.deadline_rule_changed")
    assert event.details["changed"] == {"verified": [False, True]}


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("due_soon_fraction", "1.5", "Give a share between 0 and 1"),
        ("amount", "0", "A time limit must be at least 1."),
        ("end_event", "fir_registered", "must stop at a different event"),
        ("start_event", "FIR Registered!", "lower-case letters and underscores"),
    ],
)
def test_a_deadline_rule_that_makes_no_sense_is_refused_with_a_clear_message(
    people: People, field: str, value: str, message: str
) -> None:
    rule = DeadlineRule.objects.get(code="challan_submitted")
    response = signed_in(people.administrator).post(
        reverse("catalogue:rule_edit", args=[rule.pk]), rule_form(rule, **{field: value})
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    rule.refresh_from_db()
    assert (rule.amount, rule.due_soon_fraction) == (14, 0.75)


def test_a_clock_may_stop_at_any_of_several_events(people: People) -> None:
    rule = DeadlineRule.objects.get(code="challan_submitted")
    changed = actions.update_deadline_rule(
        people.administrator,
        rule,
        {"end_event": "challan_submitted|interim_report_submitted"},
        reason="Either report stops the clock",
    )
    assert changed == ["end_event"]


def test_the_administrator_adds_an_offence(people: People) -> None:
    response = signed_in(people.administrator).post(
        reverse("catalogue:offence_create"),
        {
            "code": "PECA 22D",
            "law": "Prevention of Electronic Crimes Act 2016",
            "section": "22D",
            "title": "A section inserted by a future amendment",
            "source": "Gazette notification",
            "active": "on",
            "reason": "New amendment",
        },
    )
    assert response.status_code == 302
    offence = Offence.objects.get(code="PECA 22D")
    assert not offence.verified
    assert not offence.registrable
    event = AuditEvent.objects.get(action="catalogue.offence_created")
    assert event.details["code"] == "PECA 22D"


def test_a_code_already_in_the_catalogue_cannot_be_added_again(people: People) -> None:
    response = signed_in(people.administrator).post(
        reverse("catalogue:offence_create"),
        {"code": "PPC 375", "law": "PPC", "section": "375", "title": "x", "reason": "r"},
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()


def test_an_investigator_cannot_change_the_catalogue_through_an_action(people: People) -> None:
    offence = Offence.objects.get(code="PPC 375")
    with pytest.raises(PermissionDenied):
        actions.update_offence(people.lahore_investigator, offence, {"registrable": False})
    offence.refresh_from_db()
    assert offence.registrable


def test_an_agency_in_a_district_of_another_province_is_refused(people: People) -> None:
    with pytest.raises(ValidationError, match="not in the agency's province"):
        actions.create_agency(
            people.administrator,
            "CRISIS-CELL-MAYO",
            {
                "name": "Anti-Rape Crisis Cell, Mayo Hospital",
                "kind": "crisis_cell",
                "province": District.objects.get(code="KHI-S").province,
                "district": District.objects.get(code="LHR"),
                "source": "Provincial notification",
            },
        )
    assert not Agency.objects.filter(code="CRISIS-CELL-MAYO").exists()


def test_an_agency_placed_in_a_district_takes_its_province(people: People) -> None:
    agency = actions.create_agency(
        people.administrator,
        "CRISIS-CELL-MAYO",
        {
            "name": "Anti-Rape Crisis Cell, Mayo Hospital",
            "kind": "crisis_cell",
            "district": District.objects.get(code="LHR"),
            "source": "Provincial notification",
        },
        reason="New crisis cell",
    )
    assert agency.province is not None
    assert agency.province.code == "PB"
    assert AuditEvent.objects.get(action="catalogue.agency_created").details["fields"][
        "district"
    ] == ("LHR")


def test_nothing_is_audited_when_nothing_changed(people: People) -> None:
    offence = Offence.objects.get(code="PPC 375")
    assert actions.update_offence(people.administrator, offence, {"title": offence.title}) == []
    assert not AuditEvent.objects.filter(action="catalogue.offence_changed").exists()


def test_the_deadline_catalogue_reads_its_clocks_and_conditions_in_words(people: People) -> None:
    """Found by walking the demo as the administrator in Urdu: the clocks read
    "report_received → alert_raiser_contacted" and the condition "missing_child"."""
    admin = signed_in(people.administrator)
    page = admin.get(reverse("catalogue:rule_list"), {"q": "alert"}).content.decode()
    assert ">Person who raised the alert contacted</span>" in page
    assert ">Child missing or abducted</span>" in page
    assert "<code>report_received</code>" not in page and "<code>missing_child</code>" not in page
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    urdu = admin.get(reverse("catalogue:rule_list"), {"q": "alert"}).content.decode()
    assert ">اطلاع دہندہ سے رابطہ کیا گیا</span>" in urdu and ">بچہ لاپتہ یا اغوا</span>" in urdu
    derived = admin.get(reverse("catalogue:rule_list"), {"q": "interim"}).content.decode()
    assert ">چالان وقت پر جمع نہیں ہوا</span>" in derived


def test_every_shipped_clock_event_and_condition_has_a_name(people: People) -> None:
    from muhafiz.catalogue.models import condition_label, event_label

    for rule in DeadlineRule.objects.all():
        codes = [rule.start_event, *rule.end_event.split("|")]
        assert all(event_label(code) != code for code in codes), rule.code
        assert not rule.applies_when or condition_label(rule.applies_when) != rule.applies_when
