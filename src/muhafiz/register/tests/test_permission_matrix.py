"""The permission matrix of the register, through the pages and the API alike: who reads a
registrant; a check only for a named accused of one's own case; nothing before the
prosecutor's approval; only a prosecutor of the case's district approves; a vetting answer
carries no details."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from muhafiz.cases.models import Accused, Case
from muhafiz.catalogue.models import District
from muhafiz.register import actions
from muhafiz.register.models import CheckRequest, CheckStatus, Registrant
from muhafiz.register.tests.conftest import (
    ACCUSED_ADDRESS,
    ACCUSED_CNIC,
    ACCUSED_NAME,
    Convict,
    RegisterPeople,
    add_accused,
    open_case,
)
from muhafiz.testing import signed_in

VIA = ["page", "api"]
SECRETS = (ACCUSED_NAME, ACCUSED_CNIC, ACCUSED_ADDRESS)


@pytest.fixture
def registrant(
    rp: RegisterPeople, lahore_case: Case, accused: Accused, convict: Convict
) -> Registrant:
    convict(lahore_case, accused, "2 years")
    registrant = Registrant.objects.get()
    actions.confirm_conviction(rp.register_officer, registrant.convictions.get())
    released = registrant.convictions.get().convicted_at + dt.timedelta(days=30)
    actions.record_release(rp.register_officer, registrant, released_at=released)
    lahore = District.objects.get(code="LHR")
    actions.record_verification(
        rp.station_officer,
        registrant,
        visited_at=released + dt.timedelta(days=1),
        outcome="confirmed",
        district=lahore,
    )
    registrant.refresh_from_db()
    return registrant


@pytest.fixture
def new_case(rp: RegisterPeople, registrant: Registrant) -> tuple[Case, Accused]:
    """A new Lahore case whose suspect is the registrant (same CNIC)."""
    case = open_case(rp.base, "909/2026", ["PPC 377A"], days_ago=3)
    return case, add_accused(rp.base, case)


def _reads_registrant(client: Client, code: str, via: str) -> bool:
    if via == "page":
        response = client.get(f"/register/registrants/{code}/")
    else:
        response = client.get(f"/api/v1/register/registrants/{code}")
    return response.status_code == 200 and ACCUSED_NAME in response.content.decode()


READERS = [
    ("register_officer", True),
    ("station_officer", True),
    ("kasur_station_officer", False),
    ("lahore_investigator", False),
    ("prosecutor", False),
    ("analyst", False),
    ("auditor", False),
    ("administrator", False),
    ("employer", False),
    ("outsider", False),
]


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize(("person", "reads"), READERS)
def test_who_reads_a_registrant(
    rp: RegisterPeople, registrant: Registrant, via: str, person: str, reads: bool
) -> None:
    client = signed_in(getattr(rp, person))
    assert _reads_registrant(client, registrant.code, via) is reads


def _request(client: Client, case: Case, label: str, via: str) -> int | None:
    """Ask for a check; the new request's id, or None when refused."""
    before = set(CheckRequest.objects.values_list("pk", flat=True))
    data = {"case": case.reference, "accused": label, "reason": "Suspect in a new FIR"}
    if via == "page":
        client.post("/register/checks/new/", data)
    else:
        client.post("/api/v1/register/checks", data, content_type="application/json")
    new = set(CheckRequest.objects.values_list("pk", flat=True)) - before
    return new.pop() if new else None


def _result(client: Client, pk: int, via: str) -> Any:
    if via == "page":
        response = client.post(f"/register/checks/{pk}/result/")
        return response.content.decode() if response.status_code == 200 else None
    response = client.post(f"/api/v1/register/checks/{pk}/result")
    return response.json() if response.status_code == 200 else None


def _decide(client: Client, pk: int, approve: bool, via: str) -> int:
    if via == "page":
        data = {"decision": "approve" if approve else "refuse", "reason": "Relevant to the FIR"}
        return client.post(f"/register/checks/{pk}/decide/", data).status_code
    return client.post(
        f"/api/v1/register/checks/{pk}/decision",
        {"approve": approve, "reason": "Relevant to the FIR"},
        content_type="application/json",
    ).status_code


@pytest.mark.parametrize("via", VIA)
def test_a_check_runs_only_after_the_district_prosecutor_approves(
    rp: RegisterPeople, new_case: tuple[Case, Accused], via: str
) -> None:
    case, _accused = new_case
    investigator = signed_in(rp.lahore_investigator)
    pk = _request(investigator, case, "A1", via)
    assert pk is not None
    check = CheckRequest.objects.get(pk=pk)
    assert check.due_at - check.requested_at == dt.timedelta(hours=48)
    # Without the prosecutor's approval nothing is returned.
    assert _result(investigator, pk, via) is None
    # A prosecutor of another district cannot approve; the requester cannot either.
    assert _decide(signed_in(rp.kasur_prosecutor), pk, True, via) in {403, 404}
    assert _decide(investigator, pk, True, via) == 403
    check.refresh_from_db()
    assert check.status == CheckStatus.REQUESTED and check.result is None
    # The Lahore prosecutor approves: the check runs, and the answer is limited.
    assert _decide(signed_in(rp.prosecutor), pk, True, via) in {200, 302}
    result = _result(investigator, pk, via)
    assert result is not None
    text = result if isinstance(result, str) else str(result)
    if via == "api":
        assert result["found"] is True and result["match_by"] == "cnic"
        assert [c["sections"] for c in result["convictions"]] == [["PPC 377A", "PPC 377B"]]
        assert result["compliance"] == "compliant"
        assert result["last_verified_district"] == "Lahore"
    else:
        assert 'data-found="yes"' in result
    for secret in SECRETS:
        assert secret not in text
    # Only the requester reads it.
    assert _result(signed_in(rp.prosecutor), pk, via) is None
    # The request is spent: deciding again runs nothing and changes nothing.
    kept = CheckRequest.objects.get(pk=pk).result
    assert _decide(signed_in(rp.prosecutor), pk, True, via) in {200, 400}
    assert CheckRequest.objects.get(pk=pk).result == kept


@pytest.mark.parametrize("via", VIA)
def test_an_investigator_cannot_check_someone_not_accused_in_their_case(
    rp: RegisterPeople, new_case: tuple[Case, Accused], via: str
) -> None:
    case, _accused = new_case
    # Kasur's investigator is not on the Lahore team.
    assert _request(signed_in(rp.kasur_investigator), case, "A1", via) is None
    # No accused A7 on this case: the request names no one it could check.
    assert _request(signed_in(rp.lahore_investigator), case, "A7", via) is None
    # A case of another district where the Lahore investigator is not on the team.
    other = open_case(rp.base, "910/2026", ["PPC 377A"], days_ago=3)
    from muhafiz.cases.actions import remove_team_member

    member = other.team.get(user=rp.lahore_investigator)
    remove_team_member(rp.lahore_supervisor, member, reason="Transferred")
    add_accused(rp.base, other)
    assert _request(signed_in(rp.lahore_investigator), other, "A1", via) is None


@pytest.mark.parametrize("via", VIA)
def test_a_vetting_answer_carries_no_details(
    rp: RegisterPeople, registrant: Registrant, via: str
) -> None:
    client = signed_in(rp.employer)
    data = {
        "position": "Teacher",
        "applicant_cnic": ACCUSED_CNIC,
        "consent_reference": "CONSENT-17",
        "consent_given_on": timezone.localdate().isoformat(),
    }
    if via == "page":
        response = client.post("/register/vetting/", data)
        body = response.content.decode()
        assert 'data-answer="listed_conviction_exists"' in body
    else:
        response = client.post("/api/v1/register/vetting", data, content_type="application/json")
        assert response.status_code == 201
        assert set(response.json()) == {"receipt", "answer", "organisation"}
        assert response.json()["organisation"] == "Sunrise School"
        assert response.json()["answer"] == "listed_conviction_exists"
        body = response.content.decode()
    for secret in (ACCUSED_NAME, ACCUSED_ADDRESS, registrant.code, "PPC 377"):
        assert secret not in body


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize("person", ["analyst", "administrator", "lahore_investigator"])
def test_only_employers_ask_vetting_questions(
    rp: RegisterPeople, registrant: Registrant, via: str, person: str
) -> None:
    client = signed_in(getattr(rp, person))
    data = {
        "position": "Y",
        "applicant_cnic": ACCUSED_CNIC,
        "consent_reference": "C",
        "consent_given_on": timezone.localdate().isoformat(),
    }
    if via == "page":
        assert client.post("/register/vetting/", data).status_code == 403
    else:
        response = client.post("/api/v1/register/vetting", data, content_type="application/json")
        assert response.status_code == 403


def test_an_approved_vetting_client_asks_through_the_api(
    rp: RegisterPeople, registrant: Registrant
) -> None:
    from muhafiz.register.models import Organisation
    from muhafiz.testing import make_api_client

    api_client, token = make_api_client("vetting_employer")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    data = {
        "position": "Warden",
        "applicant_cnic": "35202-0000000-9",
        "consent_reference": "FORM-3",
        "consent_given_on": timezone.localdate().isoformat(),
    }
    # Not yet a member of an approved organisation: refused.
    refused = api.post("/api/v1/register/vetting", data, content_type="application/json")
    assert refused.status_code == 403
    actions.add_organisation_member(
        rp.register_officer, Organisation.objects.get(), member=api_client
    )
    response = api.post("/api/v1/register/vetting", data, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["answer"] == "no_listed_conviction"
    assert response.json()["organisation"] == "Sunrise School"
    # The same client reads no registrant.
    assert api.get(f"/api/v1/register/registrants/{registrant.code}").status_code in {403, 404}
