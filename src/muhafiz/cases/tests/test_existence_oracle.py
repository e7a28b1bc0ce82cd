"""'Not there' and 'not yours' look the same to a caller with no right to know (issue 8,
finding 14): 403 against 404 told a Kasur investigator which Lahore case references exist."""

from __future__ import annotations

import pytest

from muhafiz.cases.models import Case
from muhafiz.testing import People, signed_in

MISSING = "LHR-2026-9999"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cases/{ref}",
        "/api/v1/cases/{ref}/team",
        "/api/v1/cases/{ref}/victims",
        "/api/v1/cases/{ref}/accused",
        "/api/v1/proceedings/cases/{ref}/timeline",
        "/api/v1/evidence/cases/{ref}/items",
        "/cases/{ref}/",
        "/cases/{ref}/proceedings/",
        "/cases/{ref}/evidence/",
    ],
)
def test_another_districts_case_is_not_there_to_a_kasur_investigator(
    people: People, lahore_case: Case, path: str
) -> None:
    client = signed_in(people.kasur_investigator)
    real = client.get(path.format(ref=lahore_case.reference))
    missing = client.get(path.format(ref=MISSING))
    assert missing.status_code == 404
    assert real.status_code == 404
    if path.startswith("/api/"):
        assert real.json() == missing.json()


def test_a_write_to_another_districts_case_is_not_there_either(
    people: People, lahore_case: Case
) -> None:
    client = signed_in(people.kasur_investigator)
    for reference in (lahore_case.reference, MISSING):
        response = client.post(
            f"/api/v1/cases/{reference}/close",
            {"reason": "probing"},
            content_type="application/json",
        )
        assert response.status_code == 404


def test_who_knows_of_a_case_still_hears_what_they_may_not_do(
    people: People, lahore_case: Case
) -> None:
    """The forensic examiner on the team sees the case but may not edit it: 403, not 404."""
    response = signed_in(people.forensic_examiner).post(
        f"/api/v1/cases/{lahore_case.reference}/close",
        {"reason": "not mine to close"},
        content_type="application/json",
    )
    assert response.status_code == 403
