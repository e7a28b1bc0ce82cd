"""API client tokens: shown once at creation, stored only as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from muhafiz.accounts.models import ApiClient

TOKEN_PREFIX_LENGTH = 8


def new_token() -> tuple[str, str, str]:
    """Return (token, prefix, digest). Only the prefix and digest are stored."""
    token = "mhz_" + secrets.token_urlsafe(32)
    return token, token[4 : 4 + TOKEN_PREFIX_LENGTH], digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def client_for_token(token: str) -> ApiClient | None:
    client = ApiClient.objects.filter(token_hash=digest(token), active=True).first()
    if client is not None:
        client.last_used_at = timezone.now()
        client.save(update_fields=["last_used_at"])
    return client
