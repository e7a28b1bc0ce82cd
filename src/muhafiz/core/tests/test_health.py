"""The health endpoint answers without sign-in and checks the database."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_healthz_reports_ok(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
