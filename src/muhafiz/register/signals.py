"""Receivers of other apps' hooks (connected in `RegisterConfig.ready`)."""

from __future__ import annotations

from muhafiz.core.permissions import SYSTEM
from muhafiz.register.actions import record_judgment


def judgment_recorded(event_id: int) -> None:
    """`proceedings.judgment_recorded`: make the pending entry, or suspend it on appeal. The
    daily compliance job catches up any judgment this missed."""
    record_judgment(SYSTEM, event_id)
