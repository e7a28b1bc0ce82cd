"""One case-scope filter (issue 9): "the cases this principal may see" is `core.permissions.
case_scope`, and only `core.permissions` reads a principal's jurisdiction to build a filter.

Every app's source is read as it is (tests and migrations aside), so a selector that writes the
filter out again (`scope_filter(…, via="case")`, the district and province paths spelled out,
`Case.objects.filter(scope_filter(…))`, a branch on the principal's level) fails here, in any app,
including new ones.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import muhafiz

ROOT = Path(muhafiz.__file__).parent
# The mechanism itself; accounts owns the jurisdiction fields (its model, forms and "me" page
# show and set them); the test helpers and the demo create people in their places.
OWNERS = {ROOT / "core" / "permissions.py", ROOT / "testing.py"}
OWNER_DIRS = {ROOT / "accounts", ROOT / "demo"}
PRINCIPAL_NAMES = {"principal", "actor", "user", "person", "me", "viewer", "caller"}
JURISDICTION_FIELDS = {"jurisdiction_level", "province_id", "district_id"}


def source_modules() -> list[Path]:
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = set(path.relative_to(ROOT).parts)
        if parts & {"tests", "migrations"} or path in OWNERS:
            continue
        if any(path.is_relative_to(owner) for owner in OWNER_DIRS):
            continue
        found.append(path)
    return found


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_principal(node: ast.AST) -> bool:
    """`principal`, `actor`, … or `request.user` / `request.auth`."""
    if isinstance(node, ast.Name):
        return node.id in PRINCIPAL_NAMES
    return (
        isinstance(node, ast.Attribute)
        and node.attr in {"user", "auth"}
        and _name(node.value) == "request"
    )


def reimplementations(source: str) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Call):
            called = _name(node.func)
            keywords = {k.arg: k.value for k in node.keywords}
            if called == "scope_filter":
                if {"district_field", "province_field"} & set(keywords):
                    found.append(f"line {line}: spells the district path out (use `via`)")
                via = keywords.get("via")
                if isinstance(via, ast.Constant) and str(via.value).startswith("case"):
                    found.append(f"line {line}: scope_filter through a case (use case_scope)")
            if (
                called == "filter"
                and isinstance(node.func, ast.Attribute)
                and _name(node.func.value) == "objects"
                and isinstance(node.func.value, ast.Attribute)
                and _name(node.func.value.value) == "Case"
                and any(_name(getattr(a, "func", a)) == "scope_filter" for a in node.args)
            ):
                found.append(f"line {line}: cases filtered by scope_filter (use case_scope)")
            if (
                called == "getattr"
                and len(node.args) >= 2
                and _is_principal(node.args[0])
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value in JURISDICTION_FIELDS
            ):
                found.append(f"line {line}: reads a principal's {node.args[1].value}")
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Load)
            and node.attr in JURISDICTION_FIELDS
            and (node.attr == "jurisdiction_level" or _is_principal(node.value))
        ):
            found.append(f"line {line}: reads {ast.unparse(node)}")
    return found


def test_the_walk_finds_the_selectors_of_the_apps() -> None:
    names = {str(p.relative_to(ROOT)) for p in source_modules()}
    wanted = {
        "cases/selectors.py",
        "cases/search.py",
        "evidence/selectors.py",
        "proceedings/selectors.py",
        "proceedings/diary.py",
        "register/selectors.py",
        "intake/selectors.py",
        "insights/selectors.py",
        "insights/overdue.py",
    }
    assert wanted <= names
    assert "core/permissions.py" not in names


@pytest.mark.parametrize("path", source_modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_writes_the_case_scope_out_itself(path: Path) -> None:
    assert reimplementations(path.read_text(encoding="utf-8")) == []


def test_the_rule_catches_a_selector_that_writes_the_scope_out() -> None:
    copies = """
def referral_queue(principal):
    return Referral.objects.filter(
        scope_filter(principal, Perm.WELFARE_VIEW, district_field="case__district",
                     province_field="case__district__province"))

def clocks(principal):
    return Clock.objects.filter(scope_filter(principal, Perm.STATS_VIEW, via="case"))

def mine(principal):
    return Case.objects.filter(scope_filter(principal, Perm.CASE_VIEW))

def summary(principal):
    level = getattr(principal, "jurisdiction_level", "")
    if principal.jurisdiction_level == "province":
        return Q(district_id__in=District.objects.filter(province_id=principal.province_id))
    return Q(district_id=request.user.district_id)
"""
    assert len(reimplementations(copies)) == 7
    reading = """
def referral_queue(principal):
    rows = Referral.objects.filter(case_scope(principal, Perm.WELFARE_VIEW))
    due = Obligation.objects.filter(scope_filter(principal, perm, via="registrant"))
    return rows.filter(case__district_id=filters.district_id, district_id=case.district_id)
"""
    assert reimplementations(reading) == []
