"""The named people of the tests sign in past two-factor and see the home page."""

import pytest

from muhafiz.testing import People, signed_in


@pytest.mark.django_db
def test_verified_investigator_sees_home(people: People) -> None:
    response = signed_in(people.lahore_investigator).get("/")
    assert response.status_code == 200


@pytest.mark.django_db
def test_anonymous_visitor_is_sent_to_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
