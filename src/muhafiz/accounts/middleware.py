"""Idle-session expiry: a staff session unused for SESSION_IDLE_SECONDS is signed out."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

LAST_SEEN_KEY = "muhafiz_last_seen"
# Set in the fresh session after an expiry; the sign-in page pops it to say why.
EXPIRED_KEY = "muhafiz_expired"
# Precision of the idle clock: the last-seen time is refreshed at most this often (seconds).
LAST_SEEN_EVERY = 60


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is not None and now - float(last_seen) > settings.SESSION_IDLE_SECONDS:
                logout(request)
                request.session[EXPIRED_KEY] = True
            elif last_seen is None or now - float(last_seen) >= LAST_SEEN_EVERY:
                # Written at most once a minute: a session write on every request would make
                # every page wait for the database's write lock.
                request.session[LAST_SEEN_KEY] = now
        return self.get_response(request)
