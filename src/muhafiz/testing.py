"""Test helpers shared by every app: the named people of the permission tests, signed-in clients.

Tests name their people (an investigator in Lahore, one in Kasur, a prosecutor, …) so that each
permission test reads as a sentence. Only tests import this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from muhafiz.accounts.models import User
from muhafiz.accounts.roles import JurisdictionLevel, Role
from muhafiz.catalogue.models import Agency, AgencyKind, District, Province

TEST_PASSWORD = "correct horse battery staple 42"  # noqa: S105 - test-only credential


def province(code: str = "PB", name: str = "Punjab") -> Province:
    obj, _ = Province.objects.get_or_create(code=code, defaults={"name": name})
    return obj


def district(code: str, name: str, province_code: str = "PB") -> District:
    prov = province(
        province_code,
        {"PB": "Punjab", "SD": "Sindh", "KP": "Khyber Pakhtunkhwa"}.get(
            province_code, province_code
        ),
    )
    obj, _ = District.objects.get_or_create(code=code, defaults={"name": name, "province": prov})
    return obj


def agency(
    code: str = "PB-POLICE", kind: str = AgencyKind.POLICE, name: str = "Punjab Police"
) -> Agency:
    obj, _ = Agency.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
    return obj


def make_user(
    username: str,
    role: str,
    *,
    district_code: str | None = "LHR",
    level: str = JurisdictionLevel.DISTRICT,
    agency_code: str = "PB-POLICE",
    with_totp: bool = True,
) -> User:
    place = None
    if district_code:
        place = district(
            district_code,
            {"LHR": "Lahore", "KSR": "Kasur", "MZG": "Muzaffargarh", "KHI": "Karachi South"}.get(
                district_code, district_code
            ),
            "SD" if district_code == "KHI" else "PB",
        )
    user = User.objects.create_user(
        username=username,
        password=TEST_PASSWORD,
        role=role,
        agency=agency(agency_code),
        jurisdiction_level=level,
        district=place if level == JurisdictionLevel.DISTRICT else None,
        province=place.province
        if place is not None and level != JurisdictionLevel.NATIONAL
        else None,
    )
    if with_totp:
        TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


def signed_in(user: User) -> Client:
    """A test client signed in as `user` and past two-factor verification."""
    client = Client()
    client.force_login(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


@dataclass
class People:
    lahore_investigator: User
    kasur_investigator: User
    lahore_supervisor: User
    prosecutor: User
    forensic_examiner: User
    child_protection_officer: User
    register_officer: User
    analyst: User
    auditor: User
    administrator: User
    outsider: User  # signed up but holding no role


def make_people() -> People:
    return People(
        lahore_investigator=make_user("inv.lahore", Role.INVESTIGATOR, district_code="LHR"),
        kasur_investigator=make_user("inv.kasur", Role.INVESTIGATOR, district_code="KSR"),
        lahore_supervisor=make_user("sup.lahore", Role.SUPERVISOR, district_code="LHR"),
        prosecutor=make_user("pros.lahore", Role.PROSECUTOR, district_code="LHR"),
        forensic_examiner=make_user(
            "forensic.punjab",
            Role.FORENSIC_EXAMINER,
            district_code="LHR",
            level=JurisdictionLevel.PROVINCE,
        ),
        child_protection_officer=make_user(
            "cpo.lahore", Role.CHILD_PROTECTION_OFFICER, district_code="LHR"
        ),
        register_officer=make_user(
            "npb.register",
            Role.REGISTER_OFFICER,
            district_code=None,
            level=JurisdictionLevel.NATIONAL,
        ),
        analyst=make_user(
            "analyst", Role.ANALYST, district_code=None, level=JurisdictionLevel.NATIONAL
        ),
        auditor=make_user(
            "auditor", Role.AUDITOR, district_code=None, level=JurisdictionLevel.NATIONAL
        ),
        administrator=make_user(
            "admin", Role.ADMINISTRATOR, district_code=None, level=JurisdictionLevel.NATIONAL
        ),
        outsider=make_user("outsider", "", district_code="LHR"),
    )
