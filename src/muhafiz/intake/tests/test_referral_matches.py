"""A referral's own page (and the API's report detail) lists what it matched — which of its
identifiers or file hashes was found in which case, among which accused, in which scan — to
readers the permission module lets see that case; everyone else gets a count, never a case
reference, an accused, a scan, the matched value or anything about a victim."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.conf import settings

from muhafiz.cases import actions as cases
from muhafiz.core.permissions import SYSTEM
from muhafiz.intake import actions, selectors
from muhafiz.intake.models import Report, TipMatch
from muhafiz.intake.tests.synthetic_tips import SyntheticTip, sha256, write_xml
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db

BLOB = b"benign synthetic test bytes: a blue square"
HANDLE = "night_owl_77"
VICTIM_NAME = "Shabnam Matchtest"


def _import(tip: SyntheticTip) -> Report:
    text = io.StringIO()
    write_xml(text, [tip])
    actions.import_cybertips(SYSTEM, io.BytesIO(text.getvalue().encode()))
    return Report.objects.get(cybertip__report_id_ncmec=tip.report_id)


@pytest.fixture
def matched_case(people: People, lahore_case: Any) -> Any:
    """The Lahore case holds the referral's file in a scan and its screen name as accused A1's
    handle, and has a named victim."""
    from muhafiz.evidence.models import MediaFile, Scan

    scan = Scan.objects.create(case=lahore_case, origin="upload", status="done")
    MediaFile.objects.create(
        scan=scan, case=lahore_case, source_id=1, path="DCIM/y.jpg", sha256=sha256(BLOB)
    )
    cases.add_accused(
        people.lahore_investigator,
        lahore_case,
        cases.AccusedDetails(name="Accused Matchname", handles=[HANDLE]),
    )
    victim = cases.add_victim(
        people.lahore_investigator,
        lahore_case,
        cases.VictimIdentity(name=VICTIM_NAME),
        gender="girl",
    )
    lahore_case.test_victim_code = victim.pseudonym
    lahore_case.test_scan = scan
    return lahore_case


def _tip(report_id: str, city: str) -> SyntheticTip:
    return SyntheticTip(report_id, screen_name=HANDLE.upper(), file_blobs=[BLOB], city=city)


def test_the_lahore_investigator_sees_which_hash_and_screen_name_matched_which_scan_and_accused(
    people: People, matched_case: Any
) -> None:
    report = _import(_tip("8800001", "Lahore"))
    found = selectors.referral_matches(people.lahore_investigator, report)
    assert found.hidden_in_cases == 0
    by_kind = {m.kind: m for m in found.shown}
    evidence, accused = by_kind["evidence"], by_kind["accused"]
    assert (evidence.identifier_kind, evidence.value) == ("file_hash", sha256(BLOB))
    assert (evidence.case, evidence.scan) == (matched_case.reference, matched_case.test_scan.pk)
    assert (accused.identifier_kind, accused.value) == ("screen_name", HANDLE)
    assert (accused.case, accused.accused) == (matched_case.reference, "A1")

    page = signed_in(people.lahore_investigator).get(f"/intake/reports/{report.reference}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="referral-matches"' in html
    assert f'data-case="{matched_case.reference}"' in html
    assert sha256(BLOB) in html and HANDLE in html
    assert f"/evidence/scans/{matched_case.test_scan.pk}/" in html
    assert "accused A1" in html
    assert VICTIM_NAME not in html and matched_case.test_victim_code not in html

    api = signed_in(people.lahore_investigator).get(f"/api/v1/intake/reports/{report.reference}")
    body = api.json()
    assert api.status_code == 200
    assert body["matches_hidden_in_cases"] == 0
    assert {(m["kind"], m["case"], m["value"]) for m in body["matches"]} == {
        ("evidence", matched_case.reference, sha256(BLOB)),
        ("accused", matched_case.reference, HANDLE),
    }
    assert VICTIM_NAME not in api.content.decode()


def test_a_national_desk_officer_off_the_team_sees_the_case_but_not_its_scan(
    people: People, matched_case: Any, nccia_investigator: Any
) -> None:
    report = _import(_tip("8800002", "Lahore"))
    found = selectors.referral_matches(nccia_investigator, report)
    evidence = next(m for m in found.shown if m.kind == "evidence")
    assert evidence.case == matched_case.reference and evidence.scan is None
    html = signed_in(nccia_investigator).get(f"/intake/reports/{report.reference}/").content
    assert b"/evidence/scans/" not in html and matched_case.reference.encode() in html


def test_a_kasur_investigator_does_not_see_the_lahore_case_a_kasur_referral_matched(
    people: People, matched_case: Any
) -> None:
    report = _import(_tip("8800003", "Kasur"))
    assert report.district is not None and report.district.code == "KSR"
    assert TipMatch.objects.filter(tip__report=report, case=matched_case).count() == 2
    reader = people.kasur_investigator
    found = selectors.referral_matches(reader, report)
    assert found.shown == [] and found.hidden_in_cases == 2

    page = signed_in(reader).get(f"/intake/reports/{report.reference}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "2 matches in cases you cannot see" in html
    assert matched_case.reference not in html
    assert "A1" not in html.split('id="referral-matches"')[1].split("</section>")[0]
    assert "/evidence/scans/" not in html and VICTIM_NAME not in html

    api = signed_in(reader).get(f"/api/v1/intake/reports/{report.reference}")
    body = api.json()
    assert body["matches"] == [] and body["matches_hidden_in_cases"] == 2
    assert matched_case.reference not in api.content.decode()


def test_the_districts_child_protection_officer_who_may_not_see_cases_gets_a_count(
    people: People, matched_case: Any
) -> None:
    report = _import(_tip("8800004", "Lahore"))
    reader = people.child_protection_officer  # handles Lahore's queue; holds no CASE_VIEW
    found = selectors.referral_matches(reader, report)
    assert found.shown == [] and found.hidden_in_cases == 2
    with_urdu = signed_in(reader)
    with_urdu.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    html = with_urdu.get(f"/intake/reports/{report.reference}/").content.decode()
    assert "ایسے مقدمات" in html  # the count, in Urdu
    assert matched_case.reference not in html and HANDLE not in html.split("referral-matches")[1]


def test_a_referral_without_matches_says_so_and_matching_again_adds_no_copy(
    people: People, matched_case: Any
) -> None:
    quiet = _import(SyntheticTip("8800005", screen_name="nobody_here", city="Lahore"))
    html = signed_in(people.lahore_investigator).get(f"/intake/reports/{quiet.reference}/")
    assert b"No match in the hash banks" in html.content
    report = _import(_tip("8800006", "Lahore"))
    assert TipMatch.objects.filter(tip__report=report).count() == 2
    from muhafiz.intake.actions.rematch import rematch_referrals_for_case

    assert rematch_referrals_for_case(SYSTEM, matched_case.pk) == 0
    assert TipMatch.objects.filter(tip__report=report).count() == 2


def test_a_bank_match_is_named_to_those_who_receive_hash_matches_and_counted_for_others(
    people: People,
) -> None:
    from muhafiz.hashbank import actions as hashbank
    from muhafiz.hashbank.models import BankEntry

    bank = hashbank.create_bank(SYSTEM, name="Known material (test)", kind="known-bad")
    BankEntry.objects.create(bank=bank, sha256=sha256(BLOB))
    report = _import(SyntheticTip("8800007", file_blobs=[BLOB], city="Lahore"))
    named = selectors.referral_matches(people.lahore_investigator, report)  # holds HASH_MATCH
    assert [(m.kind, m.bank, m.value) for m in named.shown] == [
        ("bank", "Known material (test)", sha256(BLOB))
    ]
    counted = selectors.referral_matches(people.child_protection_officer, report)
    assert counted.shown == [] and counted.hidden_in_banks == 1
    html = signed_in(people.child_protection_officer).get(f"/intake/reports/{report.reference}/")
    text = html.content.decode()
    assert "1 match in a hash bank whose matches you do not receive" in text
    assert "Known material (test)" not in text
