"""Victims, accused, witnesses and referrals: codes, encryption, consent, cross-case links."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.cases import actions
from muhafiz.cases.models import Accused, Case, Referral, Victim, Witness
from muhafiz.cases.selectors import find_cases_sharing_identifiers
from muhafiz.cases.tests.conftest import VICTIM_CNIC, VICTIM_NAME
from muhafiz.catalogue.models import Agency, District
from muhafiz.testing import People


def test_victim_gets_a_code_of_year_district_and_number(lahore_case: Case, victim: Victim) -> None:
    year = timezone.localtime(lahore_case.reported_at).year
    assert victim.pseudonym == f"V-{year}-LHR-0001"
    assert victim.age_band == "11-15"


def test_victim_identity_is_encrypted_in_the_database(victim: Victim) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, cnic, guardian_name FROM cases_victim WHERE id = %s", [victim.pk]
        )
        row = cursor.fetchone()
    assert VICTIM_NAME not in str(row)
    assert VICTIM_CNIC not in str(row)
    assert all(str(value).startswith("v1:") for value in row)


def test_each_view_of_a_victim_identity_is_audited_with_its_purpose(
    people: People, victim: Victim
) -> None:
    shown = actions.reveal_victim_identity(people.prosecutor, victim, "Preparing the charge sheet")
    assert shown["name"] == VICTIM_NAME
    event = AuditEvent.objects.get(action="victim.identity.view")
    assert event.reason == "Preparing the charge sheet"
    assert event.object_label == victim.pseudonym
    assert VICTIM_NAME not in str(event.details)


def test_identity_view_needs_a_purpose(people: People, victim: Victim) -> None:
    with pytest.raises(ValidationError):
        actions.reveal_victim_identity(people.prosecutor, victim, " ")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("cnic", "35202-123", "13 digits"),
        ("phones", ["12"], "not a valid Pakistani number"),
        ("name", "x" * 201, "under 200"),
        ("birth_date", dt.date(2099, 1, 1), "after the report"),
    ],
)
def test_bad_victim_input_is_refused_clearly_and_nothing_is_saved(
    people: People, lahore_case: Case, field: str, value: object, message: str
) -> None:
    identity = actions.VictimIdentity(name="Someone")
    setattr(identity, field, value)
    with pytest.raises(ValidationError) as caught:
        actions.add_victim(people.lahore_investigator, lahore_case, identity)
    assert message in " ".join(caught.value.message_dict[field])
    assert "35202-123" not in str(caught.value)
    assert not Victim.objects.exists()
    assert not AuditEvent.objects.filter(action="victim.create").exists()


@pytest.mark.parametrize(
    ("born", "band"),
    [(None, "unknown"), (4, "0-5"), (6, "6-10"), (11, "11-15"), (17, "16-18"), (19, "18+")],
)
def test_age_band_is_derived_from_the_date_of_birth(born: int | None, band: str) -> None:
    today = dt.date(2026, 6, 1)
    birth = None if born is None else today.replace(year=today.year - born)
    assert actions.age_band(birth, today) == band


def test_referral_without_consent_is_blocked_until_a_supervisor_overrides(
    people: People, victim: Victim
) -> None:
    actions.set_victim_consents(people.lahore_investigator, victim, referral=False)
    with pytest.raises(ValidationError) as caught:
        actions.refer_victim(people.lahore_investigator, victim, needs="Counselling")
    assert victim.pseudonym in str(caught.value)
    assert not Referral.objects.exists()
    with pytest.raises(PermissionDenied):
        actions.override_consent(people.lahore_investigator, victim, "referral", "Urgent")
    actions.override_consent(
        people.lahore_supervisor, victim, "referral", "Child at risk at home; shelter needed"
    )
    referral = actions.refer_victim(
        people.lahore_investigator,
        victim,
        needs="Shelter and counselling",
        officer=people.child_protection_officer,
    )
    assert referral.consent_override is not None
    event = AuditEvent.objects.get(action="victim.consent.override")
    assert event.reason == "Child at risk at home; shelter needed"


def test_referral_is_accepted_then_done_by_the_officer_on_the_team(
    people: People, victim: Victim
) -> None:
    referral = actions.refer_victim(
        people.lahore_investigator,
        victim,
        needs="Counselling",
        officer=people.child_protection_officer,
    )
    with pytest.raises(PermissionDenied):
        actions.decide_referral(people.lahore_investigator, referral, "accept")
    with pytest.raises(ValidationError):
        actions.decide_referral(people.child_protection_officer, referral, "done")
    actions.decide_referral(people.child_protection_officer, referral, "accept")
    actions.decide_referral(people.child_protection_officer, referral, "done", "Sessions held")
    referral.refresh_from_db()
    assert referral.status == "done"
    assert referral.done_at is not None


def test_rejecting_a_referral_needs_a_reason(people: People, victim: Victim) -> None:
    referral = actions.refer_victim(people.lahore_investigator, victim, needs="Counselling")
    with pytest.raises(ValidationError):
        actions.decide_referral(people.child_protection_officer, referral, "reject")
    actions.decide_referral(people.child_protection_officer, referral, "reject", "Out of area")
    referral.refresh_from_db()
    assert referral.status == "rejected"


def test_accused_in_two_districts_sharing_a_phone_are_linked(
    people: People, lahore_case: Case, kasur: District, police: Agency
) -> None:
    lahore_accused = actions.add_accused(
        people.lahore_investigator,
        lahore_case,
        actions.AccusedDetails(
            name="Accused One", cnic="3520212345671", phones=["0300-7654321"], handles=["@Tiger_1"]
        ),
    )
    kasur_case = actions.create_case(
        people.kasur_investigator, district=kasur, agency=police, reported_at=timezone.now()
    )
    kasur_accused = actions.add_accused(
        people.kasur_investigator,
        kasur_case,
        actions.AccusedDetails(
            name="Another Name", phones=["+92 300 7654321"], handles=["tiger_1"]
        ),
    )
    links = find_cases_sharing_identifiers(kasur_accused)
    assert {(link.kind, link.case_reference, link.accused_label) for link in links} == {
        ("phone", lahore_case.reference, "A1"),
        ("handle", lahore_case.reference, "A1"),
    }
    assert [link.case_reference for link in find_cases_sharing_identifiers(lahore_accused)] == [
        kasur_case.reference,
        kasur_case.reference,
    ]
    assert lahore_accused.identifier_values("cnic") == ["35202-1234567-1"]


def test_accused_with_a_wrong_cnic_is_refused_and_not_saved(
    people: People, lahore_case: Case
) -> None:
    with pytest.raises(ValidationError) as caught:
        actions.add_accused(
            people.lahore_investigator,
            lahore_case,
            actions.AccusedDetails(name="X", cnic="3520212"),
        )
    assert "13 digits" in " ".join(caught.value.message_dict["cnic"])
    assert not Accused.objects.exists()


def test_witnesses_are_labelled_and_encrypted(people: People, lahore_case: Case) -> None:
    witness = actions.add_witness(
        people.lahore_investigator, lahore_case, name="Shopkeeper Testname", phones=["03001112223"]
    )
    assert witness.label == "W1"
    assert Witness.objects.get(pk=witness.pk).phones == "+923001112223"


def test_correcting_a_victim_identity_is_audited_by_field_not_value(
    people: People, victim: Victim
) -> None:
    actions.update_victim_identity(
        people.lahore_investigator,
        victim,
        actions.VictimIdentity(name="Corrected Testname", cnic=VICTIM_CNIC, estimated_age=8),
    )
    stored = Victim.objects.get(pk=victim.pk)
    assert stored.name == "Corrected Testname"
    assert stored.age_band == "6-10"
    assert Victim.objects.filter(cnic_index=stored.cnic_index).count() == 1
    event = AuditEvent.objects.get(action="victim.identity.update")
    assert "name" in event.details["changed"]
    assert "Corrected" not in str(event.details)


@pytest.mark.parametrize("where", ["summary", "close", "override", "referral", "purpose"])
def test_free_text_that_names_the_victim_is_refused(
    people: People, lahore_case: Case, victim: Victim, where: str
) -> None:
    text = f"Spoke to {VICTIM_NAME.upper()} and her guardian"
    with pytest.raises(ValidationError) as caught:
        if where == "summary":
            actions.update_case(people.lahore_investigator, lahore_case, summary=text)
        elif where == "close":
            actions.close_case(people.lahore_investigator, lahore_case, text)
        elif where == "override":
            actions.override_consent(people.lahore_supervisor, victim, "sharing", text)
        elif where == "referral":
            actions.refer_victim(people.lahore_investigator, victim, needs=text)
        else:
            actions.reveal_victim_identity(people.prosecutor, victim, text)
    assert "use the victim's code" in str(caught.value)
    assert VICTIM_NAME not in str(caught.value)
    assert not AuditEvent.objects.filter(reason__icontains="Spoke to").exists()
    cnic_digits = VICTIM_CNIC.replace("-", "")
    with pytest.raises(ValidationError):
        actions.close_case(people.lahore_investigator, lahore_case, f"CNIC {cnic_digits} checked")


@pytest.mark.parametrize("via", ["page", "api"])
def test_the_child_protection_officer_sees_referrals_of_the_district_but_kasur_does_not(
    people: People, victim: Victim, via: str
) -> None:
    from muhafiz.testing import make_user, signed_in

    actions.refer_victim(
        people.lahore_investigator,
        victim,
        needs="Counselling",
        officer=people.child_protection_officer,
    )
    kasur_cpo = make_user("cpo.kasur", "child_protection_officer", district_code="KSR")
    url = "/cases/referrals/?mine=1" if via == "page" else "/api/v1/cases/referrals?mine=true"
    assert victim.pseudonym in signed_in(people.child_protection_officer).get(url).content.decode()
    assert victim.pseudonym not in signed_in(kasur_cpo).get(url).content.decode()
    assert signed_in(people.analyst).get(url).status_code == 403


def test_an_accused_e_mail_is_normalized_and_a_bad_one_refused_without_echo(
    people: People, lahore_case: Case
) -> None:
    accused = actions.add_accused(
        people.lahore_investigator,
        lahore_case,
        actions.AccusedDetails(name="Accused Mail", emails=["  Tiger.One@Example.ORG "]),
    )
    assert accused.emails == ["tiger.one@example.org"]
    with pytest.raises(ValidationError) as refused:
        actions.add_accused(
            people.lahore_investigator,
            lahore_case,
            actions.AccusedDetails(name="Accused Two", emails=["tiger-at-nowhere"]),
        )
    assert "emails" in refused.value.message_dict
    assert "tiger-at-nowhere" not in str(refused.value)
