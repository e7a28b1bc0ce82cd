"""Schemathesis against the API's own OpenAPI document: no 5xx, no answer the document denies.

Run by `make fuzz` (and by .ci/run as its own step), not by `make test`: it takes minutes. The
application is the real WSGI application on a migrated test database seeded as the demo is (the
catalogue, one person per role, the synthetic Lahore and Kasur cases). Every operation is called
as three principals: a Lahore investigator and a Punjab forensic examiner through their signed-in,
two-factor-verified sessions (with CSRF), and an API client through its bearer token.

Deterministic: hypothesis runs derandomized with a bounded number of examples per operation, and
path parameters are drawn half the time from the seeded database (real case references, victim
codes, accused labels, bank names), so the generated calls reach real objects, not only 404s.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

if os.environ.get("MUHAFIZ_FUZZ") != "1":
    pytest.skip("API fuzzing runs with `make fuzz` (MUHAFIZ_FUZZ=1)", allow_module_level=True)

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from schemathesis import checks as st_checks

# Examples per operation and principal; MUHAFIZ_FUZZ_EXAMPLES raises it for a longer run.
EXAMPLES = int(os.environ.get("MUHAFIZ_FUZZ_EXAMPLES", "20"))

APPLICATION = WSGIHandler()
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", APPLICATION)

# Real values for path parameters, filled once the database is seeded (see `seeded`).
REAL_VALUES: dict[str, list[Any]] = {}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> Any:
    """Half the time, call on an object that exists (a real reference, code, label)."""
    if not path_parameters:
        return st.just(path_parameters)
    strategies = {}
    for name, generated in path_parameters.items():
        real = REAL_VALUES.get(name)
        if real:
            strategies[name] = st.one_of(st.just(generated), st.sampled_from(real))
        else:
            strategies[name] = st.just(generated)
    return st.fixed_dictionaries(strategies)


def _real_values() -> dict[str, list[Any]]:
    from muhafiz.cases.models import Accused, Case, TeamMember, Victim
    from muhafiz.evidence.models import EvidenceItem

    values: dict[str, list[Any]] = {
        "reference": sorted(Case.objects.values_list("reference", flat=True)),
        "code": sorted(Victim.objects.values_list("pseudonym", flat=True)),
        "label": sorted(set(Accused.objects.values_list("label", flat=True))),
        "member_id": sorted(TeamMember.objects.values_list("pk", flat=True)),
        "item_id": sorted(EvidenceItem.objects.values_list("pk", flat=True)),
    }
    return {name: found for name, found in values.items() if found}


def _session(username: str) -> tuple[dict[str, str], dict[str, str]]:
    """Headers and cookies of a signed-in, two-factor-verified session with a CSRF token."""
    from django.middleware.csrf import _get_new_csrf_string
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from muhafiz.accounts.models import User

    user = User.objects.get(username=username)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()
    csrf = _get_new_csrf_string()
    return {"X-CSRFToken": csrf}, {"sessionid": str(session.session_key), "csrftoken": csrf}


def _client() -> tuple[dict[str, str], dict[str, str]]:
    from muhafiz.accounts import tokens
    from muhafiz.accounts.models import ApiClient
    from muhafiz.catalogue.models import Agency

    token, prefix, digest = tokens.new_token()
    ApiClient.objects.create(
        name="fuzz hash matcher",
        agency=Agency.objects.get(code="PB-PFSA"),
        profile="hma_matcher",  # a profile decides the rights (core.permissions)
        scopes=["hash.match", "bank.view"],
        jurisdiction_level="national",
        token_prefix=prefix,
        token_hash=digest,
    )
    return {"Authorization": f"Bearer {token}"}, {}


# principal -> (headers, cookies); the WSGI client takes cookies apart from headers.
PRINCIPALS: dict[str, tuple[dict[str, str], dict[str, str]]] = {}


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The demo's data in the test database, once for the module, and the principals' headers."""
    from django.core.management import call_command
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    # As Django's test client does: the test's transaction holds the connection, so a request
    # must not close it when it ends.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    with django_db_blocker.unblock():
        call_command("seed_demo", verbosity=0)
        REAL_VALUES.update(_real_values())
        PRINCIPALS["investigator"] = _session("inv.lahore")
        PRINCIPALS["forensic_examiner"] = _session("forensic.punjab")
        PRINCIPALS["api_client"] = _client()
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Checks that say something about the server, not about the fuzzer's luck: no 5xx, status codes,
# content types and bodies as documented (4xx in the one error format). Left out:
# `positive_data_acceptance` (a well-formed call on a case that is not there is rightly refused),
# `negative_data_rejection` (pydantic's lax parsing takes `0` as a date and `false` as 0, which
# is harmless; a body that is not an object, which was not, has its own test in
# cases/tests/test_bodies.py) and checks that need links between operations.
CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
]


@pytest.mark.parametrize("principal", ["investigator", "forensic_examiner", "api_client"])
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.django_db
def test_api_answers_every_call_as_documented(seeded: None, principal: str, case: Any) -> None:
    headers, cookies = PRINCIPALS[principal]
    case.call_and_validate(headers=headers, cookies=cookies, checks=CHECKS)
