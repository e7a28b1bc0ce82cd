"""The case API is described in the OpenAPI document, with no identity in any path."""

from __future__ import annotations

from django.test import Client


def test_the_case_api_is_documented_and_addresses_victims_by_code(db: None) -> None:
    document = Client().get("/api/openapi.json").json()
    paths = [p for p in document["paths"] if p.startswith("/api/v1/cases")]
    assert "/api/v1/cases/{reference}/victims/{code}/identity" in paths
    assert "/api/v1/cases/{reference}/accused/{label}/links" in paths
    assert len(paths) >= 20
    for path in paths:
        for word in ("name", "cnic", "phone"):
            assert word not in path
