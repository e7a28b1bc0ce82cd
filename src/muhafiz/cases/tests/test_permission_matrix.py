"""The permission matrix: who may open which part of a Lahore case, through the pages and the
API alike. Each row of the matrix reads as a sentence; `via` runs it through both doors."""

from __future__ import annotations

import pytest
from django.test import Client

from muhafiz.cases.models import Case, Victim
from muhafiz.cases.tests.conftest import VICTIM_NAME
from muhafiz.core.permissions import Perm, has_perm
from muhafiz.testing import People, signed_in

VIA = ["page", "api"]


def _case(client: Client, case: Case, via: str) -> tuple[bool, bool]:
    """(sees the investigative content, sees the welfare part)."""
    if via == "page":
        response = client.get(f"/cases/{case.reference}/")
        if response.status_code != 200:
            return False, False
        html = response.content.decode()
        referrals = client.get(f"/cases/{case.reference}/referrals/")
        welfare = referrals.status_code == 200 and 'id="referrals"' in referrals.content.decode()
        return 'id="case-content"' in html, welfare
    response = client.get(f"/api/v1/cases/{case.reference}")
    if response.status_code != 200:
        return False, False
    body = response.json()
    return body["content"] is not None, body["welfare"] is not None


def _identity(client: Client, case: Case, victim: Victim, via: str) -> bool:
    purpose = {"purpose": "Preparing the statement before the magistrate"}
    if via == "page":
        url = f"/cases/{case.reference}/victims/{victim.pseudonym}/identity/"
        response = client.post(url, purpose)
        return response.status_code == 200 and VICTIM_NAME in response.content.decode()
    url = f"/api/v1/cases/{case.reference}/victims/{victim.pseudonym}/identity"
    response = client.post(url, purpose, content_type="application/json")
    return response.status_code == 200 and response.json()["name"] == VICTIM_NAME


def _accused(client: Client, case: Case, via: str) -> bool:
    if via == "page":
        return client.get(f"/cases/{case.reference}/accused/A1/").status_code == 200
    return client.get(f"/api/v1/cases/{case.reference}/accused").status_code == 200


def _statistics(client: Client, via: str) -> bool:
    if via == "page":  # the old page sends those who may read statistics to the staff figures
        response = client.get("/cases/statistics/")
        return response.status_code == 301 and response["Location"] == "/statistics/staff/"
    return client.get("/api/v1/cases/statistics/victims").status_code == 200


@pytest.fixture
def setting(people: People, lahore_case: Case, victim: Victim) -> tuple[People, Case, Victim]:
    from muhafiz.cases import actions

    actions.add_accused(
        people.lahore_investigator, lahore_case, actions.AccusedDetails(name="Accused One")
    )
    return people, lahore_case, victim


# (person, content, welfare, identity, accused, statistics)
MATRIX = [
    ("lahore_investigator", True, True, True, True, False),
    ("kasur_investigator", False, False, False, False, False),
    ("lahore_supervisor", True, True, True, True, True),
    ("prosecutor", True, True, True, True, False),
    ("forensic_examiner", True, False, False, True, False),
    ("child_protection_officer", False, True, True, False, False),
    ("register_officer", False, False, False, False, False),
    ("analyst", False, False, False, False, True),
    ("auditor", False, False, False, False, True),
    ("administrator", False, False, False, False, False),
    ("outsider", False, False, False, False, False),
]


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize(
    ("person", "content", "welfare", "identity", "accused", "statistics"), MATRIX
)
def test_permission_matrix(  # noqa: PLR0917 - one argument per column of the matrix
    setting: tuple[People, Case, Victim],
    via: str,
    person: str,
    content: bool,
    welfare: bool,
    identity: bool,
    accused: bool,
    statistics: bool,
) -> None:
    people, case, victim = setting
    client = signed_in(getattr(people, person))
    assert _case(client, case, via) == (content, welfare)
    assert _accused(client, case, via) is accused
    assert _identity(client, case, victim, via) is identity
    assert _statistics(client, via) is statistics


# API clients of each profile, beside the people: (profile, agency, jurisdiction, approved,
# content, welfare, identity, accused, statistics). Pages never serve a bearer token: through
# the page door every client sees nothing.
CLIENT_MATRIX = [
    ("hash_matcher", "PB-POLICE", "national", True, False, False, False, False, False),
    ("hma_matcher", "PB-POLICE", "national", True, False, False, False, False, False),
    ("statistics_reader", "PB-POLICE", "national", True, False, False, False, False, True),
    ("bank_keeper", "PB-FORENSIC", "national", True, False, False, False, False, False),
    ("audit_reader", "PB-POLICE", "national", True, False, False, False, False, False),
    ("case_system", "PB-POLICE", "LHR", True, True, False, False, True, False),
    ("case_system", "PB-POLICE", "KSR", True, False, False, False, False, False),
    ("case_system", "FIA", "LHR", True, False, False, False, False, False),
    ("case_system_identity", "PB-POLICE", "LHR", True, True, True, True, True, False),
    ("case_system_identity", "PB-POLICE", "LHR", False, False, False, False, False, False),
    ("case_system_identity", "FIA", "national", True, False, False, False, False, False),
]


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize(
    (
        "profile",
        "agency_code",
        "where",
        "approved",
        "content",
        "welfare",
        "identity",
        "accused",
        "statistics",
    ),
    CLIENT_MATRIX,
)
def test_permission_matrix_of_api_clients(  # noqa: PLR0917 - one argument per column
    setting: tuple[People, Case, Victim],
    via: str,
    profile: str,
    agency_code: str,
    where: str,
    approved: bool,
    content: bool,
    welfare: bool,
    identity: bool,
    accused: bool,
    statistics: bool,
) -> None:
    from muhafiz.testing import agency, bearer, make_api_client

    _people, case, victim = setting
    agency(agency_code, "police" if agency_code != "FIA" else "cybercrime", agency_code)
    level = "national" if where == "national" else "district"
    _row, token = make_api_client(
        profile,
        level=level,
        district_code=None if level == "national" else where,
        agency_code=agency_code,
        approved=approved,
    )
    client = bearer(token)
    if via == "page":
        content = welfare = identity = accused = statistics = False
    assert _case(client, case, via) == (content, welfare)
    assert _accused(client, case, via) is accused
    assert _identity(client, case, victim, via) is identity
    assert _statistics(client, via) is statistics


@pytest.mark.parametrize("via", VIA)
def test_kasur_investigator_cannot_open_lahore_case(
    setting: tuple[People, Case, Victim], via: str
) -> None:
    people, case, _victim = setting
    client = signed_in(people.kasur_investigator)
    url = f"/cases/{case.reference}/" if via == "page" else f"/api/v1/cases/{case.reference}"
    # Not there to them, exactly like a reference that does not exist (no existence oracle).
    assert client.get(url).status_code == 404
    listing = "/cases/" if via == "page" else "/api/v1/cases/"
    assert case.reference not in client.get(listing).content.decode()


@pytest.mark.parametrize("via", VIA)
def test_child_protection_officer_sees_welfare_but_not_evidence_or_investigation(
    setting: tuple[People, Case, Victim], via: str
) -> None:
    people, case, victim = setting
    cpo = people.child_protection_officer
    client = signed_in(cpo)
    assert _case(client, case, via) == (False, True)
    assert not has_perm(cpo, Perm.EVIDENCE_VIEW, case)
    for section in ("", "parties/", "referrals/"):
        page = client.get(f"/cases/{case.reference}/{section}").content.decode()
        assert case.fir_number not in page
        assert "Accused One" not in page
    assert victim.pseudonym in client.get(f"/cases/{case.reference}/parties/").content.decode()
    for section in ("proceedings/", "evidence/", "links/", "history/"):
        assert client.get(f"/cases/{case.reference}/{section}").status_code == 403


@pytest.mark.parametrize("via", VIA)
def test_child_protection_officer_sees_no_identity_without_sharing_consent(
    setting: tuple[People, Case, Victim], via: str
) -> None:
    people, case, victim = setting
    Victim.objects.filter(pk=victim.pk).update(consent_sharing=False)
    victim.refresh_from_db()
    assert not _identity(signed_in(people.child_protection_officer), case, victim, via)
    assert _identity(signed_in(people.prosecutor), case, victim, via)


@pytest.mark.parametrize("via", VIA)
def test_analyst_sees_no_names(setting: tuple[People, Case, Victim], via: str) -> None:
    people, case, victim = setting
    client = signed_in(people.analyst)
    url = "/statistics/staff/" if via == "page" else "/api/v1/cases/statistics/victims"
    body = client.get(url).content.decode()
    assert ("11–15" if via == "page" else "11-15") in body  # the page shows the band's label
    for secret in (VICTIM_NAME, victim.pseudonym, case.reference, "Accused One"):
        assert secret not in body


@pytest.mark.parametrize("via", VIA)
def test_auditor_sees_the_audit_but_not_the_case_content(
    setting: tuple[People, Case, Victim], via: str
) -> None:
    people, case, _victim = setting
    client = signed_in(people.auditor)
    assert _case(client, case, via) == (False, False)
    audit = client.get("/audit/" if via == "page" else f"/api/v1/audit/events?object_id={case.pk}")
    assert audit.status_code == 200
    assert VICTIM_NAME not in audit.content.decode()


@pytest.mark.parametrize("via", VIA)
def test_administrator_cannot_read_case_content(
    setting: tuple[People, Case, Victim], via: str
) -> None:
    people, case, victim = setting
    client = signed_in(people.administrator)
    assert _case(client, case, via) == (False, False)
    assert not _identity(client, case, victim, via)


def test_prosecutor_off_the_team_cannot_see_identity(
    setting: tuple[People, Case, Victim],
) -> None:
    people, case, victim = setting
    case.team.filter(user=people.prosecutor).delete()
    assert not _identity(signed_in(people.prosecutor), case, victim, "api")
    assert not _identity(signed_in(people.prosecutor), case, victim, "page")


def _write(client: Client, case: Case, victim: Victim, what: str, via: str) -> int:
    ref, code = case.reference, victim.pseudonym
    page = {
        "close": (f"/cases/{ref}/close/", {"reason": "No evidence"}),
        "accused": (f"/cases/{ref}/accused/new/", {"name": "Someone", "status": "suspect"}),
        "victim": (f"/cases/{ref}/victims/new/", {"name": "Someone", "gender": "girl"}),
        "referral": (f"/cases/{ref}/referrals/new/", {"victim": code, "needs": "Help"}),
        "team": (f"/cases/{ref}/team/", {"username": "pros.lahore", "team_role": "prosecutor"}),
    }
    api = {
        "close": (f"/api/v1/cases/{ref}/close", {"reason": "No evidence"}),
        "accused": (f"/api/v1/cases/{ref}/accused", {"name": "Someone"}),
        "victim": (f"/api/v1/cases/{ref}/victims", {"name": "Someone"}),
        "referral": (f"/api/v1/cases/{ref}/referrals", {"victim": code, "needs": "Help"}),
        "team": (
            f"/api/v1/cases/{ref}/team",
            {"username": "pros.lahore", "team_role": "prosecutor"},
        ),
    }
    if via == "page":
        url, data = page[what]
        return client.post(url, data).status_code
    url, data = api[what]
    return client.post(url, data, content_type="application/json").status_code


@pytest.mark.parametrize("via", VIA)
@pytest.mark.parametrize(
    "person",
    [
        "kasur_investigator",
        "forensic_examiner",
        "child_protection_officer",
        "analyst",
        "auditor",
        "administrator",
        "outsider",
    ],
)
def test_people_without_the_edit_right_change_nothing(
    setting: tuple[People, Case, Victim], person: str, via: str
) -> None:
    from muhafiz.audit.models import AuditEvent

    people, case, victim = setting
    before = AuditEvent.objects.count()
    client = signed_in(getattr(people, person))
    # 403 without the role's right; 404 for someone whose role has it but who may not know of
    # this case (it is not there to them, as a made-up reference would not be).
    for what in ("close", "accused", "victim", "referral", "team"):
        assert _write(client, case, victim, what, via) in {403, 404}, what
    case.refresh_from_db()
    assert case.is_open
    assert case.accused.count() == 1
    assert case.victims.count() == 1
    assert not case.referrals.exists()
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("via", VIA)
def test_a_child_witness_is_named_only_to_those_who_may_see_victims(
    setting: tuple[People, Case, Victim], via: str
) -> None:
    from muhafiz.cases import actions

    people, case, _victim = setting
    actions.add_witness(
        people.lahore_investigator, case, name="Young Witness Testname", is_child=True
    )
    url = (
        f"/cases/{case.reference}/parties/"
        if via == "page"
        else f"/api/v1/cases/{case.reference}/witnesses"
    )
    assert "Young Witness Testname" in signed_in(people.prosecutor).get(url).content.decode()
    assert (
        "Young Witness Testname"
        not in signed_in(people.forensic_examiner).get(url).content.decode()
    )
