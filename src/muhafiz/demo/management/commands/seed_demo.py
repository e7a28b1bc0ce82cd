"""`seed_demo`: the synthetic demo that `make demo` serves — catalogue, one person per role and a
few cases in Lahore and Kasur (`demo.cases`).

Idempotent: a second run installs nothing, creates nobody and no case, and takes well under a
second. The demo people have a known password and a fixed TOTP secret each, printed once when
they are created (`--show` prints them again). Refuses to run in the production profile.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django_otp.plugins.otp_totp.models import TOTPDevice

from muhafiz.catalogue.shipped import install_shipped_catalogue
from muhafiz.demo.cases import SeededCase, seed_demo_cases
from muhafiz.demo.intake import SeededIntake, seed_demo_intake
from muhafiz.demo.register import seed_demo_register

DEMO_PASSWORD = "muhafiz-demo-2026"  # noqa: S105 - a published demo credential, never production
DEMO_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    role: str
    level: str  # national, province or district
    place: str  # district code, province code, or "" for national
    agency: str  # catalogue agency code
    title: str

    @property
    def totp_key_hex(self) -> str:
        """A fixed 20-byte TOTP secret per demo user, so the demo can be re-created identically."""
        return hashlib.sha1(
            f"muhafiz-demo:{self.username}".encode(), usedforsecurity=False
        ).hexdigest()

    @property
    def totp_secret_base32(self) -> str:
        return base64.b32encode(bytes.fromhex(self.totp_key_hex)).decode("ascii")


DEMO_PEOPLE = (
    DemoPerson(
        "inv.lahore", "investigator", "district", "LHR", "SSOIU-LHR", "Investigator, Lahore"
    ),
    DemoPerson("inv.kasur", "investigator", "district", "KSR", "SSOIU-KSR", "Investigator, Kasur"),
    DemoPerson("sup.lahore", "supervisor", "district", "LHR", "PB-POLICE", "Supervisor, Lahore"),
    DemoPerson(
        "forensic.punjab", "forensic_examiner", "province", "PB", "PB-PFSA", "Forensic examiner"
    ),
    DemoPerson("pros.lahore", "prosecutor", "district", "LHR", "PB-PROSECUTION", "Prosecutor"),
    DemoPerson(
        "cpo.lahore", "child_protection_officer", "district", "LHR", "PB-CPWB", "CPO, Lahore"
    ),
    DemoPerson("npb.register", "register_officer", "national", "", "NPB", "Register officer"),
    DemoPerson(
        "station.lahore",
        "police_station_officer",
        "district",
        "LHR",
        "PB-POLICE",
        "Police station officer, Lahore",
    ),
    DemoPerson("helpline.1099", "helpline_officer", "national", "", "ZARRA", "Helpline officer"),
    DemoPerson("employer.school", "employer", "district", "LHR", "", "Vetting employer (school)"),
    DemoPerson("analyst", "analyst", "national", "", "NCRC", "Analyst"),
    DemoPerson("auditor", "auditor", "national", "", "NCRC", "Auditor"),
    DemoPerson("admin", "administrator", "national", "", "MUHAFIZ", "Administrator"),
)


def refresh_statistics() -> None:
    """Publish the demo's figures once (a deployment's job does it each night), so that the
    public statistics page shows the demo's cases, their small counts suppressed. A second run
    of the demo changes nothing."""
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.insights.actions import refresh_summaries
    from muhafiz.insights.selectors import published_years

    if not published_years():
        refresh_summaries(SYSTEM)


def seed_demo_people() -> list[tuple[DemoPerson, TOTPDevice]]:
    """Create the demo people that do not exist yet (through accounts' action); return those
    created with their authenticator device."""
    from muhafiz.accounts.actions import create_demo_person_as_system
    from muhafiz.accounts.models import User
    from muhafiz.catalogue.models import Agency, District, Province
    from muhafiz.core.permissions import SYSTEM

    existing = set(
        User.objects.filter(username__in=[p.username for p in DEMO_PEOPLE]).values_list(
            "username", flat=True
        )
    )
    created: list[tuple[DemoPerson, TOTPDevice]] = []
    for person in DEMO_PEOPLE:
        if person.username in existing:
            continue
        district = (
            District.objects.select_related("province").get(code=person.place)
            if person.level == "district"
            else None
        )
        province = (
            district.province
            if district is not None
            else Province.objects.get(code=person.place)
            if person.level == "province"
            else None
        )
        _user, device = create_demo_person_as_system(
            SYSTEM,
            username=person.username,
            role=person.role,
            agency=Agency.objects.get(code=person.agency) if person.agency else None,
            jurisdiction_level=person.level,
            province=province,
            district=district,
            first_name="Demo",
            last_name=person.title,
            password=DEMO_PASSWORD,
            totp_key_hex=person.totp_key_hex,
            reason="synthetic demo installation",
        )
        created.append((person, device))
    return created


def demo_table(people: list[tuple[DemoPerson, str]]) -> list[str]:
    """The sign-in sheet: one row per person, then each otpauth URI for an authenticator app."""
    header = ("username", "role", "password", "TOTP secret (base32)")
    rows = [(p.username, p.role, DEMO_PASSWORD, p.totp_secret_base32) for p, _ in people]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append("")
    lines.append("otpauth URIs (paste into an authenticator app, or scan the QR code on sign-in):")
    lines += [f"  {person.username}: {uri}" for person, uri in people]
    return lines


class Command(BaseCommand):
    help = "Install the catalogue and create the synthetic demo people (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default=DEMO_URL,
            help="The address the demo is served on, for the printed sign-in advice.",
        )
        parser.add_argument(
            "--show",
            action="store_true",
            help="Print the demo people's passwords and TOTP secrets again.",
        )

    def handle(self, *args: Any, show: bool = False, url: str = DEMO_URL, **options: Any) -> None:
        if getattr(settings, "PRODUCTION", False):
            raise CommandError(
                "seed_demo creates people with published passwords: not in production"
            )
        report = install_shipped_catalogue()
        if report.total:
            self.stdout.write(str(report))
        created = seed_demo_people()
        cases = seed_demo_cases()
        intake = seed_demo_intake()
        seed_demo_register()
        refresh_statistics()
        if created:
            sheet = [(person, device.config_url) for person, device in created]
            self.stdout.write(
                "Demo people created (shown once; `muhafiz manage seed_demo --show`):"
            )
        elif show:
            devices = {
                d.user.username: d
                for d in TOTPDevice.objects.filter(
                    user__username__in=[p.username for p in DEMO_PEOPLE], confirmed=True
                ).select_related("user")
            }
            sheet = [
                (p, devices[p.username].config_url) for p in DEMO_PEOPLE if p.username in devices
            ]
        else:
            self._print_cases(cases)
            self._print_intake(intake)
            self.stdout.write(
                f"Demo ready at {url}: sign in as inv.lahore with the password printed when "
                "the demo was created and the code `muhafiz demo-code inv.lahore` prints "
                "(`muhafiz manage seed_demo --show` prints the passwords and secrets again)."
            )
            return
        self.stdout.write("")
        for line in demo_table(sheet):
            self.stdout.write(line)
        self.stdout.write("")
        self.stdout.write(
            f"Open {url} and sign in as inv.lahore (investigator, Lahore) with password "
            f"{DEMO_PASSWORD} and the 6-digit code of an authenticator app holding its secret, "
            "or the code that `muhafiz demo-code inv.lahore` prints now. Every role above "
            "signs in the same way."
        )
        self._print_cases(cases)
        self._print_intake(intake)

    def _print_intake(self, intake: SeededIntake | None) -> None:
        if intake is None:
            return
        self.stdout.write("Demo intake created (synthetic):")
        self.stdout.write(
            f"  public report {intake.web_report} with a reply: at /report/follow-up/ enter "
            f"receipt {intake.receipt_code} and passphrase {intake.passphrase} (shown once)"
        )
        self.stdout.write(f"  helpline call {intake.helpline_report} (helpline.1099, Lahore)")
        self.stdout.write(
            f"  CyberTipline referral {intake.cybertip_report}: matches the demo cases sharing "
            f"the network's handle ({intake.matches} matches); queues: /intake/ as cpo.lahore"
        )

    def _print_cases(self, cases: list[SeededCase]) -> None:
        if not cases:
            return
        self.stdout.write("Demo cases created (synthetic; every name is invented):")
        for case in cases:
            self.stdout.write(f"  {case.reference}  {', '.join(case.shows)}")
        self.stdout.write(
            "  Lahore cases: sign in as inv.lahore, sup.lahore or pros.lahore; Kasur: inv.kasur."
        )
