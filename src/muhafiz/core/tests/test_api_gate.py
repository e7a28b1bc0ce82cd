"""An API operation's permission is checked right after authentication, before Ninja parses the
request: a caller without the right learns nothing from validation errors."""

from types import SimpleNamespace
from typing import Any

from django.http import HttpRequest
from ninja import Schema
from ninja.testing import TestClient

from muhafiz.core.api import MuhafizAPI, api_requires
from muhafiz.core.permissions import Perm


class Sighting(Schema):
    count: int


def build_api(profile: str) -> TestClient:
    principal = SimpleNamespace(
        is_active=True,
        is_authenticated=True,
        principal_kind="client",
        profile=profile,
        approved_at="approved",
    )

    def authenticate(request: HttpRequest) -> Any:
        return principal

    api = MuhafizAPI(urls_namespace=f"gate_test_{profile}", auth=[authenticate])

    @api.post("/sightings")
    @api_requires(Perm.CASE_EDIT)
    def record_sighting(request: HttpRequest, sighting: Sighting) -> dict[str, int]:
        return {"count": sighting.count}

    return TestClient(api)


def test_a_caller_without_the_right_gets_403_whatever_they_send() -> None:
    client = build_api("statistics_reader")
    for body in ({}, {"count": "not a number"}, {"count": 3}):
        response = client.post("/sightings", json=body)
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "forbidden"


def test_a_caller_with_the_right_reaches_validation_and_the_handler() -> None:
    client = build_api("case_system")
    assert client.post("/sightings", json={}).status_code == 400
    response = client.post("/sightings", json={"count": 3})
    assert response.status_code == 200
    assert response.json() == {"count": 3}
