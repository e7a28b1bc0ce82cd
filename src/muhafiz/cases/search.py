"""Finding cases: partial reference and FIR number, an accused's CNIC, phone or handle through the
blind index (never a comparison of encrypted values), filters and sort orders, for the case list
page, its API and the dashboards that link to the cases behind their counts.

Every filter narrows `case_list`'s visible cases, so a search never shows a case the person could
not open. A person's name is never a search term.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from muhafiz.cases import identifiers
from muhafiz.cases.models import AccusedIdentifier, Case, CaseStatus, IdentifierKind, TeamRole
from muhafiz.core.permissions import Perm, case_scope

# Either right opens a case page: CASE_VIEW for its investigative content, WELFARE_VIEW for the
# welfare part (victim codes, consent, referrals) that child-protection officers work on.
CASE_PAGE_PERMS = (Perm.CASE_VIEW, Perm.WELFARE_VIEW)

# Sort orders offered by the list: key → ORDER BY (the last term keeps pages stable).
SORTS: dict[str, tuple[str, ...]] = {
    "newest": ("-reported_at", "-pk"),
    "oldest": ("reported_at", "pk"),
    "reference": ("reference",),
    "stalled": ("progress__stage_since", "pk"),  # longest in its current stage first
}
# The deadline filters: running clocks of the case in these states.
OVERDUE = {
    "missed": ("missed",),
    "due_soon": ("due_soon",),
    "either": ("missed", "due_soon"),
}
# The shortest partial reference or FIR number searched (one character matches everything).
MIN_PARTIAL = 2
# The longest search text and identifier the list page and the API take.
QUERY_MAX_LENGTH = 60
IDENTIFIER_MAX_LENGTH = 120
# A stage code to filter on (the proceedings app's stage codes).
STAGE_MAX_LENGTH = 40


@dataclass(frozen=True)
class CaseSearch:
    text: str = ""  # part of a reference or FIR number
    identifier: str = ""  # an accused's CNIC, phone or online handle, matched exactly
    status: str = ""
    district: str = ""  # district code
    station_id: int | None = None
    stage: str = ""  # the case's current stage (proceedings)
    overdue: str = ""  # a key of OVERDUE
    offence: str = ""  # offence code
    since: date | None = None  # report received on or after
    until: date | None = None  # report received on or before
    court_id: int | None = None
    prosecutor_id: int | None = None
    member_id: int | None = None  # on whose team, in any role
    sort: str = "newest"


def identifier_pairs(raw: str) -> list[tuple[str, str]]:
    """Every reading of `raw` as an identifier: (kind, normalized value) for each kind whose
    rules accept it (a 13-digit number is a CNIC; a handle is almost anything)."""
    pairs = []
    for kind, normalize in (
        (IdentifierKind.CNIC, identifiers.normalize_cnic),
        (IdentifierKind.PHONE, identifiers.normalize_phone),
        (IdentifierKind.HANDLE, identifiers.normalize_handle),
    ):
        try:
            pairs.append((str(kind), normalize(raw)))
        except ValidationError:
            continue
    return pairs


def _identifier_match(raw: str) -> Q:
    """Cases with an accused holding `raw` as an identifier, found through the blind index."""
    field = AccusedIdentifier._meta.get_field("value_index")
    match = Q(pk__in=[])
    for kind, value in identifier_pairs(raw):
        match |= Q(kind=kind, value_index__in=field.candidates(value))
    rows = AccusedIdentifier.objects.filter(match, accused__case_id=OuterRef("pk"))
    return Q(Exists(rows))


def stage_choices() -> list[tuple[str, str]]:
    """The stages a case can stand at: the proceedings app's stage choices, read through the
    `progress` relation (cases imports nothing from the app above it)."""
    try:
        progress = Case._meta.get_field("progress").related_model
    except FieldDoesNotExist:
        return []
    choices: Any = progress._meta.get_field("stage").choices  # type: ignore[union-attr]
    return [(str(value), str(label)) for value, label in choices or []]


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def visible_for_list(principal: Any) -> QuerySet[Case]:
    return Case.objects.filter(case_scope(principal, *CASE_PAGE_PERMS, via="")).select_related(
        "district", "police_station", "agency"
    )


def search_cases(principal: Any, search: CaseSearch) -> QuerySet[Case]:
    """The cases `principal` may open that match every filter of `search`, in its sort order."""
    cases = visible_for_list(principal)
    text = search.text.strip()
    if text:
        if len(text) < MIN_PARTIAL:
            cases = cases.filter(Q(reference=text.upper()) | Q(fir_number=text))
        else:
            # References are stored upper-case; FIR numbers as written (101/2026).
            cases = cases.filter(
                Q(reference__contains=text.upper()) | Q(fir_number__icontains=text)
            )
    if search.identifier.strip():
        cases = cases.filter(_identifier_match(search.identifier.strip()))
    if search.status:
        cases = cases.filter(status=search.status)
    if search.district:
        cases = cases.filter(district__code=search.district)
    if search.station_id:
        cases = cases.filter(police_station_id=search.station_id)
    if search.offence:
        cases = cases.filter(offences__code=search.offence)
    if search.since:
        cases = cases.filter(reported_at__gte=_local_midnight(search.since))
    if search.until:
        cases = cases.filter(reported_at__lt=_local_midnight(search.until + timedelta(days=1)))
    # The proceedings app keeps each case's stage (`progress`) and its clocks (`clocks`).
    if search.stage:
        cases = cases.filter(progress__stage=search.stage)
    if search.court_id:
        cases = cases.filter(progress__court_id=search.court_id)
    if search.overdue in OVERDUE:
        cases = cases.filter(
            pk__in=Case.objects.filter(
                clocks__stopped_at__isnull=True, clocks__state__in=OVERDUE[search.overdue]
            ).values("pk"),
            status=CaseStatus.OPEN,
        )
    if search.prosecutor_id:
        cases = cases.filter(
            pk__in=Case.objects.filter(
                team__user_id=search.prosecutor_id, team__team_role=TeamRole.PROSECUTOR
            ).values("pk")
        )
    if search.member_id:
        cases = cases.filter(
            pk__in=Case.objects.filter(team__user_id=search.member_id).values("pk")
        )
    if search.offence:
        cases = cases.distinct()
    return cases.order_by(*SORTS.get(search.sort, SORTS["newest"]))
