"""Reading the case database: visible querysets, permission-checked loaders, section
suggestions, cross-case identifier lookups and identity-free statistics."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext, gettext_lazy

from muhafiz.cases.models import (
    Accused,
    AccusedIdentifier,
    Alert,
    Case,
    CaseStatus,
    IdentifierKind,
    Referral,
    ReferralStatus,
    SectionRule,
    TeamJoinRequest,
    TeamJoinStatus,
    TeamRole,
    Victim,
)
from muhafiz.cases.search import CASE_PAGE_PERMS, CaseSearch, search_cases
from muhafiz.catalogue.models import Offence
from muhafiz.core.permissions import Perm, case_scope, check_perm, has_perm, oversees, user_pk


def visible_cases(principal: Any, perm: Perm = Perm.CASE_VIEW) -> QuerySet[Case]:
    """The cases `principal` may see with `perm`, by the same rule as `has_perm`."""
    return Case.objects.filter(case_scope(principal, perm, via="")).select_related(
        "district", "police_station", "agency"
    )


def case_list(principal: Any, query: str = "", status: str = "") -> QuerySet[Case]:
    """Cases for the list page and the API: by case or by welfare right; `query` matches part of
    the reference or the FIR number (never a person's name). Filters: `search.search_cases`."""
    return search_cases(principal, CaseSearch(text=query, status=status))


def referral_queue(principal: Any, status: str = "") -> QuerySet[Referral]:
    """Referrals in the cases whose welfare part `principal` may see, newest first."""
    referrals = Referral.objects.filter(case_scope(principal, Perm.WELFARE_VIEW)).select_related(
        "case", "victim", "officer"
    )
    if status:
        referrals = referrals.filter(status=status)
    return referrals.order_by("-created_at", "-pk")


def case_referrals(case: Case) -> QuerySet[Referral]:
    """The referrals of one case, for its page and the API (the welfare part: needs WELFARE_VIEW,
    which the caller has checked)."""
    return (
        Referral.objects.filter(case=case)
        .select_related("service", "victim")
        .only(
            "pk",
            "case_id",
            "victim__pseudonym",
            "status",
            "needs",
            "service__code",
            "officer_id",
            "consent_override_id",
            "decision_note",
            "created_at",
        )
    )


# Holding any of these on a case means knowing that it exists.
KNOW_OF_CASE_PERMS = (Perm.CASE_VIEW, Perm.WELFARE_VIEW, Perm.EVIDENCE_VIEW)


def may_know_of(principal: Any, case: Case) -> bool:
    """Whether `principal` may know that `case` exists: some right on it (its content, its
    welfare part, its evidence). To anyone else a case is not there."""
    return any(has_perm(principal, perm, case) for perm in KNOW_OF_CASE_PERMS)


def hide_unless_known(principal: Any, case: Case) -> None:
    """404 for a case the caller may not know of, exactly as for a reference that does not exist:
    403 against 404 would tell a Kasur investigator which Lahore references exist."""
    if not may_know_of(principal, case):
        raise Http404("No such case.")


def find_case(principal: Any, reference: str) -> Case:
    """The case with `reference` for a write: 404 when there is no such case or the caller may
    not know of it. Whether the caller may make the change is the action's to decide (it
    raises PermissionDenied, a 403); the page or handler does not check it first."""
    case = get_object_or_404(
        Case.objects.select_related("district", "police_station", "agency"),
        reference=reference,
    )
    hide_unless_known(principal, case)
    return case


def load_case(principal: Any, reference: str, *perms: Perm) -> Case:
    """The case with `reference` after checking `principal` holds every one of `perms` on it
    (404 when there is no such case or the caller may not know of it, 403 when the caller knows
    of it but a right is missing)."""
    case = get_object_or_404(
        Case.objects.select_related("district", "police_station", "agency"),
        reference=reference,
    )
    hide_unless_known(principal, case)
    for perm in perms or (Perm.CASE_VIEW,):
        check_perm(principal, perm, case)
    return case


def load_case_page(principal: Any, reference: str) -> Case:
    """The case for its page: CASE_VIEW or WELFARE_VIEW on it is enough to open it."""
    case = get_object_or_404(
        Case.objects.select_related("district", "police_station", "agency"),
        reference=reference,
    )
    hide_unless_known(principal, case)
    if not any(has_perm(principal, perm, case) for perm in CASE_PAGE_PERMS):
        check_perm(principal, Perm.CASE_VIEW, case)
    return case


def load_victim(principal: Any, case: Case, pseudonym: str) -> Victim:
    """A victim of `case` for the welfare part (no identity is decrypted by showing it)."""
    victim = get_object_or_404(Victim, case=case, pseudonym=pseudonym)
    if not (
        has_perm(principal, Perm.WELFARE_VIEW, case) or has_perm(principal, Perm.CASE_VIEW, case)
    ):
        check_perm(principal, Perm.WELFARE_VIEW, case)
    return victim


def case_list_rights(principal: Any) -> dict[str, bool]:
    """What the case list and the section rules pages offer (the actions decide on submit)."""
    return {
        "can_create": has_perm(principal, Perm.CASE_CREATE),
        "can_export": has_perm(principal, Perm.CASE_VIEW),
        "can_welfare": has_perm(principal, Perm.WELFARE_VIEW),
        "can_edit_rules": has_perm(principal, Perm.CATALOGUE_EDIT),
    }


def case_rights(principal: Any, case: Case) -> dict[str, bool]:
    """Which parts of the case page `principal` may see or use."""
    return {
        "view": has_perm(principal, Perm.CASE_VIEW, case),
        "edit": has_perm(principal, Perm.CASE_EDIT, case) and case.is_open,
        "edit_closed": has_perm(principal, Perm.CASE_EDIT, case),
        "welfare": has_perm(principal, Perm.WELFARE_VIEW, case),
        "welfare_edit": has_perm(principal, Perm.WELFARE_EDIT, case),
        "identity": has_perm(principal, Perm.VICTIM_IDENTITY, case),
        "evidence": has_perm(principal, Perm.EVIDENCE_VIEW, case),
        "consent": has_perm(principal, Perm.VICTIM_CONSENT, case),
        "override": has_perm(principal, Perm.CASE_EDIT, case) and oversees(principal, case),
        "oversee": oversees(principal, case) and case.is_open,
    }


# --- the case's sections -------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseSection:
    key: str
    label: str
    url: str


# (key, URL name, label, the rights of `case_rights` any one of which opens it). The upper apps'
# sections show when their page is installed.
CASE_SECTIONS: tuple[tuple[str, str, Any, tuple[str, ...]], ...] = (
    ("overview", "cases:detail", gettext_lazy("Overview"), ("view", "welfare")),
    ("parties", "cases:parties", gettext_lazy("Parties"), ("view", "welfare")),
    ("proceedings", "proceedings:case", gettext_lazy("Proceedings and clocks"), ("view",)),
    ("evidence", "evidence:case", gettext_lazy("Evidence and scans"), ("evidence",)),
    ("links", "evidence:links", gettext_lazy("Links and network"), ("evidence",)),
    ("referrals", "cases:referrals", gettext_lazy("Referrals"), ("welfare",)),
    ("history", "cases:history", gettext_lazy("History"), ("view",)),
)


def case_sections(principal: Any, case: Case) -> list[CaseSection]:
    """The sections of `case` that `principal` may open, in order, with their addresses."""
    rights = case_rights(principal, case)
    found: list[CaseSection] = []
    for key, url_name, label, opened_by in CASE_SECTIONS:
        if not any(rights[right] for right in opened_by):
            continue
        try:
            url = reverse(url_name, args=[case.reference])
        except NoReverseMatch:
            continue
        found.append(CaseSection(key, str(label), url))
    return found


# --- section suggestions ------------------------------------------------------------------------


@dataclass
class Suggestion:
    """One offence the recorded facts point to, and why."""

    code: str
    offence: Offence | None
    reasons: list[str] = field(default_factory=list)
    applied: bool = False


@dataclass
class SectionAdvice:
    suggestions: list[Suggestion]
    # Weaker sections on the case while a stronger suggested one is missing.
    warnings: list[tuple[str, str]]  # (weaker code on the case, stronger code missing)

    @property
    def missing_codes(self) -> list[str]:
        return [s.code for s in self.suggestions if not s.applied and s.offence is not None]


def suggest_sections(
    facts: frozenset[str] | set[str], applied_codes: set[str] | frozenset[str] = frozenset()
) -> SectionAdvice:
    """The offences that the facts recorded point to, from the `SectionRule` table."""
    by_code: dict[str, Suggestion] = {}
    weaker_for: dict[str, set[str]] = defaultdict(set)
    for rule in SectionRule.objects.filter(active=True):
        needed = set(rule.facts or [])
        if not needed or not needed <= set(facts):
            continue
        suggestion = by_code.setdefault(rule.offence_code, Suggestion(rule.offence_code, None))
        # Shipped explanations are translated; an editor's own text is shown as written.
        reason = gettext(rule.explanation)
        if reason not in suggestion.reasons:
            suggestion.reasons.append(reason)
        weaker_for[rule.offence_code].update(rule.weaker_codes or [])
    offences = {o.code: o for o in Offence.objects.filter(code__in=by_code, active=True)}
    for code, suggestion in by_code.items():
        suggestion.offence = offences.get(code)
        suggestion.applied = code in applied_codes
    warnings = sorted(
        {
            (weak, strong)
            for strong, weaker in weaker_for.items()
            if strong not in applied_codes
            for weak in weaker
            if weak in applied_codes
        }
    )
    ordered = sorted(by_code.values(), key=lambda s: s.code)
    return SectionAdvice(suggestions=ordered, warnings=warnings)


def case_section_advice(case: Case) -> SectionAdvice:
    applied = set(case.offences.values_list("code", flat=True))
    return suggest_sections(case.facts(), applied)


# --- cross-case identifiers ---------------------------------------------------------------------


@dataclass(frozen=True)
class SharedIdentifier:
    """Another case's accused who shares an identifier kind with the accused asked about.

    Names no victim and carries no identifier value: only the kind, the other case and the
    other accused's label, so a cross-case alert can be raised from it.
    """

    kind: str
    case_id: int
    case_reference: str
    district_code: str
    accused_id: int
    accused_label: str

    @property
    def kind_label(self) -> str:
        """The kind in the reader's language (a page shows it; alerts keep the code)."""
        return str(IdentifierKind(self.kind).label)


def accused_links_for(principal: Any, accused: Accused) -> list[tuple[SharedIdentifier, bool]]:
    """The accused's links to other cases, each with whether `principal` may open that case
    (an investigator sees that a link exists and whom to call, not the other case's content)."""
    shared = find_cases_sharing_identifiers(accused)
    others = Case.objects.in_bulk({link.case_id for link in shared})
    return [(link, has_perm(principal, Perm.CASE_VIEW, others[link.case_id])) for link in shared]


def find_cases_sharing_identifiers(accused: Accused) -> list[SharedIdentifier]:
    """Accused in *other* cases, any district or agency, sharing a CNIC, phone or handle.

    This is a system lookup (for cross-case alerts): it does not check a user's rights. Show
    its results to a person only through `has_perm` on the other case.
    """
    own = list(AccusedIdentifier.objects.filter(accused=accused).values_list("kind", "value_index"))
    if not own:
        return []
    match = Q(pk__in=[])
    for kind, index in own:
        if index:
            match |= Q(kind=kind, value_index=index)
    rows = (
        AccusedIdentifier.objects.filter(match)
        .exclude(accused__case_id=accused.case_id)
        .select_related("accused__case__district")
        .order_by("accused__case__reference", "accused__label", "kind")
    )
    seen: set[tuple[str, int]] = set()
    result: list[SharedIdentifier] = []
    for row in rows:
        key = (row.kind, row.accused_id)
        if key in seen:
            continue
        seen.add(key)
        other = row.accused
        result.append(
            SharedIdentifier(
                kind=row.kind,
                case_id=other.case_id,
                case_reference=other.case.reference,
                district_code=other.case.district.code,
                accused_id=other.pk,
                accused_label=other.label,
            )
        )
    return result


# --- statistics ---------------------------------------------------------------------------------


def victim_statistics(principal: Any) -> list[dict[str, Any]]:
    """Victims counted by district, age band and gender; only those who consented to
    statistics (or whose refusal a supervisor overrode). No names, no codes, no case."""
    check_perm(principal, Perm.STATS_VIEW)
    counted = Victim.objects.filter(
        Q(consent_statistics=True) | Q(consent_overrides__consent="statistics")
    ).filter(case_scope(principal, Perm.STATS_VIEW))
    rows = (
        counted.values("case__district__code", "age_band", "gender")
        .annotate(victims=Count("pk", distinct=True))
        .order_by("case__district__code", "age_band", "gender")
    )
    return [
        {
            "district": row["case__district__code"],
            "age_band": row["age_band"],
            "gender": row["gender"],
            "victims": row["victims"],
        }
        for row in rows
    ]


def statistics_cases() -> QuerySet[Case]:
    """Every case that may be counted in published or staff statistics: it has a victim, and
    every victim consented to statistics (or a supervisor overrode the refusal). A system read
    for the insights summary job, which publishes aggregates only; no principal, no identity."""
    refused = Victim.objects.filter(case=OuterRef("pk"), consent_statistics=False).exclude(
        consent_overrides__consent="statistics"
    )
    return Case.objects.filter(Exists(Victim.objects.filter(case=OuterRef("pk")))).exclude(
        Exists(refused)
    )


def statistics_victims(cases: QuerySet[Case]) -> QuerySet[Victim]:
    """The victims of `cases` (from `statistics_cases`), for counts by gender and age band;
    only those columns are ever read."""
    return Victim.objects.filter(case__in=cases)


def statistics_referrals(cases: QuerySet[Case]) -> QuerySet[Referral]:
    """Referrals to child protection made in `cases` (from `statistics_cases`)."""
    return Referral.objects.filter(case__in=cases)


# --- lists shared by the pages and the API ------------------------------------------------------

# The columns a victim list loads: codes, bands and consents, never an encrypted identity field.
VICTIM_LIST_FIELDS = (
    "pk",
    "case_id",
    "pseudonym",
    "gender",
    "age_band",
    "consent_sharing",
    "consent_referral",
    "consent_statistics",
)


def case_victims(case: Case) -> QuerySet[Victim]:
    """The case's victims for a list: listing them decrypts nothing."""
    return (
        Victim.objects.filter(case=case)
        .only(*VICTIM_LIST_FIELDS)
        .prefetch_related("consent_overrides")
    )


def case_accused(case: Case) -> QuerySet[Accused]:
    """The case's accused with their identifiers (in the order they were recorded)."""
    return Accused.objects.filter(case=case).prefetch_related(
        Prefetch("identifiers", queryset=AccusedIdentifier.objects.order_by("pk"))
    )


def alerts_for(principal: Any, *, unread: bool = False) -> QuerySet[Alert]:
    """A staff member's own alerts, newest first; none for an API client or anyone else."""
    me = user_pk(principal)
    if me is None:
        return Alert.objects.none()
    alerts = Alert.objects.filter(recipient_id=me)
    if unread:
        alerts = alerts.filter(read_at__isnull=True)
    return alerts.select_related("case")


def welfare_join_state(principal: Any, case: Case) -> str:
    """For one who sees the case's welfare part only (a child-protection officer): "member" when
    on the team, "waiting" while a request of theirs awaits a decision, "closed" when the case is
    closed or their role has no place on a team, else "ask"."""
    pk = user_pk(principal)
    if pk is None or getattr(principal, "role", "") not in TeamRole.values or not case.is_open:
        return "closed"
    if pk in case.team_user_ids():
        return "member"
    if TeamJoinRequest.objects.filter(
        case=case, user_id=pk, status=TeamJoinStatus.REQUESTED
    ).exists():
        return "waiting"
    return "ask"


@dataclass(frozen=True)
class AccusedMatch:
    """An accused whose identifier equals one asked about: which kind, which case. Carries no
    identifier value and no name (for intake's referral matching)."""

    kind: str
    case_id: int
    case_reference: str
    accused_label: str


def accused_identifier_pairs(case_id: int) -> list[tuple[str, str]]:
    """(kind, normalized value) of every identifier of the case's accused: a system read for
    matching (intake's late matching); show nothing of it to a person."""
    rows = AccusedIdentifier.objects.filter(accused__case_id=case_id).order_by("pk")
    return [(row.kind, row.value) for row in rows]


def find_accused_by_identifiers(values: list[tuple[str, str]]) -> dict[tuple[str, str], list[Any]]:
    """Accused in any case holding one of `values` ((kind, normalized value) pairs; kinds from
    `IdentifierKind`), by the blind index: {pair: [AccusedMatch, …]} for the pairs found.

    A system lookup (intake matching CyberTipline referrals): it checks no one's rights; show
    results to a person only through `has_perm` on the case.
    """
    field = AccusedIdentifier._meta.get_field("value_index")
    wanted: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, value in values:
        for candidate in field.candidates(value):
            wanted[(kind, candidate)] = (kind, value)
    if not wanted:
        return {}
    match = Q(pk__in=[])
    for kind in {kind for kind, _candidate in wanted}:
        match |= Q(kind=kind, value_index__in=[c for k, c in wanted if k == kind])
    found: dict[tuple[str, str], list[Any]] = defaultdict(list)
    rows = AccusedIdentifier.objects.filter(match).select_related("accused__case")
    for row in rows.order_by("accused__case__reference", "accused__label"):
        pair = wanted.get((row.kind, row.value_index))
        if pair is not None:
            found[pair].append(
                AccusedMatch(
                    kind=row.kind,
                    case_id=row.accused.case_id,
                    case_reference=row.accused.case.reference,
                    accused_label=row.accused.label,
                )
            )
    return dict(found)


# --- work queues (the home page) ----------------------------------------------------------------


def my_open_cases(principal: Any) -> QuerySet[Case]:
    """Open cases on whose team the person is, newest report first (none for API clients)."""
    me = user_pk(principal)
    if me is None:
        return Case.objects.none()
    return (
        visible_cases(principal)
        .filter(team__user_id=me, status=CaseStatus.OPEN)
        .distinct()
        .order_by("-reported_at", "-pk")
    )


def join_requests_to_decide(principal: Any) -> QuerySet[TeamJoinRequest]:
    """Requests to join the teams of cases the person oversees, that someone else made and
    that wait for a decision (nobody decides their own), oldest first."""
    me = user_pk(principal)
    if me is None:
        return TeamJoinRequest.objects.none()
    return (
        TeamJoinRequest.objects.filter(
            case_scope(principal, Perm.CASE_OVERSEE),
            status=TeamJoinStatus.REQUESTED,
        )
        .exclude(requested_by_id=me)
        .exclude(user_id=me)
        .select_related("case", "user")
        .order_by("requested_at", "pk")
    )


def referrals_for_officer(principal: Any) -> QuerySet[Referral]:
    """Referrals named to this child-protection officer that are not finished, oldest first."""
    me = user_pk(principal)
    if me is None:
        return Referral.objects.none()
    return (
        referral_queue(principal)
        .filter(officer_id=me, status__in=[ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED])
        .order_by("created_at", "pk")
    )
