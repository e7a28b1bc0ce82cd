"""Intake's routes: the public ones are public by rule (and only those two), every staff page
and API operation requires an intake right."""

from __future__ import annotations

from muhafiz.core.permissions import PUBLIC, Perm
from muhafiz.testing import api_operations, url_routes

INTAKE_PERMS = {Perm.INTAKE_HANDLE, Perm.INTAKE_RECORD}


def test_the_public_report_pages_are_public_by_rule() -> None:
    public = {r.route for r in url_routes() if r.route.startswith("report/")}
    assert public == {"report/", "report/follow-up/"}
    for route in url_routes():
        if route.route.startswith("report/"):
            assert route.view_rule == PUBLIC


def test_every_staff_page_of_intake_requires_an_intake_right() -> None:
    routes = [r for r in url_routes() if r.route.startswith("intake/")]
    assert len(routes) >= 10
    for route in routes:
        assert isinstance(route.view_rule, tuple), route.route
        assert set(route.view_rule) & INTAKE_PERMS, route.route


def test_every_intake_api_operation_requires_an_intake_right() -> None:
    operations = [op for op in api_operations() if op.path.startswith("/api/v1/intake/")]
    assert len(operations) >= 10
    for op in operations:
        assert isinstance(op.rule, tuple), op.path
        assert set(op.rule) & INTAKE_PERMS, op.path
