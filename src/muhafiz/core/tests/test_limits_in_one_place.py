"""Field length limits are written once per app (issue 9, `core.limits`): a page form or an API
schema reads its limit from the model that keeps the value (`max_length(Model, "field")`) or
from one named constant of the app, never a number of its own. This walk reads every module
of the project outside models and migrations and fails on a `max_length=`/`min_length=` given
as a bare number, so a new one fails the suite (on main before this test: 132 of them in 15
modules)."""

from __future__ import annotations

import ast
from pathlib import Path

import muhafiz

ROOT = Path(muhafiz.__file__).parent
LIMITS = {"max_length", "min_length"}
# A length of one character or none is a rule, not a limit ("at least one character").
RULES = {0, 1}


def _modules() -> list[Path]:
    """Every module that may declare a form or a schema: not a model, a migration or a test."""
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if "migrations" not in path.parts
        and "tests" not in path.parts
        and "models" not in path.parts
        and path.name != "models.py"
    )


def _is_number(node: ast.expr) -> bool:
    """A number written out: a literal, or arithmetic of literals only (`2 * 1000`)."""
    return not any(
        isinstance(child, ast.Name | ast.Attribute | ast.Call) for child in ast.walk(node)
    )


def literal_limits(source: str) -> list[tuple[int, str, int | str]]:
    """(line, keyword, value) of each length limit given as a bare number in `source`."""
    found: list[tuple[int, str, int | str]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg not in LIMITS or not _is_number(keyword.value):
                continue
            value = (
                ast.literal_eval(keyword.value) if isinstance(keyword.value, ast.Constant) else "…"
            )
            if keyword.arg == "min_length" and value in RULES:
                continue
            found.append((keyword.value.lineno, keyword.arg, value))
    return found


def test_the_walk_reads_the_modules_that_declare_forms_and_schemas() -> None:
    names = {str(path.relative_to(ROOT)) for path in _modules()}
    for app in ("register", "intake", "evidence", "cases", "accounts", "audit", "hashbank"):
        assert f"{app}/forms.py" in names or f"{app}/api.py" in names, app
    assert "audit/queries.py" in names  # the audit filter form lives beside its queries
    assert not any(name.endswith("models.py") for name in names)


def test_the_check_finds_a_literal_limit_and_passes_a_named_one() -> None:
    source = (
        "class F(forms.Form):\n"
        "    a = forms.CharField(max_length=2000)\n"
        "    b = forms.CharField(max_length=max_length(Report, 'account'))\n"
        "    c = forms.CharField(max_length=REASON_MAX_LENGTH, min_length=1)\n"
        "    d: str = Field('', max_length=2 * 500)\n"
        "    e: list[int] = Field(..., min_length=5)\n"
    )
    assert literal_limits(source) == [
        (2, "max_length", 2000),
        (5, "max_length", "…"),
        (6, "min_length", 5),
    ]


def test_no_form_or_schema_writes_a_length_limit_as_a_number() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {keyword}={value}"
        for path in _modules()
        for line, keyword, value in literal_limits(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], (
        f"{len(offenders)} length limits written as numbers; read them from the model "
        "(core.limits.max_length) or from one named constant of the app:\n" + "\n".join(offenders)
    )


def test_no_template_writes_an_input_length_as_a_number() -> None:
    """A page that writes a form's input by hand takes its `maxlength` from the form
    (`{% form_limit %}`) or from its view, not a number of its own (on main before: 10 inputs in
    9 templates)."""
    import re

    written = re.compile(r"""maxlength=["']?\d""")
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted(ROOT.rglob("*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if written.search(line)
    ]
    assert found == []


def test_the_form_limit_tag_reads_the_form() -> None:
    from django.template import Context, Template

    from muhafiz.cases.forms import ReasonForm

    template = Template(
        "{% load shell %}{% form_limit 'muhafiz.cases.forms.ReasonForm' 'reason' %}"
    )
    assert template.render(Context()) == str(ReasonForm.base_fields["reason"].max_length)  # type: ignore[attr-defined]
