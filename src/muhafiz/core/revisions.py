"""A revision's old and new values put into words for a history list: field labels in the
reader's language and stored times (ISO text in UTC) shown in the deployment's time zone, as
every other date on the pages is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.functional import Promise

EMPTY = "—"


@dataclass(frozen=True, slots=True)
class Change:
    field: str
    label: str | Promise
    before: str
    after: str


def _as_time(value: str) -> datetime | None:
    if len(value) < len("YYYY-MM-DDTHH:MM") or value[4] != "-" or "T" not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if timezone.is_aware(parsed) else None


def shown(value: Any) -> str:
    """One stored value as the pages show it: an aware ISO time in local time, empty as "—"."""
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, datetime):
        return format_date(timezone.localtime(value), "Y-m-d H:i")
    text = str(value)
    when = _as_time(text)
    if when is not None:
        return format_date(timezone.localtime(when), "Y-m-d H:i")
    return text


def changes(
    before: Mapping[str, Any], after: Mapping[str, Any], labels: Mapping[str, str | Promise]
) -> list[Change]:
    """The fields a revision changed, in the order of `labels` (unknown keys last)."""
    keys = [k for k in labels if k in before or k in after]
    keys += sorted(k for k in {*before, *after} if k not in labels)
    return [
        Change(key, labels.get(key, key), shown(before.get(key)), shown(after.get(key)))
        for key in keys
    ]
