"""Cross-app hooks: the one way a lower layer lets an upper one act, without importing it.

Apps form layers (docs/architecture.md): an app imports only from the layers below it. When a
lower app must let an upper one react (a case saved starts its clocks in proceedings; an
accused's identifiers changed make evidence look for cross-case links; an API token is looked
up by accounts on core's API), the lower app declares a `Hook` in its own module, calls it, and
the upper app connects a receiver in its `AppConfig.ready()`:

    # cases/hooks.py (the lower app declares and calls)
    case_saved = Hook("cases.case_saved", "a case was created or changed: (case_id, created)")
    case_saved.send_on_commit(case.pk, created)

    # proceedings/apps.py (the upper app listens)
    def ready(self):
        case_saved.connect(proceedings.signals.case_saved, uid="proceedings.case_saved")

Not Django signals: a hook has one name, a docstring of its arguments, is listed in
`registered_hooks()` (the app READMEs name them), and refuses a second receiver with the same
uid, so `ready()` may run twice without calling anything twice.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction

Receiver = Callable[..., Any]

_HOOKS: dict[str, Hook] = {}


class HookError(RuntimeError):
    """A hook was declared twice, or connected in a way that cannot work."""


class Hook:
    """A named point where the declaring app calls receivers that other apps connected."""

    def __init__(self, name: str, doc: str) -> None:
        if name in _HOOKS:
            raise HookError(f"hook {name!r} is declared twice")
        self.name = name
        self.doc = doc
        self._receivers: dict[str, Receiver] = {}
        _HOOKS[name] = self

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, receivers={sorted(self._receivers)})"

    def connect(self, receiver: Receiver, *, uid: str) -> None:
        """Add `receiver` under `uid`; connecting the same uid again replaces nothing."""
        self._receivers.setdefault(uid, receiver)

    def disconnect(self, uid: str) -> None:
        self._receivers.pop(uid, None)

    @property
    def receivers(self) -> list[tuple[str, Receiver]]:
        return list(self._receivers.items())

    def send(self, *args: Any, **kwargs: Any) -> list[Any]:
        """Call every receiver now, in the order they connected; return their results."""
        return [receiver(*args, **kwargs) for receiver in self._receivers.values()]

    def send_on_commit(self, *args: Any, **kwargs: Any) -> None:
        """Call every receiver once the current transaction commits (at once without one).

        A rolled-back write calls nobody; arguments should be ids and values, not rows that
        the receiver would read stale.
        """
        for receiver in self._receivers.values():
            transaction.on_commit(partial(receiver, *args, **kwargs))


def registered_hooks() -> dict[str, Hook]:
    """Every declared hook by name (for docs, tests and debugging)."""
    return dict(_HOOKS)
