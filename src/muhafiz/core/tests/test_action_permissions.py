"""Every action refuses a principal without its permission, before it writes anything.

The actions modules and packages of every app are walked as they are at run time, so a public
function added to an actions module without a permission check at its start fails here, as a
route without a rule fails `test_route_rules`. Each action is called with a powerless principal
and placeholder arguments: an action that checks first raises PermissionDenied before it looks
at them; one that does not trips over the placeholders (or writes) and fails the test.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

import muhafiz
from muhafiz.accounts.models import User
from muhafiz.audit.models import AuditEvent
from muhafiz.core.permissions import SYSTEM, granted_perms
from muhafiz.testing import People, make_user

# Public functions of actions modules that are not actions, each with the reason. Keep it
# short: a read belongs in `selectors`, a pure helper beside the model or in `core`.
NOT_ACTIONS: dict[str, str] = {
    "muhafiz.audit.actions.record": "the audit writer each action calls after its own check",
    "muhafiz.audit.actions.record_read": "the audit writer of sensitive reads (same)",
    "muhafiz.audit.actions.record_many": "the audit writer of a batch, after the caller's check",
    "muhafiz.accounts.actions.is_locked": "a read of the sign-in lock, no write",
    "muhafiz.accounts.actions.has_two_factor": "a read, no write",
    "muhafiz.accounts.actions.check_own_account": "the rule itself (raises PermissionDenied)",
    "muhafiz.cases.actions._common.normalize_cnic": "a pure function of its text",
    "muhafiz.cases.actions._common.normalize_phone": "a pure function of its text",
    "muhafiz.cases.actions._common.normalize_handle": "a pure function of its text",
    "muhafiz.cases.actions._common.normalize_email": "a pure function of its text",
    "muhafiz.cases.actions._common.age_band": "a pure function of two dates",
    "muhafiz.cases.actions._common.refuse_victim_identity": "validates free text for actions",
    "muhafiz.evidence.actions._common.scans_dir": "a setting, no write",
    "muhafiz.evidence.actions._common.scan_roots": "a setting, no write",
    "muhafiz.evidence.actions._common.sha256_of": "reads a file, writes nothing",
    "muhafiz.evidence.actions._common.require_evidence_view": "the check itself (raises)",
    "muhafiz.evidence.actions.scans.check_scan_file": "reads a file, writes nothing",
    "muhafiz.evidence.actions.scans.stored_file": "a path, no write",
    "muhafiz.evidence.actions.scans.open_scan": "opens a stored scan file read-only",
    "muhafiz.evidence.actions.scans.scan_statistics": "a read, no write",
    "muhafiz.evidence.actions.scans.check_source_path": "validates a path, writes nothing",
    "muhafiz.accounts.actions.clients_awaiting": "a read filtered by may_approve_client, no write",
}
# Actions whose actor is the account they act on (own sign-in steps and settings): an active
# analyst may use them on their own account, so only the deactivated account is refused.
OWN_ACCOUNT = frozenset(
    {
        "muhafiz.accounts.actions.pending_totp_device",
        "muhafiz.accounts.actions.confirm_totp_device",
        "muhafiz.accounts.actions.verify_second_factor",
        "muhafiz.accounts.actions.set_preferred_language",
        "muhafiz.accounts.actions.change_own_password",
    }
)


def _action_packages() -> Iterator[str]:
    """`muhafiz.<package>.actions` for every package of the project that has one, found on
    disk (so an app not yet in INSTALLED_APPS, or named there by its AppConfig, is walked too)."""
    root = Path(muhafiz.__file__).parent
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if (folder / "actions.py").is_file() or (folder / "actions" / "__init__.py").is_file():
            yield f"muhafiz.{folder.name}.actions"


def actions_modules() -> Iterator[ModuleType]:
    """`<app>.actions` of every project package, and every module of an `actions/` package at
    any depth (its `_common` module of shared helpers too: a write hidden there is found as
    well)."""
    for name in _action_packages():
        module = importlib.import_module(name)
        yield module
        path = getattr(module, "__path__", None)
        if path is None:
            continue
        for info in pkgutil.walk_packages(path, prefix=f"{name}."):
            yield importlib.import_module(info.name)


def public_functions() -> dict[str, Callable[..., Any]]:
    found: dict[str, Callable[..., Any]] = {}
    for module in actions_modules():
        for name, obj in vars(module).items():
            if (
                inspect.isfunction(obj)
                and obj.__module__ == module.__name__
                and not name.startswith("_")
            ):
                found[f"{module.__name__}.{name}"] = obj
    return found


FUNCTIONS = public_functions()
ACTIONS = {name: fn for name, fn in FUNCTIONS.items() if name not in NOT_ACTIONS}


class Placeholder:
    """An argument the action must not need before it has refused: every attribute, item and
    call is another placeholder, so an action reading `item.case` for its check still works."""

    def __getattr__(self, name: str) -> Placeholder:
        if name.startswith("__"):
            raise AttributeError(name)
        return Placeholder()

    def __call__(self, *args: Any, **kwargs: Any) -> Placeholder:
        return Placeholder()

    def __getitem__(self, key: Any) -> Placeholder:
        return Placeholder()

    def __repr__(self) -> str:
        return "<placeholder>"


def call_with(fn: Callable[..., Any], principal: Any) -> Any:
    """Call `fn` with `principal` first and a placeholder for every other required argument."""
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for position, param in enumerate(inspect.signature(fn).parameters.values()):
        if param.kind in {param.VAR_POSITIONAL, param.VAR_KEYWORD}:
            continue
        if position == 0:
            args.append(principal)
        elif param.default is not param.empty:
            continue
        elif param.kind == param.KEYWORD_ONLY:
            kwargs[param.name] = Placeholder()
        else:
            args.append(Placeholder())
    return fn(*args, **kwargs)


@pytest.fixture
def deactivated(db: None) -> User:
    """A national supervisor whose account was closed: holds nothing any more."""
    user = make_user("closed.supervisor", "supervisor", district_code=None, level="national")
    user.is_active = False
    user.save(update_fields=["is_active"])
    return user


def test_the_walk_finds_the_actions_of_every_app() -> None:
    apps = {name.split(".")[1] for name in ACTIONS}
    on_disk = {name.split(".")[1] for name in _action_packages()}
    # Every package with an actions module or package is walked, new apps included.
    assert apps == on_disk
    assert {
        "accounts", "audit", "cases", "catalogue", "evidence", "hashbank", "insights", "intake",
        "proceedings", "register",
    } <= apps  # fmt: skip
    assert "muhafiz.cases.actions.team.add_team_member" in ACTIONS
    assert "muhafiz.proceedings.actions.stages.record_stage_event" in ACTIONS
    assert "muhafiz.intake.actions.public.submit_public_report" in ACTIONS
    assert "muhafiz.hashbank.actions.banks.set_bank_enabled" in ACTIONS
    assert "muhafiz.hashbank.actions.exports.export_bank" in ACTIONS


def refuses(fn: Callable[..., Any], principal: Any) -> bool:
    """Whether `fn` refuses `principal` with PermissionDenied before writing an audit row."""
    audited = AuditEvent.objects.count()
    try:
        call_with(fn, principal)
    except PermissionDenied:
        return AuditEvent.objects.count() == audited
    except Exception:
        return False
    return False


def test_the_walk_fails_an_action_without_a_permission_check(people: People) -> None:
    """The check itself can fail: an action that validates or writes before it checks, or
    never checks, is caught."""
    from muhafiz.core.permissions import Perm, check_perm

    def unchecked(actor: Any, case: Any, *, reason: str) -> Any:
        return case.reference

    def validates_first(actor: Any, case: Any) -> None:
        if len(case.reference) > 30:
            raise ValueError("too long")
        check_perm(actor, Perm.CASE_EDIT, case)

    def checked(actor: Any, case: Any) -> None:
        check_perm(actor, Perm.CASE_EDIT, case)

    assert not refuses(unchecked, people.analyst)
    assert not refuses(validates_first, people.analyst)
    assert refuses(checked, people.analyst)


def test_the_list_of_non_actions_names_only_functions_that_exist() -> None:
    assert sorted(set(NOT_ACTIONS) - set(FUNCTIONS)) == []
    assert sorted(OWN_ACCOUNT - set(ACTIONS)) == []


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_an_action_refuses_a_deactivated_account(name: str, deactivated: User) -> None:
    assert granted_perms(deactivated) == frozenset()
    with pytest.raises(PermissionDenied):
        call_with(ACTIONS[name], deactivated)
    assert AuditEvent.objects.filter(actor_user=deactivated).count() == 0
    assert refuses(ACTIONS[name], deactivated)


@pytest.mark.parametrize("name", sorted(set(ACTIONS) - OWN_ACCOUNT))
def test_an_action_refuses_an_analyst(name: str, people: People) -> None:
    """An analyst holds statistics only; no action writes with that."""
    with pytest.raises(PermissionDenied):
        call_with(ACTIONS[name], people.analyst)
    assert AuditEvent.objects.filter(actor_user=people.analyst).count() == 0


def test_the_system_principal_is_no_request_principal() -> None:
    """`SYSTEM` acts only where code names it: it is neither a user nor an API client."""
    assert not isinstance(SYSTEM, User)
    assert SYSTEM.pk is None
