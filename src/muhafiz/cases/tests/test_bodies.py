"""A body that is not an object, or leaves fields out, replaces nothing (issue 8, finding 8).

`PUT …/identity` with the body `5` blanked every identity field, `POST …/victims` with `5`
created an empty victim, and the page form posted with no fields erased a real identity.
"""

from __future__ import annotations

import pytest

from muhafiz.cases.models import Case, Victim
from muhafiz.cases.tests.conftest import VICTIM_CNIC, VICTIM_NAME
from muhafiz.core.api import api
from muhafiz.core.permissions import granted_perms
from muhafiz.testing import People, signed_in

NOT_OBJECTS = ["5", "[]", "null", '"x"', "true"]


def _identity(victim: Victim) -> tuple[str, str, str]:
    stored = Victim.objects.get(pk=victim.pk)
    return stored.name, stored.cnic, stored.address


@pytest.mark.parametrize("body", [*NOT_OBJECTS, "{}", '{"name": "Only A Name"}'])
def test_replacing_an_identity_needs_every_field_it_replaces(
    people: People, lahore_case: Case, victim: Victim, body: str
) -> None:
    before = _identity(victim)
    assert before[0] == VICTIM_NAME
    response = signed_in(people.lahore_investigator).put(
        f"/api/v1/cases/{lahore_case.reference}/victims/{victim.pseudonym}/identity",
        body,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"error"}
    assert _identity(victim) == before


@pytest.mark.parametrize("body", NOT_OBJECTS)
def test_a_body_that_is_not_an_object_creates_no_victim(
    people: People, lahore_case: Case, body: str
) -> None:
    response = signed_in(people.lahore_investigator).post(
        f"/api/v1/cases/{lahore_case.reference}/victims", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "The request body must be a JSON object."
    assert not Victim.objects.filter(case=lahore_case).exists()


def test_erasing_a_field_is_explicit(people: People, lahore_case: Case, victim: Victim) -> None:
    response = signed_in(people.lahore_investigator).put(
        f"/api/v1/cases/{lahore_case.reference}/victims/{victim.pseudonym}/identity",
        {
            "name": VICTIM_NAME,
            "cnic": "",
            "birth_date": None,
            "estimated_age": 11,
            "guardian_name": "",
            "address": "",
            "phones": [],
        },
        content_type="application/json",
    )
    assert response.status_code == 200
    assert _identity(victim) == (VICTIM_NAME, "", "")


def test_the_page_form_with_no_fields_erases_nothing(
    people: People, lahore_case: Case, victim: Victim
) -> None:
    before = _identity(victim)
    assert before[1] == VICTIM_CNIC
    client = signed_in(people.lahore_investigator)
    base = f"/cases/{lahore_case.reference}/victims/{victim.pseudonym}"
    response = client.post(f"{base}/identity/edit/", {})
    assert response.status_code == 200
    assert "Every field must be sent" in response.content.decode()
    response = client.post(f"{base}/identity/edit/", {"edit-name": "Only A Name"})
    assert response.status_code == 200
    assert _identity(victim) == before


def _json_body_operations() -> list[tuple[str, str, tuple[object, ...]]]:
    from muhafiz.core.api import _takes_json_body

    api.urls  # noqa: B018 - binds the routers, which gates their operations
    found = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                if not _takes_json_body(operation):
                    continue
                rule = getattr(operation.view_func, "access_rule", ())
                perms = rule if isinstance(rule, tuple) else ()
                url = "/api" + (prefix + path).replace("//", "/")
                for method in operation.methods:
                    found.append((method, url, perms))
    return found


def test_every_operation_with_a_json_body_refuses_a_body_that_is_not_an_object(
    people: People,
) -> None:
    """Checked right after authentication and the role's permissions, before any object is
    looked up, so made-up path parameters do not matter."""
    operations = _json_body_operations()
    assert len(operations) >= 20
    everyone = [p for p in vars(people).values() if p.role]
    for method, url, perms in operations:
        holder = next(p for p in everyone if set(perms) <= granted_perms(p))
        path = url.replace("{", "").replace("}", "")
        response = signed_in(holder).generic(method, path, "5", content_type="application/json")
        assert response.status_code == 400, (method, url, response.content)
