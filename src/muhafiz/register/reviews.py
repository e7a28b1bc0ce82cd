"""When a registrant may ask for a review (not an appeal: a right that opens with time), read
from the period rules their convictions were entered under: the UK review of indefinite
registration (15 years after release) and the SORNA reduction of tier I (5 years off after 10
clean years). Reading only; the request and its decision are `actions.submit_due_process` and
`actions.decide_due_process`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.proceedings.clocks import ClockState, add_months
from muhafiz.register.models import (
    Compliance,
    Conviction,
    ConvictionStatus,
    DueProcessKind,
    Obligation,
    Registrant,
)

DEFAULT_DECISION_DAYS = 42


@dataclass(frozen=True)
class Review:
    kind: str
    opens_on: date | None  # None until the release is recorded
    decision_days: int
    clean_since: date | None


def _live(registrant: Registrant) -> list[Conviction]:
    return list(
        registrant.convictions.exclude(status=ConvictionStatus.SUSPENDED).select_related("rule")
    )


def review_for(registrant: Registrant, kind: str) -> Review | None:
    """The review of `kind` this registration allows, or None: an indefinite registration under
    rules that make it reviewable; a fixed period under rules that may shorten it, not yet
    shortened."""
    live = _live(registrant)
    rules = [c.rule for c in live]
    if not live or any(rule is None for rule in rules):
        return None
    if kind == DueProcessKind.INDEFINITE_REVIEW:
        governing = [c.rule for c in live if c.indefinite and c.rule is not None]
        if not governing or any(
            r.review_after_months is None or r.review_reduction_months for r in governing
        ):
            return None
    elif kind == DueProcessKind.TIER_REDUCTION:
        governing = [r for r in rules if r is not None]
        if registrant.indefinite or any(
            r.review_after_months is None or not r.review_reduction_months for r in governing
        ):
            return None
        if registrant.due_process.filter(kind=kind, upheld=True).exists():
            return None  # reduced once already
    else:
        return None
    released = timezone.localdate(registrant.released_at) if registrant.released_at else None
    months = max(r.review_after_months or 0 for r in governing)
    return Review(
        kind=kind,
        opens_on=add_months(released, months) if released else None,
        decision_days=max(r.review_decision_days or DEFAULT_DECISION_DAYS for r in governing),
        clean_since=released,
    )


def reviews_open_to(registrant: Registrant) -> list[Review]:
    """The reviews the registration allows (for the registrant page: from when)."""
    found = [review_for(registrant, kind) for kind in REVIEWABLE]
    return [review for review in found if review is not None]


REVIEWABLE = (DueProcessKind.INDEFINITE_REVIEW, DueProcessKind.TIER_REDUCTION)


def clean_record_blots(registrant: Registrant, *, since: date | None) -> list[str]:
    """What stands against a clean record since release: a clock missed (or met late), a
    non-compliance flag now, a conviction after release."""
    blots: list[str] = []
    clocks = Obligation.objects.filter(
        Q(state__in=[ClockState.MISSED, ClockState.MET_LATE])
        | Q(met_at__isnull=True, due_at__lt=timezone.now()),
        registrant=registrant,
    )
    if since is not None:
        clocks = clocks.filter(due_at__date__gte=since)
    if clocks.exists():
        blots.append(_("a clock missed or met late"))
    if registrant.compliance != Compliance.COMPLIANT:
        blots.append(_("flagged as not complying"))
    if (
        registrant.released_at is not None
        and registrant.convictions.filter(convicted_at__gt=registrant.released_at).exists()
    ):
        blots.append(_("convicted again after release"))
    return blots
