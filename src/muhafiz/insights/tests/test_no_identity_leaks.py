"""No victim's name, code or case reference reaches a log line, a URL or a published file."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from muhafiz.core.permissions import SYSTEM
from muhafiz.insights.actions import refresh_summaries
from muhafiz.insights.tests.conftest import VICTIM_NAME, Recorded
from muhafiz.testing import People, signed_in


def test_nothing_identifying_is_logged_or_published(
    world: Recorded, people: People, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    refresh_summaries(SYSTEM)
    staff = signed_in(people.analyst)
    seen = [
        client.get("/statistics/").content.decode(),
        client.get("/statistics/data.json").content.decode(),
        client.get("/statistics/data.csv").content.decode(),
        client.get("/statistics/stage-durations.csv").content.decode(),
        client.get("/api/v1/statistics/published").content.decode(),
        staff.get("/statistics/staff/").content.decode(),
        staff.get("/api/v1/statistics/staff").content.decode(),
        staff.get("/proceedings/dashboard.csv").content.decode(),
        caplog.text,
    ]
    everything = "\n".join(seen)
    assert VICTIM_NAME not in everything
    for case in world.cases:
        for victim in case.victims.all():
            assert victim.pseudonym not in everything
    for case in world.cases:
        assert case.reference not in "\n".join(seen[:7])  # the public files and staff figures
