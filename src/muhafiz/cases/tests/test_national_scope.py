"""A national principal sees every case in the list, the API list and the CSV (issue 8, finding 9).

`case_list` ORs the case and welfare filters; an empty `Q()` for "everything" vanished in that OR
and national principals got an empty list while single cases opened.
"""

from __future__ import annotations

from django.db.models import Q

from muhafiz.accounts.roles import JurisdictionLevel, Role
from muhafiz.cases.models import Case
from muhafiz.core.permissions import Perm, scope_filter
from muhafiz.testing import People, make_user, signed_in


def test_a_national_filter_survives_an_or(people: People, lahore_case: Case) -> None:
    national = make_user("pros.national", Role.PROSECUTOR, level=JurisdictionLevel.NATIONAL)
    allowed = Q(pk__in=[]) | scope_filter(national, Perm.CASE_VIEW)
    assert list(Case.objects.filter(allowed)) == [lahore_case]


def test_a_national_prosecutor_lists_and_exports_every_case(
    people: People, lahore_case: Case
) -> None:
    national = make_user(
        "pros.national", Role.PROSECUTOR, district_code=None, level=JurisdictionLevel.NATIONAL
    )
    client = signed_in(national)
    page = client.get("/cases/")
    assert page.status_code == 200
    assert lahore_case.reference in page.content.decode()
    api = client.get("/api/v1/cases/")
    assert [c["reference"] for c in api.json()] == [lahore_case.reference]
    export = client.get("/cases/export.csv")
    assert lahore_case.reference in export.content.decode()
