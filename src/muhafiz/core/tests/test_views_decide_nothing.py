"""Pages and API handlers decide nothing about writes (issue 9): they declare their route rule,
find the object (404 unless the caller may know of it) and call the action, which checks the
permission on the object and raises PermissionDenied (403). Reading stays with the selectors.

The source of every app's views and API modules is read as it is, so a handler that checks a
write permission itself (`check_perm`, a loader asked for a right other than a `*_VIEW` one,
its own `raise PermissionDenied`) fails here, in any app, including new ones.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import muhafiz

ROOT = Path(muhafiz.__file__).parent
# The mechanism behind the route rules (`api_requires`) is where checking is the point.
MECHANISM = {ROOT / "core" / "api.py", ROOT / "core" / "permissions.py"}

DECIDING = {
    "checks a permission itself": re.compile(r"\bcheck_perm\("),
    "refuses by itself": re.compile(r"raise PermissionDenied\b"),
    # `load_case(…, Perm.CASE_EDIT)` and the like: a read loader asked for a write right.
    "loads with a write right": re.compile(r"\bload_\w+\([^()]*Perm\.(?!\w+_VIEW\b)\w+"),
    # `actions.may_record_handover(…)`: an action's own rule asked by a page; what a page
    # offers comes from a selector (`item_rights`, `case_rights`, …).
    "asks an action's rule": re.compile(r"\bactions\.(?:may|can)_\w+\("),
}


def handler_modules() -> list[Path]:
    found: set[Path] = set()
    patterns = ("*/views.py", "*/views/*.py", "*/*_views.py", "*/api.py", "*/api/*.py", "*/hma.py")
    for pattern in patterns:
        found.update(ROOT.glob(pattern))
    return sorted(found - MECHANISM)


def deciding_lines(source: str) -> list[str]:
    return [
        f"line {number}: {why}: {line.strip()}"
        for number, line in enumerate(source.splitlines(), start=1)
        for why, pattern in DECIDING.items()
        if pattern.search(line)
    ]


def test_the_walk_finds_the_handlers_of_the_apps() -> None:
    names = {str(p.relative_to(ROOT)) for p in handler_modules()}
    assert {"cases/views.py", "cases/api.py", "evidence/api.py", "hashbank/api.py"} <= names
    # Pages in a module named for its topic (the job retry pages of ops) are handlers too.
    assert "ops/jobs_views.py" in names


def test_every_module_that_declares_a_route_is_walked() -> None:
    """A module whose functions carry a route rule is a handler module, whatever its name."""
    rule = re.compile(
        r"^@(requires|signed_in|public|api_requires|api_signed_in|first_factor)\b|^@router\.",
        re.MULTILINE,
    )
    declaring = {
        path
        for path in ROOT.rglob("*.py")
        if "tests" not in path.parts and rule.search(path.read_text(encoding="utf-8"))
    }
    assert declaring - MECHANISM - set(handler_modules()) == set()


@pytest.mark.parametrize("path", handler_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_or_api_handler_checks_a_write_permission_itself(path: Path) -> None:
    assert deciding_lines(path.read_text(encoding="utf-8")) == []


def test_the_rule_catches_a_handler_that_decides() -> None:
    deciding = """
def edit(request, reference):
    case = selectors.load_case(request.user, reference, Perm.CASE_EDIT)
    check_perm(request.user, Perm.SCAN_RUN, case)
    if not may(request.user):
        raise PermissionDenied("x")
    offer = actions.may_record_handover(request.user, item)
"""
    assert len(deciding_lines(deciding)) == 4
    reading = "case = selectors.load_case(request.user, reference, Perm.CASE_VIEW)\n"
    assert deciding_lines(reading) == []
