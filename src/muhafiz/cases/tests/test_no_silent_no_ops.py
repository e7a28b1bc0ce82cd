"""A case page's button never does nothing in silence: "add to team" with no user name and "add
the chosen sections" with nothing ticked say why, in the page's language, and change nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from muhafiz.audit.models import AuditEvent
from muhafiz.cases.models import Case
from muhafiz.testing import People, signed_in

NO_USER = {
    "en": "Give the user name of the person to add.",
    "ur": "جسے شامل کرنا ہے اس کا صارف نام لکھیں۔",
}
NOTHING_TICKED = {
    "en": "Tick at least one section to add.",
    "ur": "شامل کرنے کے لیے کم از کم ایک دفعہ منتخب کریں۔",
}


def _in(client: Client, lang: str) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = lang
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "ur"])
def test_adding_nobody_to_the_team_says_so(people: People, lahore_case: Case, lang: str) -> None:
    client = _in(signed_in(people.lahore_supervisor), lang)
    team = set(lahore_case.team.values_list("user_id", flat=True))
    response = client.post(
        f"/cases/{lahore_case.reference}/team/", {"username": "  ", "team_role": "investigator"}
    )
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert NO_USER[lang] in page
    assert set(lahore_case.team.values_list("user_id", flat=True)) == team


@pytest.mark.django_db
@pytest.mark.parametrize("lang", ["en", "ur"])
@pytest.mark.parametrize("htmx", [True, False])
def test_adding_no_section_says_so(
    people: People, lahore_case: Case, lang: str, htmx: bool
) -> None:
    client = _in(signed_in(people.lahore_investigator), lang)
    before = set(lahore_case.offences.values_list("code", flat=True))
    events = AuditEvent.objects.count()
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(f"/cases/{lahore_case.reference}/offences/", {}, headers=headers)
    if htmx:
        assert response.status_code == 200
        page = response.content.decode()
    else:
        assert response.status_code == 302
        page = client.get(response["Location"]).content.decode()
    assert NOTHING_TICKED[lang] in page
    assert set(lahore_case.offences.values_list("code", flat=True)) == before
    assert AuditEvent.objects.count() == events
