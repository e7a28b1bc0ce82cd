"""The case page as sections with their own pages (issue 15, item 3): overview, parties,
proceedings and clocks, evidence and scans, links and network, referrals, history. Each is its own
address under /cases/<reference>/, each shows the same section bar linking to all the others the
reader may open, and a section opens only for those who may see what it shows."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

from muhafiz.cases.models import Case, Victim
from muhafiz.cases.tests.conftest import GUARDIAN_NAME, VICTIM_NAME
from muhafiz.testing import People, signed_in

SECTIONS = {
    "overview": "",
    "parties": "parties/",
    "proceedings": "proceedings/",
    "evidence": "evidence/",
    "links": "links/",
    "referrals": "referrals/",
    "history": "history/",
}
EVERYTHING = set(SECTIONS)
INVESTIGATION = {"overview", "parties", "proceedings", "evidence", "links", "history"}
WELFARE = {"overview", "parties", "referrals"}

# Who opens which section of a Lahore case (the team: investigator, prosecutor, examiner, child
# protection officer; the supervisor oversees it).
MATRIX = [
    ("lahore_investigator", EVERYTHING),
    ("lahore_supervisor", EVERYTHING),
    ("prosecutor", EVERYTHING),
    ("forensic_examiner", INVESTIGATION),
    ("child_protection_officer", WELFARE),
    ("kasur_investigator", set()),
    ("register_officer", set()),
    ("analyst", set()),
    ("auditor", set()),
    ("administrator", set()),
    ("outsider", set()),
]


def _nav(html: str) -> dict[str, str]:
    """The section bar of a page: {section: address}."""
    bar = html.split('id="case-nav"', 1)[1].split("</nav>", 1)[0]
    return {
        key: url
        for url, key in re.findall(
            r'<a href="([^"]+)" id="case-\w+-link" data-section="(\w+)"', bar
        )
    }


@pytest.mark.parametrize(("person", "opens"), MATRIX)
def test_each_section_opens_for_those_who_may_see_it(
    people: People, lahore_case: Case, victim: Victim, person: str, opens: set[str]
) -> None:
    client = signed_in(getattr(people, person))
    for key, tail in SECTIONS.items():
        response = client.get(f"/cases/{lahore_case.reference}/{tail}")
        if key in opens:
            assert response.status_code == 200, (key, response.status_code)
            assert set(_nav(response.content.decode())) == opens, key
        else:
            assert response.status_code in {403, 404}, (key, response.status_code)


def test_the_sections_lead_to_each_other_without_a_typed_address(
    people: People, lahore_case: Case, victim: Victim
) -> None:
    """From the overview, following only the section bar, every section is reached, and every
    section's bar links to all the others and marks itself as the current one."""
    client = signed_in(people.lahore_investigator)
    ref = lahore_case.reference
    start = client.get(f"/cases/{ref}/").content.decode()
    bar = _nav(start)
    assert bar == {key: f"/cases/{ref}/{tail}" for key, tail in SECTIONS.items()}
    for key, url in bar.items():
        html = client.get(url).content.decode()
        assert _nav(html) == bar
        current = re.search(r'data-section="(\w+)" aria-current="page"', html)
        assert current is not None and current.group(1) == key


def test_the_overview_is_short_and_each_part_lives_in_its_section(
    people: People, lahore_case: Case, victim: Victim
) -> None:
    from muhafiz.cases import actions

    actions.add_accused(
        people.lahore_investigator, lahore_case, actions.AccusedDetails(name="Accused One")
    )
    actions.refer_victim(people.lahore_investigator, victim, needs="Counselling")
    actions.close_case(people.lahore_investigator, lahore_case, "Sent to court elsewhere")
    client = signed_in(people.lahore_investigator)
    ref = lahore_case.reference
    overview = client.get(f"/cases/{ref}/").content.decode()
    assert 'id="case-content"' in overview and 'id="team-list"' in overview
    for elsewhere in ('id="victim-list"', 'id="accused-list"', 'id="referral-list"', "Sent to"):
        assert elsewhere not in overview
    parties = client.get(f"/cases/{ref}/parties/").content.decode()
    assert victim.pseudonym in parties and "Accused One" in parties
    assert 'id="witness-list"' in parties
    assert "Counselling" in client.get(f"/cases/{ref}/referrals/").content.decode()
    assert "Sent to court elsewhere" in client.get(f"/cases/{ref}/history/").content.decode()


def test_no_section_shows_a_victims_identity(
    people: People, lahore_case: Case, victim: Victim
) -> None:
    """Identity is shown only in the response to an audited request on the victim's page."""
    for person in ("lahore_investigator", "prosecutor", "child_protection_officer"):
        client = signed_in(getattr(people, person))
        for tail in SECTIONS.values():
            html = client.get(f"/cases/{lahore_case.reference}/{tail}").content.decode()
            assert VICTIM_NAME not in html and GUARDIAN_NAME not in html


def test_writes_return_to_their_section(people: People, lahore_case: Case, victim: Victim) -> None:
    client = signed_in(people.lahore_investigator)
    ref = lahore_case.reference
    response = client.post(
        f"/cases/{ref}/referrals/new/", {"victim": victim.pseudonym, "needs": "Shelter"}
    )
    assert response["Location"] == f"/cases/{ref}/referrals/"
    response = client.post(f"/cases/{ref}/witnesses/new/", {"name": "A Neighbour"})
    assert response["Location"] == f"/cases/{ref}/parties/"
    response = client.post(f"/cases/{ref}/close/", {"reason": "Compromise"})
    assert response["Location"] == f"/cases/{ref}/history/"


def test_the_sections_are_in_urdu(people: People, lahore_case: Case, victim: Victim) -> None:
    client: Client = signed_in(people.lahore_investigator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = client.get(f"/cases/{lahore_case.reference}/history/").content.decode()
    assert 'dir="rtl"' in html
    bar = html.split('id="case-nav"', 1)[1].split("</nav>", 1)[0]
    for english in ("Overview", "Parties", "Proceedings and clocks", "Evidence and scans"):
        assert english not in bar
    for english in ("Links and network", "Referrals", "History"):
        assert english not in bar
