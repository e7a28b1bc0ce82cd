"""The public visitor and the rate limits of the public report.

A visitor is known only by a keyed hash of their address and the day (HMAC with a key derived
from the secret key, the UTC date in the message): it changes at midnight, cannot be reversed
without the key, and is never written anywhere but the `Throttle` counters, which are deleted
after two days. The address itself is never stored or logged.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from muhafiz.core.addresses import client_address
from muhafiz.intake.models import Throttle


class RateLimited(Exception):  # noqa: N818 - the name says what happened, as PermissionDenied does
    """Too many tries from one visitor or on one receipt in a window; try again later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limited; retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class PublicVisitor:
    """A visitor of the public report page: no account, no address, a daily-rotating key."""

    rate_key: str
    public_visitor = True
    is_authenticated = False
    is_active = True
    pk = None
    jurisdiction_level = ""
    province_id = None
    district_id = None

    def __repr__(self) -> str:
        return "PublicVisitor"


def _address(request: HttpRequest) -> str:
    return client_address(request) or "unknown"


def visitor_key(address: str, day: dt.date | None = None) -> str:
    """The keyed hash of an address for one UTC day (32 hex characters)."""
    day = day or timezone.now().astimezone(dt.UTC).date()
    return salted_hmac(
        f"muhafiz.intake.visitor.{day.isoformat()}", address, algorithm="sha256"
    ).hexdigest()[:32]


def visitor(request: HttpRequest) -> PublicVisitor:
    """The public visitor behind a request (signed in or not: the public report names nobody)."""
    return PublicVisitor(rate_key=visitor_key(_address(request)))


# What is limited, how many in how long (seconds).
LIMITS: dict[str, tuple[int, int]] = {
    "submit": (5, 3600),  # reports from one visitor an hour
    "submit_day": (20, 86400),
    "login_fail": (10, 3600),  # wrong receipt or passphrase from one visitor an hour
    "receipt_fail": (5, 3600),  # wrong passphrases on one receipt an hour
    "add_info": (20, 3600),  # messages added to one receipt an hour
}


def _window(seconds: int) -> dt.datetime:
    now = timezone.now()
    start = int(now.timestamp()) // seconds * seconds
    return dt.datetime.fromtimestamp(start, tz=dt.UTC)


def over_limit(scope: str, key: str) -> int:
    """0 when `key` may go on in `scope`; otherwise the seconds until the window ends."""
    limit, seconds = LIMITS[scope]
    start = _window(seconds)
    hits = Throttle.objects.filter(scope=scope, key=key, window_start=start).values_list(
        "hits", flat=True
    )
    if (hits.first() or 0) >= limit:
        return max(1, int((start + dt.timedelta(seconds=seconds) - timezone.now()).total_seconds()))
    return 0


def check_limit(scope: str, key: str) -> None:
    retry = over_limit(scope, key)
    if retry:
        raise RateLimited(retry)


def count_hit(scope: str, key: str) -> None:
    """Count one hit, committed at once (a refused passphrase counts although nothing else is
    written), and drop counters older than two days."""
    _limit, seconds = LIMITS[scope]
    start = _window(seconds)
    with transaction.atomic():
        row, _created = Throttle.objects.get_or_create(scope=scope, key=key, window_start=start)
        Throttle.objects.filter(pk=row.pk).update(hits=F("hits") + 1)
        Throttle.objects.filter(window_start__lt=timezone.now() - dt.timedelta(days=2)).delete()
