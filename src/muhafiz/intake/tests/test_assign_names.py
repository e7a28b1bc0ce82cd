"""Assigning a report names a person by username; the answer does not tell which usernames exist
(issue 8, finding 14; issue 9, handlers decide nothing). The page and API looked the name up
themselves and answered "No such person." for a made-up name, and the action's "That person does
not handle this queue." for a real person outside the queue. The action now looks the name up
after its permission check, and both get the same answer.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from muhafiz.intake import actions
from muhafiz.intake.models import Report
from muhafiz.intake.tests.conftest import CHILD_NAME, REPORTER_CONTACT
from muhafiz.intake.throttle import PublicVisitor
from muhafiz.testing import People, signed_in

pytestmark = pytest.mark.django_db(transaction=False)
VIA = ["page", "api"]
NOT_IN_QUEUE = "inv.kasur"  # a real person who does not handle Lahore's queue
MADE_UP = "nobody.at.all"
REFUSAL = "That person does not handle this queue."


@pytest.fixture
def report(reporter: PublicVisitor, lahore: Any) -> Report:
    return actions.submit_public_report(
        reporter,
        concern="sexual_abuse",
        account=f"A neighbour abuses {CHILD_NAME} in the afternoons.",
        district=lahore,
        reporter_contact=REPORTER_CONTACT,
    ).report


def _assign(client: Any, report: Report, username: str, via: str) -> str:
    if via == "page":
        response = client.post(
            f"/intake/reports/{report.reference}/assign/", {"username": username}, follow=True
        )
        assert response.status_code == 200
        return "".join(str(m) for m in response.context["messages"])
    response = client.post(
        f"/api/v1/intake/reports/{report.reference}/assign",
        {"username": username},
        content_type="application/json",
    )
    assert response.status_code == 400
    return str(response.json()["error"]["details"])


@pytest.mark.parametrize("via", VIA)
def test_a_made_up_name_and_a_person_outside_the_queue_get_the_same_answer(
    people: People, report: Report, via: str
) -> None:
    client = signed_in(people.lahore_investigator)
    outside = _assign(client, report, NOT_IN_QUEUE, via)
    made_up = _assign(client, report, MADE_UP, via)
    assert REFUSAL in made_up
    assert outside == made_up
    report.refresh_from_db()
    assert report.assigned_to is None


@pytest.mark.parametrize("via", VIA)
def test_a_person_who_handles_the_queue_is_assigned_by_name(
    people: People, report: Report, via: str
) -> None:
    client = signed_in(people.lahore_investigator)
    if via == "page":
        client.post(f"/intake/reports/{report.reference}/assign/", {"username": "cpo.lahore"})
    else:
        response = client.post(
            f"/api/v1/intake/reports/{report.reference}/assign",
            {"username": "cpo.lahore"},
            content_type="application/json",
        )
        assert response.status_code == 200
    report.refresh_from_db()
    assert report.assigned_to == people.child_protection_officer


def test_the_action_checks_the_permission_before_it_looks_the_name_up(
    people: People, report: Report
) -> None:
    for name in (NOT_IN_QUEUE, MADE_UP, "cpo.lahore"):
        with pytest.raises(PermissionDenied):
            actions.assign_report(people.kasur_investigator, report, name)
    with pytest.raises(ValidationError) as caught:
        actions.assign_report(people.lahore_investigator, report, MADE_UP)
    assert list(caught.value.message_dict) == ["assigned_to"]
