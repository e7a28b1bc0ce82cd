"""What insights counts: the measures, the breakdowns (Sahil's dimensions that Muhafiz records),
the offence groups, the sensitive powers, and the duration bins. The data dictionary is built
from these, so a figure and its description cannot drift apart."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import Case as When_
from django.db.models import Q, Value, When
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Measure:
    code: str
    label: Promise
    description: Promise


MEASURES: tuple[Measure, ...] = (
    Measure(
        "reports_received",
        _("Reports received"),
        _(
            "Cases opened in the year (by the date the report was received), and reports made to "
            "the platform that have not become a case."
        ),
    ),
    Measure(
        "firs",
        _("FIRs registered"),
        _("Cases whose First Information Report was registered in the year (CrPC s.154)."),
    ),
    Measure(
        "challans",
        _("Challans submitted"),
        _("Cases whose final investigation report went to court in the year (CrPC s.173)."),
    ),
    Measure(
        "trials_concluded",
        _("Trials concluded"),
        _("Cases in which a judgment was delivered in the year."),
    ),
    Measure(
        "convictions",
        _("Convictions"),
        _("Cases with at least one accused convicted in the year."),
    ),
    Measure(
        "acquittals",
        _("Acquittals"),
        _("Cases with at least one accused acquitted in the year."),
    ),
    Measure(
        "referrals",
        _("Referrals to child protection"),
        _("Children referred to child-protection services in the year."),
    ),
)
MEASURE_CODES = tuple(m.code for m in MEASURES)
VICTIMS = Measure(
    "victims",
    _("Children (victims)"),
    _("Victims recorded in cases opened in the year, by gender and age band."),
)


@dataclass(frozen=True)
class Dimension:
    code: str
    label: Promise
    measure: str  # the measure it breaks down (its total is that measure's cell)
    categories: tuple[tuple[str, Promise], ...]


OFFENCE_GROUPS: tuple[tuple[str, Promise], ...] = (
    ("abuse_material", _("Abuse photographed, filmed or shared")),
    ("sexual_abuse", _("Sexual abuse")),
    ("trafficking", _("Trafficking and exploitation")),
    ("online_grooming", _("Online grooming")),
    ("abduction", _("Abduction or missing child")),
    ("cruelty", _("Cruelty")),
    ("exposure", _("Exposure to obscene material")),
    ("other", _("Other")),
    ("unrecorded", _("Not recorded (report not yet a case)")),
)

DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("offence_group", _("Offence group"), "reports_received", OFFENCE_GROUPS),
    Dimension(
        "gender",
        _("Gender"),
        "victims",
        (
            ("girl", _("Girl")),
            ("boy", _("Boy")),
            ("other", _("Other")),
            ("unknown", _("Not recorded")),
        ),
    ),
    Dimension(
        "age_band",
        _("Age band"),
        "victims",
        (
            ("0-5", _("0–5")),
            ("6-10", _("6–10")),
            ("11-15", _("11–15")),
            ("16-18", _("16–18")),
            ("18+", _("over 18")),
            ("unknown", _("unknown")),
        ),
    ),
)
DIMENSION_BY_CODE = {d.code: d for d in DIMENSIONS}


# A case's offence group: the first whose facts hold, the gravest first.
GROUP_FACTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("abuse_material", ("abuse_recorded", "material_online")),
    ("trafficking", ("trafficking", "commercial_exploitation")),
    ("sexual_abuse", ("sexual_abuse",)),
    ("online_grooming", ("online_grooming",)),
    ("abduction", ("missing_child",)),
    ("cruelty", ("cruelty",)),
    ("exposure", ("exposure_to_seduction",)),
)


def offence_group_expression(prefix: str = "") -> When_:
    """The case's offence group from its recorded facts (a SQL CASE over the case's fact
    columns, so a million cases are grouped by the database); `prefix` reaches the case from
    another table ("case__")."""
    whens = []
    for group, facts in GROUP_FACTS:
        condition = Q()
        for fact in facts:
            condition |= Q(**{f"{prefix}{fact}": True})
        whens.append(When(condition, then=Value(group)))
    return When_(*whens, default=Value("other"))


@dataclass(frozen=True)
class Power:
    code: str
    label: Promise
    actions: tuple[str, ...]  # audit action names counted


POWERS: tuple[Power, ...] = (
    Power("identity_views", _("Victim identities viewed"), ("victim.identity.view",)),
    Power("media_reveals", _("Seized media revealed"), ("evidence.media.reveal",)),
    Power(
        "register_checks_requested",
        _("Register checks requested"),
        ("register.check_requested",),
    ),
    Power("register_checks_approved", _("Register checks approved"), ("register.check_approved",)),
    Power("register_checks_refused", _("Register checks refused"), ("register.check_refused",)),
    Power("vetting_answers", _("Vetting questions answered"), ("register.vetting_answered",)),
    Power("consent_overrides", _("Victims' consent overridden"), ("victim.consent.override",)),
    Power("api_tokens_issued", _("API client tokens issued"), ("accounts.api_client_created",)),
)
POWER_BY_ACTION = {action: p.code for p in POWERS for action in p.actions}

# --- duration bins ------------------------------------------------------------------------------

BIN_RATIO = 1.1  # each bin 10 % wider than the one before, on hours + 1
BIN_SCALE = 1 / math.log(BIN_RATIO)
# A duration read as its bin's (geometric) middle is within this share of the true one.
BIN_BOUND = 0.05
RUNNING_MISSED = -1


def duration_bin(hours: float) -> int:
    return math.floor(math.log(max(hours, 0.0) + 1) * BIN_SCALE)


def bin_hours(index: int) -> float:
    """The middle of a bin (geometric), in hours."""
    low = math.exp(index / BIN_SCALE) - 1
    high = math.exp((index + 1) / BIN_SCALE) - 1
    return math.sqrt((low + 1) * (high + 1)) - 1


def percentile_hours(bins: dict[int, int], fraction: float) -> float | None:
    """The `fraction` percentile of binned durations in hours, interpolated between the two
    nearest ranks as PostgreSQL's percentile_cont does (each rank read as its bin's middle)."""
    total = sum(bins.values())
    if not total:
        return None
    position = fraction * (total - 1)
    low, high = math.floor(position), math.ceil(position)
    ordered = sorted(bins.items())

    def at(rank: int) -> float:
        seen = 0
        for index, count in ordered:
            seen += count
            if rank < seen:
                return bin_hours(index)
        return bin_hours(ordered[-1][0])

    return at(low) + (at(high) - at(low)) * (position - low)


def percentile_days(bins: dict[int, int], fraction: float) -> float | None:
    """The `fraction` percentile of the binned durations, in days (one decimal)."""
    hours = percentile_hours(bins, fraction)
    return None if hours is None else round(hours / 24, 1)
