"""`seed_demo`: one demo person per role with a known password and TOTP secret, idempotent."""

from __future__ import annotations

import base64
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import Role
from muhafiz.demo.cases import DEMO_CASES, MARKER
from muhafiz.demo.management.commands.seed_demo import DEMO_PASSWORD, DEMO_PEOPLE
from muhafiz.testing import signed_in


@pytest.fixture(autouse=True)
def fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_the_demo_has_one_person_per_role_who_can_sign_in(db: None) -> None:
    output = seed()
    assert {p.role for p in DEMO_PEOPLE} == set(Role.values)
    for person in DEMO_PEOPLE:
        user = User.objects.get(username=person.username)
        assert user.role == person.role
        assert user.check_password(DEMO_PASSWORD)
        # Staff of agencies belong to one; an employer vetting applicants belongs to none.
        assert (user.agency is None) == (person.role == "employer")
        assert person.totp_secret_base32 in output
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        key = base64.b32decode(person.totp_secret_base32)
        assert device.verify_token(f"{totp(key):06d}")
    assert "otpauth://totp/Muhafiz%3Ainv.lahore?secret=" in output
    assert "http://127.0.0.1:8000" in output
    kasur = User.objects.select_related("district").get(username="inv.kasur")
    assert kasur.district is not None
    assert kasur.district.code == "KSR"


def test_a_second_run_changes_nothing_and_prints_no_secret(db: None) -> None:
    seed()
    users = list(User.objects.values_list("pk", "password").order_by("pk"))
    output = seed()
    assert list(User.objects.values_list("pk", "password").order_by("pk")) == users
    assert DEMO_PASSWORD not in output
    assert DEMO_PEOPLE[0].totp_secret_base32 not in output
    assert DEMO_PEOPLE[0].totp_secret_base32 in seed("--show")


def test_the_demo_refuses_to_run_in_production(db: None, settings: Any) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="not in production"):
        seed()
    assert not User.objects.exists()


# --- the demo cases -----------------------------------------------------------------------------


def _counts() -> dict[str, int]:
    from muhafiz.audit.models import AuditEvent
    from muhafiz.cases.models import Accused, Case, Referral, TeamMember, Victim
    from muhafiz.evidence.models import CustodyEvent, EvidenceItem
    from muhafiz.proceedings.models import Clock, StageEvent

    models: list[Any] = [
        User,
        Case,
        TeamMember,
        Victim,
        Accused,
        Referral,
        StageEvent,
        Clock,
        EvidenceItem,
        CustodyEvent,
        AuditEvent,
    ]
    return {model.__name__: model.objects.count() for model in models}


def _demo_case(district: str) -> Any:
    from muhafiz.cases.models import Case

    return Case.objects.filter(district__code=district, summary__startswith=MARKER).first()


def test_the_demo_seeds_a_few_cases_in_lahore_and_kasur(db: None) -> None:
    from muhafiz.cases.models import Case

    output = seed()
    cases = Case.objects.filter(summary__startswith=MARKER)
    assert 3 <= cases.count() <= 5
    assert set(cases.values_list("district__code", flat=True)) == {"LHR", "KSR"}
    assert "No cases are seeded yet" not in output
    for case in cases:
        assert case.reference in output


def test_seeding_twice_gives_the_same_counts(db: None) -> None:
    seed()
    before = _counts()
    assert before["Case"] == len(DEMO_CASES) + 1  # and the register's closed case
    seed()
    assert _counts() == before


def test_the_demo_victims_have_codes_and_plainly_invented_names(db: None) -> None:
    from muhafiz.cases.models import Victim

    seed()
    victims = list(Victim.objects.filter(case__summary__startswith=MARKER))
    assert len(victims) == sum(len(c.victims) for c in DEMO_CASES)
    for victim in victims:
        assert victim.pseudonym.startswith("V-")
        assert victim.name.startswith("Demo Child ")
        assert victim.cnic == ""


def test_the_demo_timelines_show_clocks_met_pending_and_one_missed(db: None) -> None:
    from muhafiz.proceedings.models import Clock

    seed()
    states = list(
        Clock.objects.filter(case__summary__startswith=MARKER).values_list(
            "state", "rule__code", "case__district__code"
        )
    )
    by_state: dict[str, list[str]] = {}
    for state, rule, _district in states:
        by_state.setdefault(state, []).append(rule)
    assert by_state["met"]
    assert by_state["pending"]
    assert by_state["missed"] == ["challan_submitted"]
    # Only the case whose challan is late owes an interim report; the one filed in time does not.
    assert [rule for _state, rule, _d in states].count("interim_report_submitted") == 1


def test_the_lahore_investigator_opens_the_lahore_demo_case_and_not_the_kasur_one(
    db: None,
) -> None:
    seed()
    lahore, kasur = _demo_case("LHR"), _demo_case("KSR")
    investigator = signed_in(User.objects.get(username="inv.lahore"))
    response = investigator.get(f"/cases/{lahore.reference}/")
    assert response.status_code == 200
    assert lahore.reference in response.content.decode()
    assert investigator.get(f"/cases/{kasur.reference}/").status_code == 404
    kasur_investigator = signed_in(User.objects.get(username="inv.kasur"))
    assert kasur_investigator.get(f"/cases/{kasur.reference}/").status_code == 200


def test_demo_people_are_created_by_accounts_action_which_refuses_production(
    db: None, settings: Any
) -> None:
    from django.core.exceptions import PermissionDenied

    from muhafiz.accounts.actions import create_demo_person_as_system
    from muhafiz.audit.models import AuditEvent
    from muhafiz.catalogue.models import Agency
    from muhafiz.catalogue.shipped import install_shipped_catalogue
    from muhafiz.core.permissions import SYSTEM

    install_shipped_catalogue()
    settings.PRODUCTION = True
    with pytest.raises(PermissionDenied, match="not in production"):
        create_demo_person_as_system(
            SYSTEM,
            username="demo.extra",
            role=Role.ANALYST,
            agency=Agency.objects.get(code="NCRC"),
            jurisdiction_level="national",
            password=DEMO_PASSWORD,
            totp_key_hex="00" * 20,
            reason="synthetic demo installation",
        )
    assert not User.objects.filter(username="demo.extra").exists()
    settings.PRODUCTION = False
    seed()
    created = AuditEvent.objects.filter(action="demo.person_created")
    assert created.count() == len(DEMO_PEOPLE)


def test_the_demo_seeds_synthetic_stations_and_its_cases_carry_fir_numbers(db: None) -> None:
    from muhafiz.cases.models import Case
    from muhafiz.catalogue.models import PoliceStation

    seed()
    stations = list(PoliceStation.objects.all())
    assert stations
    assert all("synthetic" in s.name and "Synthetic" in s.source for s in stations)
    demo_cases = Case.objects.filter(summary__startswith=MARKER)
    assert all(c.fir_number.startswith("DEMO-") and c.police_station for c in demo_cases)
    seed()
    assert PoliceStation.objects.count() == len(stations)


def test_the_printed_advice_names_the_address_the_demo_serves_on(db: None) -> None:
    output = seed("--url", "http://192.0.2.7:9123")
    assert "Open http://192.0.2.7:9123 and sign in" in output
    assert "muhafiz demo-code inv.lahore" in output
    again = seed("--url", "http://192.0.2.7:9123")
    assert "Demo ready at http://192.0.2.7:9123" in again
    assert "127.0.0.1:8000" not in again


def test_demo_code_prints_the_code_the_sign_in_accepts(db: None, client: Any) -> None:
    from muhafiz.demo.codes import current_demo_code

    seed()
    code = current_demo_code("pros.lahore")
    assert len(code) == 6
    assert code.isdigit()
    client.post("/accounts/login/", {"username": "pros.lahore", "password": DEMO_PASSWORD})
    assert client.post("/accounts/verify/", {"code": code})["Location"] == "/"


def test_demo_code_is_refused_for_real_people_and_in_production(db: None, settings: Any) -> None:
    from muhafiz.demo.codes import DemoCodeRefusedError, current_demo_code

    with pytest.raises(DemoCodeRefusedError, match="run `muhafiz demo`"):
        current_demo_code("inv.lahore")  # not seeded: no demo authenticator here
    with pytest.raises(DemoCodeRefusedError, match="not a demo person"):
        current_demo_code("someone.real")
    seed()
    # A real person who happens to have a demo username but their own authenticator.
    device = TOTPDevice.objects.get(user__username="analyst", confirmed=True)
    device.key = "00" * 20
    device.save(update_fields=["key"])
    with pytest.raises(DemoCodeRefusedError, match="no demo authenticator"):
        current_demo_code("analyst")
    settings.PRODUCTION = True
    with pytest.raises(DemoCodeRefusedError, match="not in production"):
        current_demo_code("inv.lahore")


@pytest.mark.parametrize(
    ("addr", "url"),
    [
        ("127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("9000", "http://127.0.0.1:9000"),
        ("0.0.0.0:8080", "http://127.0.0.1:8080"),
        ("192.0.2.7:8001", "http://192.0.2.7:8001"),
    ],
)
def test_the_demo_names_the_address_runserver_listens_on(addr: str, url: str) -> None:
    from muhafiz.demo.cli import serving_url

    assert serving_url(addr) == url


def test_the_demo_publishes_its_figures_with_small_counts_suppressed(db: None) -> None:
    from muhafiz.insights.selectors import open_data, published_years

    seed()
    cells, _durations = open_data()
    assert published_years(), "the public statistics page would say nothing is published"
    shown = {str(c["value"]) for c in cells}
    assert not shown & {"1", "2", "3", "4"}


def test_the_demo_seeds_intake_a_web_report_a_call_and_a_matching_referral(db: None) -> None:
    import re

    from muhafiz.cases.models import Alert, AlertKind, Case
    from muhafiz.demo.intake import DEMO_NOTE, DEMO_TIP_ID
    from muhafiz.intake.models import Channel, CyberTip, Report, TipMatch

    output = seed()
    web = Report.objects.get(channel=Channel.WEB)
    assert web.account.startswith(DEMO_NOTE) and web.messages.filter(from_staff=True).exists()
    call = Report.objects.get(channel=Channel.HELPLINE_1099)
    assert call.account.startswith(DEMO_NOTE)
    tip = CyberTip.objects.get(report_id_ncmec=DEMO_TIP_ID)
    assert tip.report.district is not None and tip.report.district.code == "LHR"
    # The referral's screen name is the demo network's handle: it matches demo cases, and their
    # teams are alerted with the referral's id.
    matched = set(TipMatch.objects.filter(tip=tip).values_list("case__summary", flat=True))
    assert matched and all(s.startswith(MARKER) for s in matched)
    assert Alert.objects.filter(kind=AlertKind.REPORT_MATCH, params__tip=DEMO_TIP_ID).exists()
    # The receipt printed once brings the reply back.
    found = re.search(r"receipt (\S+) and passphrase (\S+)", output)
    assert found is not None and found.group(1) == web.receipt_code
    assert Case.objects.filter(summary__startswith=MARKER).count() == len(DEMO_CASES)
    again = seed()
    assert "passphrase" not in again and Report.objects.count() == 3


def test_the_demo_scan_matches_the_demo_bank_exactly_and_by_pdq(
    db: None,
    monkeypatch: Any,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
    tmp_path: Any,
) -> None:
    """The demo's bank holds hashes of its own generated pictures; once the matching job has
    run, the demo scan shows one exact match and one near-duplicate found by PDQ."""
    from muhafiz.evidence.models import ScanMatch
    from muhafiz.hashbank.index import forget_loaded_index
    from muhafiz.hashbank.models import Bank, BankEntry
    from muhafiz.testing import drain_job_queues

    # The bank index lives in the data directory: a test's own, as the hashbank tests keep it
    # (an index another test built would claim to hold entries of ids this database reuses).
    settings.DATA_DIR = tmp_path
    forget_loaded_index()
    with django_capture_on_commit_callbacks(execute=True):  # queues the scan's analysis
        seed()
    bank = Bank.objects.get(name="demo-hotline-list")
    assert bank.agency is not None and bank.agency.code == "PB-PFSA"
    assert BankEntry.objects.filter(bank=bank).count() == 2
    drain_job_queues(monkeypatch)
    matches = {
        (m.media.path.rsplit("/", 1)[-1], m.kind): m.distance
        for m in ScanMatch.objects.filter(bank="demo-hotline-list").select_related("media")
    }
    assert matches.get(("IMG_0001.jpg", "sha1")) == 0, matches
    assert matches.get(("IMG_0002.png", "pdq"), 99) <= 31, matches
    assert ("IMG_0002.png", "sha1") not in matches  # found by its looks, not its bytes
    # The scan's page names the bank's kind in words, in English and Urdu.
    from muhafiz.evidence.models import Scan

    investigator = signed_in(User.objects.get(username="inv.lahore"))
    scan = Scan.objects.filter(media__matches__bank="demo-hotline-list").distinct().get()
    page = investigator.get(f"/evidence/scans/{scan.pk}/").content.decode()
    assert "<td>Known bad</td>" in page and "known-bad" not in page
    investigator.cookies["django_language"] = "ur"
    urdu = investigator.get(f"/evidence/scans/{scan.pk}/").content.decode()
    assert "<td>معلوم ممنوعہ</td>" in urdu
    seed()  # a second run adds no second bank or entries
    assert BankEntry.objects.filter(bank=bank).count() == 2
    forget_loaded_index()
