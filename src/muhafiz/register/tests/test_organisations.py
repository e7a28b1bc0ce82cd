"""The registry of organisations that may vet: an employer applies, a register officer whose
jurisdiction covers the organisation approves it with a reason, and only then are its staff and
its API client answered; every receipt names the organisation."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.catalogue.models import District
from muhafiz.register import actions
from muhafiz.register.models import Organisation, RegisterAlert, VettingRequest
from muhafiz.register.tests.conftest import RegisterPeople
from muhafiz.testing import make_user, signed_in

QUESTION = {
    "position": "Teacher",
    "applicant_cnic": "35202-1234567-1",
    "consent_reference": "CONSENT-9",
}


def _ask(employer: Any) -> VettingRequest:
    return actions.vet_applicant(
        employer,
        position=QUESTION["position"],
        applicant_cnic=QUESTION["applicant_cnic"],
        consent_reference=QUESTION["consent_reference"],
        consent_given_on=timezone.localdate(),
    )


def test_an_employer_is_answered_only_once_their_organisation_is_approved(
    rp: RegisterPeople,
) -> None:
    madrassa_staff = make_user("employer.madrassa", "employer", district_code="LHR")
    organisation = actions.apply_for_organisation(
        madrassa_staff,
        name="Jamia Test Madrassa",
        kind="madrassa",
        registration_number="MAD-77",
        district=District.objects.get(code="LHR"),
    )
    assert RegisterAlert.objects.filter(kind="organisation", recipient=rp.register_officer).exists()
    with pytest.raises(PermissionDenied):
        _ask(madrassa_staff)
    actions.decide_organisation(
        rp.register_officer, organisation, status="approved", reason="Registered with the board"
    )
    answer = _ask(madrassa_staff)
    assert answer.organisation == "Jamia Test Madrassa"
    assert answer.organisation_ref_id == organisation.pk
    actions.decide_organisation(
        rp.register_officer, organisation, status="suspended", reason="Registration lapsed"
    )
    with pytest.raises(PermissionDenied):
        _ask(madrassa_staff)
    actions_done = set(
        AuditEvent.objects.filter(action__startswith="register.organisation").values_list(
            "action", flat=True
        )
    )
    assert actions_done == {"register.organisation_applied", "register.organisation_decided"}


def test_an_employer_without_an_organisation_cannot_vet(rp: RegisterPeople) -> None:
    loose = make_user("employer.loose", "employer", district_code="LHR")
    with pytest.raises(PermissionDenied):
        _ask(loose)
    page = signed_in(loose).post(
        "/register/vetting/", {**QUESTION, "consent_given_on": timezone.localdate().isoformat()}
    )
    body = page.content.decode()
    assert 'id="vetting-blocked"' in body and "vetting-answer" not in body
    assert not VettingRequest.objects.exists()


def test_an_officer_of_another_province_cannot_approve(rp: RegisterPeople) -> None:
    from muhafiz.catalogue.models import Province

    sindh = make_user("reg.sindh", "register_officer", district_code="LHR", level="province")
    sindh.province = Province.objects.exclude(pk=District.objects.get(code="LHR").province_id)[0]
    sindh.save(update_fields=["province"])
    staff = make_user("employer.ngo", "employer", district_code="LHR")
    organisation = actions.apply_for_organisation(
        staff,
        name="Children First NGO",
        kind="ngo",
        registration_number="NGO-1",
        district=District.objects.get(code="LHR"),
    )
    with pytest.raises(PermissionDenied):
        actions.decide_organisation(sindh, organisation, status="approved", reason="x")
    assert signed_in(sindh).post(
        f"/register/organisations/{organisation.pk}/decide/",
        {"status": "approved", "reason": "x"},
    ).status_code in {403, 404}
    for person in (rp.analyst, rp.lahore_investigator, rp.station_officer):
        assert signed_in(person).get("/register/organisations/").status_code == 403
    organisation.refresh_from_db()
    assert organisation.status == "applied"


def test_bad_applications_are_refused(rp: RegisterPeople) -> None:
    staff = make_user("employer.dup", "employer", district_code="LHR")
    lahore = District.objects.get(code="LHR")
    taken = Organisation.objects.get().registration_number
    for name, kind, number in (
        ("", "school", "X-1"),
        ("A", "casino", "X-2"),
        ("B", "school", taken),
    ):
        with pytest.raises(ValidationError):
            actions.apply_for_organisation(
                staff, name=name, kind=kind, registration_number=number, district=lahore
            )
    # Already a member of one: the employer of the fixture cannot apply again.
    with pytest.raises(ValidationError):
        actions.apply_for_organisation(
            rp.employer, name="Another", kind="school", registration_number="X-3", district=lahore
        )


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_the_organisation_pages_in_english_and_urdu(rp: RegisterPeople, lang: str) -> None:
    staff = make_user("employer.page", "employer", district_code="LHR")
    client = signed_in(staff)
    client.cookies["django_language"] = lang
    page = client.get("/register/organisations/")
    assert 'id="organisation-form"' in page.content.decode()
    response = client.post(
        "/register/organisations/",
        {
            "name": "Page Test School",
            "kind": "school",
            "registration_number": "PTS-1",
            "district": "LHR",
        },
    )
    assert response.status_code == 302
    organisation = Organisation.objects.get(registration_number="PTS-1")
    office = signed_in(rp.register_officer)
    office.cookies["django_language"] = lang
    listing = office.get("/register/organisations/").content.decode()
    assert "Page Test School" in listing
    if lang == "ur":
        assert 'dir="rtl"' in listing
    decided = office.post(
        f"/register/organisations/{organisation.pk}/decide/",
        {"status": "approved", "reason": "Inspected"},
    )
    assert decided.status_code == 302
    organisation.refresh_from_db()
    assert organisation.status == "approved"
    vetting = client.get("/register/vetting/").content.decode()
    assert "Page Test School" in vetting and 'id="vetting-form"' in vetting
