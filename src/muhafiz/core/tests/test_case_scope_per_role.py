"""The one case-scope filter keeps what each role saw before (issue 9): one case in Lahore and
one in Kasur (Punjab Police), one in Hyderabad (Sindh Police), each with a victim; every named
person and client sees exactly the cases their role, place and agency allow, whether the rows
are the cases themselves, rows reached through a case, or the selectors that list them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from muhafiz.accounts.roles import JurisdictionLevel, Role
from muhafiz.cases import actions
from muhafiz.cases.models import Case, Victim
from muhafiz.cases.selectors import case_list, victim_statistics, visible_cases
from muhafiz.core.permissions import Perm, case_scope, province_summary_scope
from muhafiz.insights.models import PowerUse, SummaryCount
from muhafiz.insights.scope import summary_rows_scope
from muhafiz.testing import agency, district, make_api_client, make_user

LHR, KSR, HYD = "LHR", "KSR", "HYD"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _open_case(code: str, agency_code: str) -> Case:
    investigator = make_user(
        f"inv.{code.lower()}", Role.INVESTIGATOR, district_code=code, agency_code=agency_code
    )
    case = actions.create_case(
        investigator,
        district=district(code, code),
        agency=agency(agency_code),
        reported_at=timezone.now() - dt.timedelta(days=1),
    )
    actions.add_victim(
        investigator,
        case,
        actions.VictimIdentity(name=f"Child of {code}"),
        consent_statistics=True,
    )
    return case


@pytest.fixture
def cases(db: None) -> dict[str, Case]:
    agency("SD-POLICE", name="Sindh Police")
    return {
        LHR: _open_case(LHR, "PB-POLICE"),
        KSR: _open_case(KSR, "PB-POLICE"),
        HYD: _open_case(HYD, "SD-POLICE"),
    }


def _principals() -> dict[str, Any]:
    national = JurisdictionLevel.NATIONAL
    province = JurisdictionLevel.PROVINCE
    return {
        "lahore investigator": make_user("i.lhr", Role.INVESTIGATOR, district_code=LHR),
        "kasur supervisor": make_user("s.ksr", Role.SUPERVISOR, district_code=KSR),
        "punjab forensic examiner": make_user(
            "f.pb", Role.FORENSIC_EXAMINER, district_code=LHR, level=province
        ),
        "sindh supervisor": make_user(
            "s.sd", Role.SUPERVISOR, district_code=HYD, level=province, agency_code="SD-POLICE"
        ),
        "national prosecutor": make_user(
            "p.pk", Role.PROSECUTOR, district_code=None, level=national
        ),
        "lahore child-protection officer": make_user(
            "c.lhr", Role.CHILD_PROTECTION_OFFICER, district_code=LHR
        ),
        "national analyst": make_user("a.pk", Role.ANALYST, district_code=None, level=national),
        "administrator": make_user("adm", Role.ADMINISTRATOR, district_code=None, level=national),
        "outsider": make_user("nobody", "", district_code=LHR),
        "punjab police case system": make_api_client("case_system")[0],
        "lahore case system": make_api_client(
            "case_system", level=JurisdictionLevel.DISTRICT, district_code=LHR
        )[0],
        "statistics reader": make_api_client("statistics_reader")[0],
        "hash matcher": make_api_client("hash_matcher")[0],
    }


# (who, permission, the districts of the cases they see with it)
EXPECTED = [
    ("lahore investigator", Perm.CASE_VIEW, {LHR}),
    ("lahore investigator", Perm.WELFARE_VIEW, {LHR}),
    ("lahore investigator", Perm.EVIDENCE_VIEW, {LHR}),
    ("lahore investigator", Perm.STATS_VIEW, set()),
    ("lahore investigator", Perm.CASE_OVERSEE, set()),
    ("kasur supervisor", Perm.CASE_OVERSEE, {KSR}),
    ("kasur supervisor", Perm.STATS_VIEW, {KSR}),
    ("punjab forensic examiner", Perm.CASE_VIEW, {LHR, KSR}),
    ("punjab forensic examiner", Perm.EVIDENCE_VIEW, {LHR, KSR}),
    ("punjab forensic examiner", Perm.WELFARE_VIEW, set()),
    ("sindh supervisor", Perm.CASE_OVERSEE, {HYD}),
    ("sindh supervisor", Perm.CASE_VIEW, {HYD}),
    ("national prosecutor", Perm.CASE_VIEW, {LHR, KSR, HYD}),
    ("national prosecutor", Perm.REGISTER_APPROVE, {LHR, KSR, HYD}),
    ("lahore child-protection officer", Perm.WELFARE_VIEW, {LHR}),
    ("lahore child-protection officer", Perm.CASE_VIEW, set()),
    ("national analyst", Perm.STATS_VIEW, {LHR, KSR, HYD}),
    ("national analyst", Perm.CASE_VIEW, set()),
    ("administrator", Perm.CASE_VIEW, set()),
    ("administrator", Perm.STATS_VIEW, set()),
    ("outsider", Perm.CASE_VIEW, set()),
    ("punjab police case system", Perm.CASE_VIEW, {LHR, KSR}),
    ("punjab police case system", Perm.EVIDENCE_VIEW, {LHR, KSR}),
    ("punjab police case system", Perm.WELFARE_VIEW, set()),
    ("lahore case system", Perm.CASE_VIEW, {LHR}),
    ("statistics reader", Perm.STATS_VIEW, {LHR, KSR, HYD}),
    ("statistics reader", Perm.CASE_VIEW, set()),
    ("hash matcher", Perm.CASE_VIEW, set()),
]


def _districts(rows: Any, path: str) -> set[str]:
    return set(rows.values_list(path, flat=True).distinct())


def _id(value: object) -> str:
    """A test id that is the same in every process (a set's order follows string hashing,
    which differs between pytest-xdist workers)."""
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    return str(value)


@pytest.mark.parametrize(("who", "perm", "expected"), EXPECTED, ids=_id)
def test_each_role_sees_the_cases_its_place_and_agency_allow(
    cases: dict[str, Case], who: str, perm: Perm, expected: set[str]
) -> None:
    principal = _principals()[who]
    assert (
        _districts(Case.objects.filter(case_scope(principal, perm, via="")), "district__code")
        == expected
    )
    # Rows reached through their case: the same cases.
    assert (
        _districts(Victim.objects.filter(case_scope(principal, perm)), "case__district__code")
        == expected
    )


def test_the_case_list_and_statistics_keep_their_scope(cases: dict[str, Case]) -> None:
    people = _principals()
    listed = {who: {c.district.code for c in case_list(p)} for who, p in people.items()}
    assert listed["lahore investigator"] == {LHR}
    assert listed["punjab forensic examiner"] == {LHR, KSR}
    # Welfare right alone: the child-protection officer lists the welfare part of Lahore's cases.
    assert listed["lahore child-protection officer"] == {LHR}
    assert listed["national prosecutor"] == {LHR, KSR, HYD}
    assert listed["punjab police case system"] == {LHR, KSR}
    assert listed["national analyst"] == set()
    assert listed["administrator"] == set()
    assert {c.district.code for c in visible_cases(people["sindh supervisor"])} == {HYD}
    counted = {row["district"] for row in victim_statistics(people["kasur supervisor"])}
    assert counted == {KSR}
    counted = {row["district"] for row in victim_statistics(people["statistics reader"])}
    assert counted == {LHR, KSR, HYD}


def test_case_scope_with_several_rights_is_their_union(cases: dict[str, Case]) -> None:
    cpo = _principals()["lahore child-protection officer"]
    either = Case.objects.filter(case_scope(cpo, Perm.CASE_VIEW, Perm.WELFARE_VIEW, via=""))
    assert _districts(either, "district__code") == {LHR}
    with pytest.raises(ValueError, match="at least one"):
        case_scope(cpo)


def test_summary_rows_keep_their_scope(cases: dict[str, Case]) -> None:
    ids = {code: c.district_id for code, c in cases.items()}
    for code, pk in [*ids.items(), ("unknown", None)]:
        SummaryCount.objects.create(
            year=2026, district_id=pk, offence_group=code, measure="cases", value=1
        )
    punjab, sindh = cases[LHR].district.province_id, cases[HYD].district.province_id
    for province_id in (punjab, sindh, None):
        PowerUse.objects.create(year=2026, province_id=province_id, power="p", value=1)
    people = _principals()
    punjab_supervisor = make_user(
        "s.pb", Role.SUPERVISOR, district_code=KSR, level=JurisdictionLevel.PROVINCE
    )

    def groups(p: Any) -> set[str]:
        rows = SummaryCount.objects.filter(summary_rows_scope(p))
        return set(rows.values_list("offence_group", flat=True))

    def powers(p: Any) -> set[int | None]:
        rows = PowerUse.objects.filter(province_summary_scope(p, Perm.STATS_VIEW))
        return set(rows.values_list("province_id", flat=True))

    # National: every row, those of no known district too.
    assert groups(people["national analyst"]) == {LHR, KSR, HYD, "unknown"}
    assert groups(punjab_supervisor) == {LHR, KSR}
    assert groups(people["kasur supervisor"]) == {KSR}
    assert groups(people["lahore investigator"]) == set()  # no statistics right
    assert powers(people["national analyst"]) == {punjab, sindh, None}
    assert powers(people["kasur supervisor"]) == {punjab}  # the table is per province
    assert powers(people["sindh supervisor"]) == {sindh}
    assert powers(people["lahore investigator"]) == set()
