"""Cross-app hooks: the one mechanism by which a lower layer lets an upper one act."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from muhafiz.core.hooks import Hook, HookError, registered_hooks


def test_a_receiver_connected_twice_under_one_uid_is_called_once() -> None:
    hook = Hook("test.connected_twice", "test")
    calls: list[int] = []
    hook.connect(calls.append, uid="test.receiver")
    hook.connect(calls.append, uid="test.receiver")
    assert hook.send(7) == [None]
    assert calls == [7]


def test_a_hook_name_is_declared_once() -> None:
    Hook("test.declared_once", "test")
    with pytest.raises(HookError, match="declared twice"):
        Hook("test.declared_once", "test")


@pytest.mark.django_db(transaction=True)
def test_send_on_commit_calls_receivers_after_commit_and_never_after_rollback() -> None:
    hook = Hook("test.on_commit", "test")
    calls: list[Any] = []
    hook.connect(calls.append, uid="test.receiver")
    with transaction.atomic():
        hook.send_on_commit("kept")
        assert calls == []
    assert calls == ["kept"]
    with pytest.raises(RuntimeError), transaction.atomic():
        hook.send_on_commit("rolled back")
        raise RuntimeError
    assert calls == ["kept"]


def test_the_apps_connect_their_receivers_at_ready() -> None:
    hooks = registered_hooks()
    connected = {name: {uid for uid, _ in hook.receivers} for name, hook in hooks.items()}
    assert connected["cases.case_saved"] == {"proceedings.sync_clocks"}
    assert connected["cases.accused_identifiers_changed"] == {
        "evidence.cross_case_links",
        "intake.rematch_accused",
    }
    assert connected["evidence.scan_analysed"] == {"intake.rematch_scan"}
    assert connected["core.api_token_lookup"] == {"accounts.api_clients"}
    assert connected["audit.describe_actor"] == {"accounts.principals"}
