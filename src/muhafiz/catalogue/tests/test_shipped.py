"""The shipped catalogue: complete geography, cited law, the register's listed offences."""

from __future__ import annotations

import re

import pytest

from muhafiz.catalogue import shipped as shipped_module
from muhafiz.catalogue.models import Agency, AgencyKind, DeadlineRule, District, Offence, Province
from muhafiz.catalogue.shipped import install_shipped_catalogue, read_fixture

pytestmark = pytest.mark.django_db

# Anti-Rape (Investigation and Trial) Act 2021 s.2(h): the offences that make a "sex offender".
SECTION_2H = {
    "PPC 292A", "PPC 292B", "PPC 292C", "PPC 371A", "PPC 371B", "PPC 375", "PPC 375A",
    "PPC 376", "PPC 377", "PPC 377A", "PPC 377B", "PECA 21", "PECA 22",
}  # fmt: skip


def test_a_migrated_database_has_every_province_and_territory() -> None:
    assert set(Province.objects.values_list("name", flat=True)) == {
        "Punjab",
        "Sindh",
        "Khyber Pakhtunkhwa",
        "Balochistan",
        "Islamabad Capital Territory",
        "Gilgit-Baltistan",
        "Azad Jammu and Kashmir",
    }


def test_every_district_is_there_with_a_stable_code_urdu_name_and_division() -> None:
    shipped = read_fixture("geography")["districts"]
    assert len(shipped) >= 150
    codes = [row["code"] for row in shipped]
    assert len(codes) == len(set(codes))
    assert District.objects.count() >= len(shipped)
    for row in shipped:
        assert re.fullmatch(r"[A-Z]{3}(-[A-Z]{1,2})?", row["code"]), row
        assert row["name_ur"] and row["division"], row
    lahore = District.objects.get(code="LHR")
    assert (lahore.name, lahore.name_ur, lahore.division) == ("Lahore", "لاہور", "Lahore")
    assert lahore.province.code == "PB"
    assert District.objects.filter(province__code="PB").count() >= 36
    assert District.objects.filter(province__code="IS").count() == 1


def test_each_district_has_its_own_ssoiu() -> None:
    for district in District.objects.all():
        unit = Agency.objects.get(code=f"SSOIU-{district.code}")
        assert unit.kind == AgencyKind.SSOIU
        assert unit.district_id == district.pk
        assert unit.province_id == district.province_id
    assert Agency.objects.filter(kind=AgencyKind.POLICE).count() == 7


@pytest.mark.parametrize("code", ["NCCIA", "ZARRA", "NPB", "NADRA", "PB-CPWB", "PB-PROSECUTION"])
def test_national_and_provincial_bodies_are_agencies(code: str) -> None:
    assert Agency.objects.filter(code=code, active=True).exists()


def test_every_offence_and_deadline_rule_cites_its_source() -> None:
    assert Offence.objects.count() >= 20
    assert DeadlineRule.objects.count() >= 12
    for row in [*Offence.objects.all(), *DeadlineRule.objects.all(), *Agency.objects.all()]:
        assert row.source.strip(), row


def test_registrable_offences_are_exactly_those_listed_in_section_2h() -> None:
    registrable = set(Offence.objects.filter(registrable=True).values_list("code", flat=True))
    assert registrable == SECTION_2H


def test_items_the_sources_mark_unverified_are_shipped_unverified() -> None:
    for code in ("PPC 292B", "PPC 292C", "PPC 328A"):
        assert not Offence.objects.get(code=code).verified
    for code in ("medico_legal_examination", "trial_concluded", "appeal_decided"):
        rule = DeadlineRule.objects.get(code=code)
        assert not rule.verified
        assert rule.notes or "[unverified]" in rule.source


def test_statutory_clocks_match_the_stages_table() -> None:
    def clock(code: str) -> tuple[int, str]:
        rule = DeadlineRule.objects.get(code=code)
        return rule.amount, rule.unit

    assert clock("fir_missing_child") == (2, "hours")
    assert clock("zarra_informed") == (2, "hours")
    assert clock("alert_raiser_contacted") == (24, "hours")
    assert clock("medico_legal_examination") == (6, "hours")
    assert clock("produce_before_magistrate") == (24, "hours")
    assert clock("physical_remand_total") == (15, "days")
    assert clock("register_check_forwarded") == (48, "hours")
    assert clock("challan_submitted") == (14, "days")
    assert clock("interim_report_submitted") == (17, "days")
    assert clock("trial_concluded") == (4, "months")
    assert clock("appeal_decided") == (6, "months")
    assert clock("child_before_protection_court") == (24, "hours")
    assert DeadlineRule.objects.get(code="fir_missing_child").applies_when == "missing_child"


def test_installing_again_adds_nothing_and_keeps_an_administrators_edit() -> None:
    Offence.objects.filter(code="PPC 377A").update(penalty="edited by the legal team")
    report = install_shipped_catalogue()
    assert report.total == 0
    assert str(report) == "catalogue up to date"
    assert Offence.objects.get(code="PPC 377A").penalty == "edited by the legal team"


def test_a_rule_added_in_a_new_release_is_installed_by_the_next_migrate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shipped = read_fixture("deadlines")
    new_rule = {**shipped["rules"][0], "code": "new_in_next_release"}
    with_new_rule = {**shipped, "rules": [*shipped["rules"], new_rule]}
    monkeypatch.setattr(
        shipped_module,
        "read_fixture",
        lambda name: with_new_rule if name == "deadlines" else read_fixture(name),
    )
    report = install_shipped_catalogue()
    assert report.added == {**dict.fromkeys(report.added, 0), "deadline rules": 1}
    assert DeadlineRule.objects.filter(code="new_in_next_release").exists()
