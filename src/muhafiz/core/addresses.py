"""The address a request came from, as the platform trusts it (behind its own proxies)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest | None) -> str | None:
    """The client's address; behind N trusted proxies (`MUHAFIZ_TRUSTED_PROXY_COUNT`), the
    address the outermost trusted proxy saw, from X-Forwarded-For. Never a client's own claim."""
    if request is None:
        return None
    raw = str(request.META.get("REMOTE_ADDR", "")).strip()
    proxies = int(getattr(settings, "MUHAFIZ_TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        forwarded = [
            part.strip()
            for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            raw = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None
