"""How the audit log names a principal of ours: a staff member or an API client.

Audit sits below accounts and cannot import our models; it asks the `audit.describe_actor` hook,
which `AccountsConfig.ready()` connects to `audit_actor`.
"""

from __future__ import annotations

from typing import Any

from muhafiz.accounts.models import ApiClient, User
from muhafiz.audit.actions import AuditActor
from muhafiz.audit.models import ActorKind


def audit_actor(actor: Any) -> AuditActor | None:
    if isinstance(actor, User):
        agency = actor.agency.code if actor.agency is not None else ""
        return AuditActor(ActorKind.USER, actor.pk, None, actor.get_username(), actor.role, agency)
    if isinstance(actor, ApiClient):
        agency = actor.agency.code if actor.agency_id else ""
        return AuditActor(ActorKind.API_CLIENT, None, actor.pk, actor.name, "api_client", agency)
    return None
