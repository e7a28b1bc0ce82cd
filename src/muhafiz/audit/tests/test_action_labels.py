"""Every action the platform writes to the audit log has a label, in English and Urdu, and so
does every detail key an action names (issue 15, items 11 and 13): the code base is read for
each call that writes an audit entry, so a new action or detail without words fails here.

Actions whose code is built at run time (f"referral.{decision}") are expanded from the same
tables the code builds them from; a call whose action this test cannot read fails it too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation import override

from muhafiz.audit.words import ACTION_LABELS, DETAIL_LABELS

# The functions that write an audit entry with the action code as their second argument (or
# `action=`), and the wrappers that only pass on their caller's code.
WRITERS = frozenset(
    {"record", "record_many", "record_read", "record_audit_read", "_audit", "record_request"}
)
WRAPPERS = frozenset(
    {
        ("audit/actions.py", "record_audit_read"),
        ("audit/actions.py", "record_read"),
        ("accounts/actions.py", "_audit"),
        ("catalogue/actions.py", "_audit"),
        ("hashbank/actions/banks.py", "record_request"),
    }
)
NOT_DETAILS = frozenset({"request", "reason", "using", "action"})


def _dynamic_codes() -> dict[str, set[str]]:
    """Each action built at run time, by its f-string, with every code it can give."""
    from muhafiz.cases.actions import referrals
    from muhafiz.catalogue import actions as catalogue
    from muhafiz.intake.models import NEXT_STATES

    names = set(catalogue._AUDIT_NAME.values())
    return {
        "f'referral.{decision}'": {f"referral.{d}" for d in referrals._TRANSITIONS},
        "f'catalogue.{name}_created'": {f"catalogue.{n}_created" for n in names},
        "f'catalogue.{_AUDIT_NAME[model]}_changed'": {f"catalogue.{n}_changed" for n in names},
        "f'intake.report.{to}'": {f"intake.report.{s}" for to in NEXT_STATES.values() for s in to},
    }


def _assigned(function: ast.AST, name: str) -> set[str]:
    """The literal codes a function assigns to a local `name` (`action = "a"`, or
    `action, what = "a", ...`), for a call that passes the variable."""
    found: set[str] = set()
    for node in ast.walk(function):
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            if isinstance(target, ast.Name) and target.id == name:
                values = [node.value]
            elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                values = [
                    v
                    for t, v in zip(target.elts, node.value.elts, strict=False)
                    if isinstance(t, ast.Name) and t.id == name
                ]
            else:
                continue
            found |= {
                v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            }
    return found


def _calls() -> Iterator[tuple[str, ast.AST, ast.Call]]:
    """(module path, enclosing function, call) of every audit write outside tests."""
    package = Path(settings.PACKAGE_DIR)
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if "/tests/" in f"/{relative}" or "/migrations/" in relative:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                if name in WRITERS:
                    yield relative, function, node


def _action_argument(call: ast.Call) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "action":
            return keyword.value
    return call.args[1] if len(call.args) >= 2 else None


def written_action_codes() -> tuple[set[str], list[str]]:
    """(every action code the code base can write, calls whose code could not be read)."""
    dynamic = _dynamic_codes()
    codes: set[str] = set()
    unread: list[str] = []
    for module, function, call in _calls():
        argument = _action_argument(call)
        if argument is None:
            continue  # not an audit write (e.g. a record() of another module)
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            codes.add(argument.value)
        elif isinstance(argument, ast.IfExp) and all(
            isinstance(part, ast.Constant) for part in (argument.body, argument.orelse)
        ):
            codes |= {argument.body.value, argument.orelse.value}  # type: ignore[attr-defined]
        elif ast.unparse(argument) in dynamic:
            codes |= dynamic[ast.unparse(argument)]
        elif isinstance(argument, ast.Name) and _assigned(function, argument.id):
            codes |= _assigned(function, argument.id)
        elif (module, getattr(function, "name", "")) not in WRAPPERS:
            unread.append(f"{module}:{call.lineno} {ast.unparse(argument)}")
    return codes, unread


def test_the_walk_reads_every_audit_write_and_finds_the_known_actions() -> None:
    codes, unread = written_action_codes()
    assert unread == [], "an action code this test cannot read; list it in _dynamic_codes"
    # The walk is not empty and reads the literal, conditional and built codes alike.
    for code in (
        "evidence.item.correct",
        "evidence.item.void",
        "evidence.custody.correct",
        "evidence.custody.void",
        "bank.enable",
        "bank.disable",
        "referral.accept",
        "catalogue.police_station_changed",
        "intake.report.closed",
        "bank.match",
        "job.requeue",  # assigned to a local variable, then passed
    ):
        assert code in codes, code
    assert len(codes) > 130


def test_every_action_the_code_base_writes_has_a_label() -> None:
    codes, _unread = written_action_codes()
    assert sorted(codes - set(ACTION_LABELS)) == []


def test_every_action_label_reads_in_urdu() -> None:
    with override(None):
        english = {code: str(label) for code, label in ACTION_LABELS.items()}
    with override("ur"):
        untranslated = [c for c, label in ACTION_LABELS.items() if str(label) == english[c]]
    assert untranslated == []


def test_every_detail_key_an_action_names_has_a_label() -> None:
    keys: dict[str, str] = {}
    for module, _function, call in _calls():
        if _action_argument(call) is None:
            continue
        for keyword in call.keywords:
            if keyword.arg and keyword.arg not in NOT_DETAILS:
                keys.setdefault(keyword.arg, f"{module}:{call.lineno}")
    missing = {key: where for key, where in keys.items() if key not in DETAIL_LABELS}
    assert missing == {}


def test_the_corrections_fields_have_labels() -> None:
    # The before/after values of a corrected item or custody entry are shown by field name.
    from muhafiz.evidence.actions.corrections import CUSTODY_FIELDS, ITEM_FIELDS

    assert sorted(set(ITEM_FIELDS + CUSTODY_FIELDS) - set(DETAIL_LABELS)) == []


@pytest.mark.parametrize("language", ["en", "ur"])
def test_a_code_without_a_label_reads_as_itself(language: str) -> None:
    from muhafiz.audit.words import action_label

    with override(language):
        assert action_label("some.old.action") == "some.old.action"


def test_the_fields_an_account_change_names_have_labels() -> None:
    # accounts.user_changed keeps {field: [before, after]} for each profile field changed.
    from muhafiz.accounts.actions import PROFILE_FIELDS

    assert sorted(set(PROFILE_FIELDS) - set(DETAIL_LABELS)) == []
