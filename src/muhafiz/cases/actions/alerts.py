"""Alerts: one to a person (`raise_alert`), many to case teams (`raise_team_alerts`), both the
system's; a person marks their own alert read."""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from muhafiz.cases.models import (
    Alert,
    AlertKind,
    Case,
    TeamMember,
    TeamRole,
)
from muhafiz.core.permissions import (
    check_system,
    user_pk,
)

# --- alerts -------------------------------------------------------------------------------------


def raise_alert(
    actor: Any,
    case: Case | None,
    recipient: Any,
    kind: str,
    message: str,
    *,
    dedupe_key: str,
    link: str = "",
    params: dict[str, Any] | None = None,
) -> tuple[Alert, bool]:
    """Tell `recipient` about something on `case`, once: a second call with the same
    `dedupe_key` for the same person changes nothing and returns the existing alert.

    An alert about something that is not a case (an urgent report in intake's queue) passes
    `case=None` and the path of its page as `link` (a path on this site, no identity in it).

    The system raises alerts (after the commit of the action that causes them), so `actor` is
    `SYSTEM`. Messages name cases by reference and victims by code, never by name. `message` is
    untranslated (`gettext_noop`) with `%(name)s` places, their values in `params` (see
    core.words): the alert is put into words in the language of whoever reads it.
    """
    check_system(actor)
    if kind not in AlertKind.values:
        raise ValueError(f"unknown alert kind {kind!r}")
    if case is None and not link.startswith("/"):
        raise ValueError("an alert without a case needs a link to a page of this site")
    with transaction.atomic():
        alert, created = Alert.objects.get_or_create(
            recipient=recipient,
            dedupe_key=dedupe_key[:200],
            defaults={
                "case": case,
                "kind": kind,
                "message": message[:500],
                "params": params or {},
                "link": link[:200],
            },
        )
    return alert, created


@dataclass(frozen=True, slots=True)
class TeamNotice:
    """One alert for the members of a case's team (see `raise_team_alerts`)."""

    case_id: int
    kind: str
    message: str
    dedupe_key: str
    params: dict[str, Any] = field(default_factory=dict)


def raise_team_alerts(actor: Any, notices: Seq[TeamNotice], team_roles: Iterable[str]) -> int:
    """Alert every member of each notice's case team who holds one of `team_roles` on it, once
    per person and dedupe key, as `raise_alert` does; returns how many alerts were new.

    For the system's jobs, which alert in bulk (the clock job after an outage: 100,000s of
    alerts): PostgreSQL takes a batch as one statement, other databases one bulk insert.
    """
    check_system(actor)
    roles = sorted(set(team_roles))
    if set(roles) - set(TeamRole.values):
        raise ValueError(f"unknown team roles {sorted(set(roles) - set(TeamRole.values))}")
    if any(n.kind not in AlertKind.values for n in notices):
        raise ValueError("unknown alert kind")
    if not notices or not roles:
        return 0
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _insert_team_alerts_in_sql(notices, roles)
        return _insert_team_alerts(notices, roles)


def _insert_team_alerts_in_sql(notices: Seq[TeamNotice], roles: list[str]) -> int:
    sql = f"""
        INSERT INTO {Alert._meta.db_table}
            (recipient_id, case_id, kind, message, params, dedupe_key, created_at, link)
        SELECT DISTINCT ON (tm.user_id, n.dedupe_key)
            tm.user_id, n.case_id, n.kind, n.message, n.params::jsonb, n.dedupe_key, now(), ''
        FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[])
            AS n(case_id, kind, message, params, dedupe_key)
        JOIN {TeamMember._meta.db_table} tm
            ON tm.case_id = n.case_id AND tm.team_role = ANY(%s)
        ON CONFLICT (recipient_id, dedupe_key) DO NOTHING
    """  # noqa: S608 - table names come from model metadata; every value is a parameter
    params: list[Any] = [
        [n.case_id for n in notices],
        [n.kind for n in notices],
        [n.message[:500] for n in notices],
        [json.dumps(n.params) for n in notices],
        [n.dedupe_key[:200] for n in notices],
        roles,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(int(cursor.rowcount), 0)


def _insert_team_alerts(notices: Seq[TeamNotice], roles: list[str]) -> int:
    recipients: dict[int, set[int]] = {}
    for case_id, user_id in TeamMember.objects.filter(
        case_id__in={n.case_id for n in notices}, team_role__in=roles
    ).values_list("case_id", "user_id"):
        recipients.setdefault(case_id, set()).add(user_id)
    wanted: dict[tuple[int, str], Alert] = {}
    for notice in notices:
        key = notice.dedupe_key[:200]
        for user_id in sorted(recipients.get(notice.case_id, ())):
            wanted.setdefault(
                (user_id, key),
                Alert(
                    recipient_id=user_id,
                    case_id=notice.case_id,
                    kind=notice.kind,
                    message=notice.message[:500],
                    params=notice.params,
                    dedupe_key=key,
                ),
            )
    if not wanted:
        return 0
    existing = set(
        Alert.objects.filter(
            recipient_id__in={user_id for user_id, _key in wanted},
            dedupe_key__in={key for _user, key in wanted},
        ).values_list("recipient_id", "dedupe_key")
    )
    rows = [alert for pair, alert in wanted.items() if pair not in existing]
    Alert.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    return len(rows)


def mark_alert_read(actor: Any, alert: Alert) -> None:
    if user_pk(actor) is None or alert.recipient_id != user_pk(actor):
        raise PermissionDenied("alert")
    if alert.read_at is None:
        alert.read_at = timezone.now()
        alert.save(update_fields=["read_at"])
