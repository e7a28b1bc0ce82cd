"""Each role's home page is its work queue: panels that the apps contribute through hooks.

core imports no app, so it declares two hooks and the apps connect receivers in their
`AppConfig.ready()` (cases: my open cases, unread alerts, team-join requests to decide,
referrals to me; proceedings: deadlines due soon and missed; evidence: items I hold; register:
checks to approve, …). Each receiver reads through its app's own selectors and returns only what
the person may see.

    home_panels.send(principal, now=now)  -> [QueuePanel | None, ...] per receiver (a list too)
    nav_counts.send(principal)            -> [{url name: count}, ...] (a badge in the navigation)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from muhafiz.core.hooks import Hook
from muhafiz.core.permissions import Perm, granted_perms

# How many rows a panel shows; its "all …" link leads to the whole list.
PANEL_ROWS = 8

home_panels = Hook(
    "core.home_panels",
    "the home page's work queue for (principal, *, now): a QueuePanel, a list of them, or None",
)
nav_counts = Hook(
    "core.nav_counts",
    "counts shown beside navigation entries for (principal): {url name: count}",
)


@dataclass(frozen=True)
class QueueRow:
    """One thing to do: what (a case reference, an item), where it leads, how urgent."""

    label: str | Promise
    url: str = ""
    detail: str | Promise = ""
    badge: str | Promise = ""
    # "missed" (red), "soon" (amber), "ok" (green) or "" (plain): the row's urgency.
    tone: str = ""
    when: datetime | None = None
    # A one-button form on the row (e.g. mark an alert read): POST to this URL.
    post_url: str = ""
    post_label: str | Promise = ""
    # Stable hooks for browser tests: data-key on the row.
    key: str = ""


@dataclass(frozen=True)
class QueuePanel:
    key: str  # the panel's id on the page: home-<key>
    title: str | Promise
    order: int  # smaller first: urgent queues before lists
    rows: list[QueueRow] = field(default_factory=list)
    total: int = 0  # how many there are in all (rows shows the first PANEL_ROWS)
    more_url: str = ""
    more_label: str | Promise = ""
    empty: str | Promise = ""
    lead: str | Promise = ""


def _flatten(results: Iterable[Any]) -> list[QueuePanel]:
    panels: list[QueuePanel] = []
    for result in results:
        if result is None:
            continue
        if isinstance(result, QueuePanel):
            panels.append(result)
        else:
            panels.extend(p for p in result if p is not None)
    return panels


# --- the register's slot -------------------------------------------------------------------------
# The register app (issue 12) connects its receiver under this uid, built on its own
# `register/selectors.py`: the register officer's queue (entries to create from convictions,
# verifications due, absconders), the prosecutor's register checks to approve, the police
# station officer's verification visits, the employer's vetting answers. Until it is connected,
# a person whose role opens the register sees what is coming instead of an empty page.
REGISTER_SLOT_UID = "register.home"
REGISTER_PERMS = frozenset(
    {
        Perm.REGISTER_MANAGE,
        Perm.REGISTER_APPROVE,
        Perm.REGISTER_REQUEST,
        Perm.REGISTER_VERIFY,
        Perm.REGISTER_VET,
    }
)


def _register_coming(principal: Any) -> QueuePanel | None:
    if any(uid == REGISTER_SLOT_UID for uid, _receiver in home_panels.receivers):
        return None
    held = granted_perms(principal) & REGISTER_PERMS
    if not held or held == {Perm.REGISTER_REQUEST}:
        return None  # an investigator's occasional request is not their daily work
    return QueuePanel(
        key="register",
        title=_("The sex offenders register"),
        order=50,
        lead=_(
            "Your work on the register will be listed here: entries to create from "
            "convictions, verifications due, absconders, and register checks waiting for "
            "approval. The register's pages are being built."
        ),
        empty=_("Nothing to do here yet."),
    )


def work_queue(principal: Any, *, now: datetime) -> list[QueuePanel]:
    """Every panel the apps give this person, in their order."""
    panels = _flatten(home_panels.send(principal, now=now))
    coming = _register_coming(principal)
    if coming is not None:
        panels.append(coming)
    return sorted(panels, key=lambda p: (p.order, p.key))


def navigation_counts(principal: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for result in nav_counts.send(principal):
        for name, count in (result or {}).items():
            counts[name] = counts.get(name, 0) + int(count)
    return counts
