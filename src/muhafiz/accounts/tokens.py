"""API client tokens: shown once at creation, stored only as a SHA-256 digest."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from muhafiz.accounts.models import ApiClient
from muhafiz.core.permissions import client_is_approved, client_profile

TOKEN_PREFIX_LENGTH = 8


def new_token() -> tuple[str, str, str]:
    """Return (token, prefix, digest). Only the prefix and digest are stored."""
    token = "mhz_" + secrets.token_urlsafe(32)
    return token, token[4 : 4 + TOKEN_PREFIX_LENGTH], digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def client_for_token(token: str, request: HttpRequest | None = None) -> ApiClient | None:
    """The active client holding `token`. Its `last_used_at` is written at most once every
    `MUHAFIZ_TOKEN_TOUCH_SECONDS` (5 minutes): a write on every request would make each API
    read wait for the database's write lock (and fail behind a long import on SQLite).
    A client whose profile reads victims' identities is audited on every call, though."""
    client = ApiClient.objects.filter(token_hash=digest(token), active=True).first()
    if client is not None:
        now = timezone.now()
        every = dt.timedelta(seconds=settings.MUHAFIZ_TOKEN_TOUCH_SECONDS)
        if client.last_used_at is None or now - client.last_used_at >= every:
            # Conditional: of many requests at once, one writes.
            ApiClient.objects.filter(pk=client.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - every)
            ).update(last_used_at=now)
            client.last_used_at = now
        _audit_use(client, request)
    return client


def _audit_use(client: ApiClient, request: HttpRequest | None) -> None:
    """A client whose profile may read victims' identities is audited on every call."""
    spec = client_profile(client)
    if spec is None or not spec.audit_every_use or not client_is_approved(client):
        return
    from django.db import transaction

    from muhafiz.audit.actions import record

    details: dict[str, str] = {}
    if request is not None:
        details = {"method": request.method or "", "path": request.path[:300]}
    with transaction.atomic():
        record(client, "accounts.api_client_used", client, request=request, **details)
