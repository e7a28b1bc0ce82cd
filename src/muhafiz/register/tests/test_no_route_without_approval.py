"""The route-rule proof: every page and API operation of the whole project, called by every
person and every API client profile with the register's real objects in the URL, returns
registrant data only to the register office and the police of the registrant's district; and to
the investigator who asked, only through the answer of an approved check."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from muhafiz.cases.models import Accused, Case
from muhafiz.catalogue.models import District
from muhafiz.core.permissions import PUBLIC
from muhafiz.register import actions
from muhafiz.register.models import CheckRequest, Organisation, Registrant
from muhafiz.register.tests.conftest import (
    NEW_ADDRESS,
    Convict,
    RegisterPeople,
    add_accused,
    open_case,
)
from muhafiz.testing import api_operations, make_api_client, signed_in, url_routes

NOTICE = "Started work at a bakery"


@pytest.fixture
def world(
    rp: RegisterPeople, lahore_case: Case, accused: Accused, convict: Convict
) -> dict[str, Any]:
    convict(lahore_case, accused, "2 years")
    registrant = Registrant.objects.get()
    conviction = registrant.convictions.get()
    actions.confirm_conviction(rp.register_officer, conviction)
    released = conviction.convicted_at + dt.timedelta(days=30)
    actions.record_release(rp.register_officer, registrant, released_at=released)
    actions.record_verification(
        rp.station_officer,
        registrant,
        visited_at=released + dt.timedelta(days=1),
        outcome="moved",
        district=District.objects.get(code="LHR"),
        new_address=NEW_ADDRESS,
    )
    actions.record_notification(
        rp.station_officer,
        registrant,
        kind="employment",
        details=NOTICE,
        changed_on=released.date() + dt.timedelta(days=2),
        received_at=released + dt.timedelta(days=3),
    )
    case = open_case(rp.base, "912/2026", ["PPC 377A"], days_ago=2)
    suspect = add_accused(rp.base, case)
    check = actions.request_check(rp.lahore_investigator, case, suspect, reason="Suspect in FIR")
    registrant.refresh_from_db()
    return {
        "registrant": registrant,
        "conviction": conviction,
        "case": case,
        "check": check,
        "organisation": Organisation.objects.get(),
        "markers": (registrant.code, NEW_ADDRESS, NOTICE),
    }


def _fill(path: str, world: dict[str, Any]) -> str:
    values: dict[str, str] = {
        "code": world["registrant"].code,
        "check_id": str(world["check"].pk),
        "conviction_id": str(world["conviction"].pk),
        "reference": world["case"].reference,
        "organisation_id": str(world["organisation"].pk),
        "kind": "travel",
    }

    def one(match: re.Match[str]) -> str:
        name = match.group(2)
        if name in values:
            return values[name]
        return "1" if (match.group(1) or "str") == "int" else "x"

    path = re.sub(r"<(?:(\w+):)?(\w+)>", one, path)
    return str(re.sub(r"\{(?:(\w+):)?(\w+)\}", one, path))


def _all_paths() -> list[tuple[str, str, bool]]:
    """(method, path pattern, is_api) of every route and operation, public ones left out: every
    read of the project, and every write of the register (whose answers may carry data)."""
    found = []
    for route in url_routes():
        if route.is_api or route.view_rule == PUBLIC:
            continue
        found.append(("GET", "/" + route.route, False))
        if route.route.startswith("register/"):
            found.append(("POST", "/" + route.route, False))
    for op in api_operations():
        if op.rule == PUBLIC:
            continue
        found += [
            (method, op.path, True)
            for method in op.methods
            if method == "GET" or op.path.startswith("/api/v1/register/")
        ]
    return found


def _leaks(client: Client, world: dict[str, Any]) -> list[str]:
    seen = []
    for method, pattern, is_api in _all_paths():
        path = _fill(pattern, world)
        if method == "GET":
            response = client.get(path)
        elif is_api:
            response = client.generic(method, path, data="{}", content_type="application/json")
        else:
            response = client.post(path, {})
        body = response.content.decode(errors="replace") if response.status_code < 500 else ""
        # A marker the caller put in the URL (the code) proves nothing when echoed back; the
        # others (an address, what was notified) still catch a registrant route that leaks.
        markers = [m for m in world["markers"] if m not in path]
        if any(marker in body for marker in markers):
            seen.append(f"{method} {pattern}")
    return seen


REGISTER_PREFIXES = ("/register/", "/api/v1/register/")


@pytest.mark.slow
def test_only_the_register_office_and_district_police_get_registrant_data(
    rp: RegisterPeople, world: dict[str, Any]
) -> None:
    people = {name: getattr(rp, name) for name in vars(rp.base)} | {
        "kasur_station_officer": rp.kasur_station_officer,
        "kasur_prosecutor": rp.kasur_prosecutor,
    }
    wrong = {}
    for name, person in people.items():
        client = signed_in(person)
        client.raise_request_exception = False
        leaks = set(_leaks(client, world))
        if name in {"register_officer", "station_officer"}:
            # Their own pages: the registrant record, its forms, their queues.
            allowed = {p for p in leaks if p.split(" ")[1].startswith(REGISTER_PREFIXES)}
        elif name == "auditor":
            # The access log names registrants by code (never by name or address).
            allowed = {p for p in leaks if "audit" in p}
        else:
            allowed = set()
        if leaks - allowed:
            wrong[name] = sorted(leaks - allowed)
    assert wrong == {}
    for profile in (
        "hash_matcher",
        "statistics_reader",
        "audit_reader",
        "case_system",
        "case_system_identity",
        "vetting_employer",
    ):
        _client, token = make_api_client(profile)
        api = Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)
        leaks = {p for p in _leaks(api, world) if "/api/" in p and "audit" not in p}
        assert leaks == set(), profile


@pytest.mark.slow
def test_after_approval_only_the_answer_reaches_the_investigator(
    rp: RegisterPeople, world: dict[str, Any]
) -> None:
    investigator = signed_in(rp.lahore_investigator)
    investigator.raise_request_exception = False
    assert _leaks(investigator, world) == []
    check = world["check"]
    actions.decide_check(rp.prosecutor, check, approve=True, reason="Relevant to the FIR")
    check = CheckRequest.objects.get(pk=check.pk)
    assert check.result is not None
    assert check.result["registrant"] == world["registrant"].code
    leaks = set(_leaks(investigator, world))
    assert leaks == {
        "POST /register/checks/<int:check_id>/result/",
        "POST /api/v1/register/checks/{check_id}/result",
    }
    # Even there: the code and the convictions, never the address or what was notified.
    world["markers"] = (NEW_ADDRESS, NOTICE)
    assert _leaks(investigator, world) == []
