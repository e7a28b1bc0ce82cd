"""API routes of the cases app (mounted under /api/v1/cases).

Every handler loads its object through `cases.selectors` (which checks the right on it with
`has_perm`) and writes through `cases.actions`, exactly like the pages. Victim identity is only
returned by the audited `POST …/victims/{code}/identity`, never in a URL or a list.
"""

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema, Status
from ninja.params import functions as params

from muhafiz.accounts.models import User
from muhafiz.cases import actions, selectors
from muhafiz.cases.models import (
    ACCUSED_IDENTIFIERS_MAX,
    CNIC_MAX_LENGTH,
    IDENTITY_PURPOSE_MAX_LENGTH,
    PERSON_PHONES_MAX,
    Accused,
    Alert,
    Case,
    ConsentOverride,
    Referral,
    SectionRule,
    StatusChange,
    TeamJoinRequest,
    TeamMember,
    Victim,
    Witness,
)
from muhafiz.cases.search import (
    IDENTIFIER_MAX_LENGTH,
    QUERY_MAX_LENGTH,
    STAGE_MAX_LENGTH,
    CaseSearch,
    search_cases,
)
from muhafiz.catalogue.models import Agency, District, Offence, PoliceStation
from muhafiz.core.api import MAX_OFFSET, api_requires, api_signed_in
from muhafiz.core.limits import max_length
from muhafiz.core.permissions import Perm, has_perm, user_pk

router = Router(tags=["cases"])

# Codes and names the API takes, as long as the columns that hold them.
_DISTRICT = max_length(District, "code")
_AGENCY = max_length(Agency, "code")
_USERNAME = max_length(User, "username")
# How many facts and offences one request names (a case, an offence suggestion, a section rule).
FACTS_MAX = 20
OFFENCES_MAX = 40
RULE_FACTS_MAX = 10
RULE_WEAKER_CODES_MAX = 10


def _reason(model: type[Model], field: str = "reason") -> Any:
    return Field(..., min_length=1, max_length=max_length(model, field))


# --- schemas ------------------------------------------------------------------------------------


class CaseIn(Schema):
    district: str = Field(..., max_length=_DISTRICT, description="District code, e.g. LHR")
    agency: str = Field(..., max_length=_AGENCY, description="Agency code, e.g. PB-POLICE")
    reported_at: dt.datetime
    police_station: int | None = None
    fir_number: str = Field("", max_length=max_length(Case, "fir_number"))
    summary: str = Field("", max_length=max_length(Case, "summary"))
    facts: list[str] = Field(default_factory=list, max_length=FACTS_MAX)
    offences: list[str] = Field(default_factory=list, max_length=OFFENCES_MAX)


class CasePatch(Schema):
    agency: str | None = Field(None, max_length=_AGENCY)
    police_station: int | None = None
    fir_number: str | None = Field(None, max_length=max_length(Case, "fir_number"))
    summary: str | None = Field(None, max_length=max_length(Case, "summary"))
    facts: list[str] | None = Field(None, max_length=FACTS_MAX)
    offences: list[str] | None = Field(None, max_length=OFFENCES_MAX)


class CaseSummaryOut(Schema):
    reference: str
    district: str
    status: str
    reported_at: dt.datetime


class TeamMemberOut(Schema):
    id: int
    user_id: int
    username: str
    team_role: str


class CaseContentOut(Schema):
    police_station: str | None
    agency: str
    fir_number: str
    summary: str
    facts: list[str]
    offences: list[str]
    team: list[TeamMemberOut]
    closed_at: dt.datetime | None


class VictimOut(Schema):
    code: str
    gender: str
    age_band: str
    consent_sharing: bool
    consent_referral: bool
    consent_statistics: bool
    overrides: list[str]


class ReferralOut(Schema):
    id: int
    victim: str
    status: str
    needs: str
    service: str | None
    officer_id: int | None
    consent_overridden: bool
    decision_note: str
    created_at: dt.datetime


class WelfareOut(Schema):
    victims: list[VictimOut]
    referrals: list[ReferralOut]


class CaseOut(CaseSummaryOut):
    """A case as the caller may see it: `content` only with the case right, `welfare` only
    with the welfare right."""

    content: CaseContentOut | None = None
    welfare: WelfareOut | None = None


class SuggestionOut(Schema):
    code: str
    title: str | None
    in_catalogue: bool
    applied: bool
    reasons: list[str]


class AdviceOut(Schema):
    suggestions: list[SuggestionOut]
    warnings: list[list[str]]


class CodesIn(Schema):
    codes: list[str] = Field(..., min_length=1, max_length=OFFENCES_MAX)


class ReasonIn(Schema):
    """A case closed or reopened, a member taken off the team (that reason is only audited)."""

    reason: str = _reason(StatusChange)


class TeamIn(Schema):
    username: str = Field(..., max_length=_USERNAME)
    team_role: str = Field(..., max_length=max_length(TeamMember, "team_role"))


class TeamRequestIn(Schema):
    team_role: str = Field(..., max_length=max_length(TeamJoinRequest, "team_role"))
    reason: str = Field(
        ...,
        max_length=max_length(TeamJoinRequest, "reason"),
        description="why the person needs to be on the team",
    )
    username: str = Field(
        "",
        max_length=_USERNAME,
        description="a colleague to add (team members only); empty: yourself",
    )


class TeamRequestOut(Schema):
    id: int
    username: str
    team_role: str
    reason: str
    requested_by: str
    status: str
    decided_by: str | None
    decision_note: str


class DecisionNoteIn(Schema):
    note: str = Field("", max_length=max_length(TeamJoinRequest, "decision_note"))


class VictimIn(Schema):
    name: str = Field("", max_length=max_length(Victim, "name"))
    cnic: str = Field("", max_length=CNIC_MAX_LENGTH, description="CNIC or B-form number")
    birth_date: dt.date | None = None
    estimated_age: int | None = Field(None, ge=0, le=120)
    guardian_name: str = Field("", max_length=max_length(Victim, "guardian_name"))
    address: str = Field("", max_length=max_length(Victim, "address"))
    phones: list[str] = Field(default_factory=list, max_length=PERSON_PHONES_MAX)
    gender: str = Field("unknown", max_length=max_length(Victim, "gender"))
    consent_sharing: bool = False
    consent_referral: bool = False
    consent_statistics: bool = False


class PurposeIn(Schema):
    purpose: str = Field(..., min_length=1, max_length=IDENTITY_PURPOSE_MAX_LENGTH)


class IdentityOut(Schema):
    code: str
    name: str
    cnic: str
    birth_date: dt.date | None
    guardian_name: str
    address: str
    phones: list[str]


class ConsentsIn(Schema):
    sharing: bool | None = None
    referral: bool | None = None
    statistics: bool | None = None


class OverrideIn(Schema):
    consent: str = Field(..., max_length=max_length(ConsentOverride, "consent"))
    reason: str = _reason(ConsentOverride)


class AccusedIn(Schema):
    name: str = Field("", max_length=max_length(Accused, "name"))
    aliases: str = Field("", max_length=max_length(Accused, "aliases"))
    cnic: str = Field("", max_length=CNIC_MAX_LENGTH)
    phones: list[str] = Field(default_factory=list, max_length=ACCUSED_IDENTIFIERS_MAX)
    handles: list[str] = Field(default_factory=list, max_length=ACCUSED_IDENTIFIERS_MAX)
    emails: list[str] = Field(default_factory=list, max_length=ACCUSED_IDENTIFIERS_MAX)
    addresses: str = Field("", max_length=max_length(Accused, "addresses"))
    status: str = Field("suspect", max_length=max_length(Accused, "status"))


class AccusedReplaceIn(Schema):
    """Every field of an accused, since all are replaced: erasing one is explicit ("" or [])."""

    name: str = Field(..., max_length=max_length(Accused, "name"))
    aliases: str = Field(..., max_length=max_length(Accused, "aliases"))
    cnic: str = Field(..., max_length=CNIC_MAX_LENGTH)
    phones: list[str] = Field(..., max_length=ACCUSED_IDENTIFIERS_MAX)
    handles: list[str] = Field(..., max_length=ACCUSED_IDENTIFIERS_MAX)
    emails: list[str] = Field(..., max_length=ACCUSED_IDENTIFIERS_MAX)
    addresses: str = Field(..., max_length=max_length(Accused, "addresses"))
    status: str = Field(..., max_length=max_length(Accused, "status"))


class AccusedOut(Schema):
    label: str
    status: str
    name: str
    aliases: str
    cnic: list[str]
    phones: list[str]
    handles: list[str]
    emails: list[str]
    addresses: str


class LinkOut(Schema):
    kind: str
    case: str
    district: str
    accused: str


class WitnessIn(Schema):
    name: str = Field(..., min_length=1, max_length=max_length(Witness, "name"))
    phones: list[str] = Field(default_factory=list, max_length=PERSON_PHONES_MAX)
    address: str = Field("", max_length=max_length(Witness, "address"))
    relation: str = Field("", max_length=max_length(Witness, "relation"))
    is_child: bool = False


class WitnessOut(Schema):
    label: str
    name: str
    phones: list[str]
    address: str
    relation: str
    is_child: bool


class ReferralIn(Schema):
    victim: str = Field(..., max_length=max_length(Victim, "pseudonym"), description="Victim code")
    needs: str = Field(..., min_length=1, max_length=max_length(Referral, "needs"))
    service: str | None = Field(None, max_length=_AGENCY, description="Agency code")
    officer: str | None = Field(None, max_length=_USERNAME, description="Username of the officer")


class NoteIn(Schema):
    note: str = Field("", max_length=max_length(Referral, "decision_note"))


class StatsRow(Schema):
    district: str
    age_band: str
    gender: str
    victims: int


class AlertOut(Schema):
    id: int
    case: str | None
    link: str
    kind: str
    message: str
    created_at: dt.datetime
    read: bool


# --- helpers ------------------------------------------------------------------------------------


def _who(request: HttpRequest) -> Any:
    return request.auth  # type: ignore[attr-defined]


def _catalogue_offences(codes: list[str]) -> list[Offence]:
    found = list(Offence.objects.filter(code__in=codes, active=True))
    missing = set(codes) - {o.code for o in found}
    if missing:
        from django.core.exceptions import ValidationError

        raise ValidationError({"offences": [f"Not in the catalogue: {', '.join(sorted(missing))}"]})
    return found


def _station(pk: int | None) -> PoliceStation | None:
    return None if pk is None else get_object_or_404(PoliceStation, pk=pk)


def case_out(principal: Any, case: Case) -> CaseOut:
    out = CaseOut(
        reference=case.reference,
        district=case.district.code,
        status=case.status,
        reported_at=case.reported_at,
    )
    if has_perm(principal, Perm.CASE_VIEW, case):
        out.content = CaseContentOut(
            police_station=case.police_station.name if case.police_station else None,
            agency=case.agency.code,
            fir_number=case.fir_number,
            summary=case.summary,
            facts=sorted(case.facts()),
            offences=sorted(case.offences.values_list("code", flat=True)),
            team=[_member_out(m) for m in case.team.select_related("user")],
            closed_at=case.closed_at,
        )
    if has_perm(principal, Perm.WELFARE_VIEW, case):
        out.welfare = WelfareOut(
            victims=[victim_out(v) for v in _victims(case)],
            referrals=[referral_out(r) for r in selectors.case_referrals(case)],
        )
    return out


def _member_out(member: TeamMember) -> TeamMemberOut:
    return TeamMemberOut(
        id=member.pk,
        user_id=member.user_id,
        username=member.user.username,
        team_role=member.team_role,
    )


def _victims(case: Case) -> list[Victim]:
    return list(selectors.case_victims(case))


def victim_out(victim: Victim) -> VictimOut:
    return VictimOut(
        code=victim.pseudonym,
        gender=victim.gender,
        age_band=victim.age_band,
        consent_sharing=victim.consent_sharing,
        consent_referral=victim.consent_referral,
        consent_statistics=victim.consent_statistics,
        overrides=sorted({o.consent for o in victim.consent_overrides.all()}),
    )


def referral_out(referral: Referral) -> ReferralOut:
    return ReferralOut(
        id=referral.pk,
        victim=referral.victim.pseudonym,
        status=referral.status,
        needs=referral.needs,
        service=referral.service.code if referral.service else None,
        officer_id=referral.officer_id,
        consent_overridden=referral.consent_override_id is not None,
        decision_note=referral.decision_note,
        created_at=referral.created_at,
    )


def accused_out(accused: Accused) -> AccusedOut:
    return AccusedOut(
        label=accused.label,
        status=accused.status,
        name=accused.name,
        aliases=accused.aliases,
        cnic=accused.identifier_values("cnic"),
        phones=accused.identifier_values("phone"),
        handles=accused.identifier_values("handle"),
        emails=accused.identifier_values("email"),
        addresses=accused.addresses,
    )


def witness_out(witness: Witness, *, identity: bool = True) -> WitnessOut:
    """A witness; a child witness's identity only for those who may see victims' identity."""
    hidden = witness.is_child and not identity
    return WitnessOut(
        label=witness.label,
        name="" if hidden else witness.name,
        phones=[] if hidden else [p for p in witness.phones.splitlines() if p],
        address="" if hidden else witness.address,
        relation=witness.relation,
        is_child=witness.is_child,
    )


def _load_victim(request: HttpRequest, reference: str, code: str) -> Victim:
    case = selectors.load_case_page(_who(request), reference)
    return selectors.load_victim(_who(request), case, code)


# --- cases --------------------------------------------------------------------------------------


class CaseQuery(Schema):
    """`q` matches part of a reference or FIR number; `identifier` an accused's CNIC, phone or
    handle exactly (through the blind index); the rest filter as the case list page does."""

    q: str = Field("", max_length=QUERY_MAX_LENGTH)
    status: str = ""
    identifier: str = Field("", max_length=IDENTIFIER_MAX_LENGTH)
    district: str = Field("", max_length=_DISTRICT)
    station: int | None = None
    stage: str = Field("", max_length=STAGE_MAX_LENGTH)
    overdue: str = ""
    offence: str = Field("", max_length=max_length(Offence, "code"))
    since: dt.date | None = None
    until: dt.date | None = None
    sort: str = "newest"


@router.get("/", response=list[CaseSummaryOut], summary="Cases the caller may see")
@api_signed_in
def list_cases(
    request: HttpRequest,
    filters: Query[CaseQuery],
    limit: int = params.Query(50, ge=1, le=MAX_OFFSET),
    offset: int = params.Query(0, ge=0, le=MAX_OFFSET),
) -> Any:
    """Page through with `offset` and `limit` (at most 200 a page). An accused's identifier is
    searched with POST /search, never in a URL (access logs keep URLs)."""
    if filters.identifier:
        raise ValidationError(
            {"identifier": ["Search by an accused's identifier with POST /api/v1/cases/search."]}
        )
    return _found(request, filters, limit, offset)


class CaseSearchIn(CaseQuery):
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


@router.post(
    "/search", response=list[CaseSummaryOut], summary="Search cases, by an accused's identifier too"
)
@api_signed_in
def search_cases_posted(request: HttpRequest, payload: CaseSearchIn) -> Any:
    """The list's filters in the body, so an accused's CNIC, phone or handle stays out of URLs."""
    return _found(request, payload, payload.limit, payload.offset)


def _found(request: HttpRequest, filters: CaseQuery, limit: int, offset: int) -> Any:
    found = search_cases(
        _who(request),
        CaseSearch(
            text=filters.q,
            identifier=filters.identifier,
            status=filters.status,
            district=filters.district,
            station_id=filters.station,
            stage=filters.stage,
            overdue=filters.overdue,
            offence=filters.offence,
            since=filters.since,
            until=filters.until,
            sort=filters.sort,
        ),
    )
    limit = max(1, min(limit, 200))
    return [
        CaseSummaryOut(
            reference=c.reference,
            district=c.district.code,
            status=c.status,
            reported_at=c.reported_at,
        )
        for c in found[offset : offset + limit]
    ]


@router.post("/", response={201: CaseOut}, summary="Open a case")
@api_requires(Perm.CASE_CREATE)
def create_case(request: HttpRequest, payload: CaseIn) -> Any:
    district = get_object_or_404(District, code=payload.district)
    agency = get_object_or_404(Agency, code=payload.agency)
    case = actions.create_case(
        _who(request),
        district=district,
        agency=agency,
        reported_at=payload.reported_at,
        police_station=_station(payload.police_station),
        fir_number=payload.fir_number,
        summary=payload.summary,
        facts=payload.facts,
        offences=_catalogue_offences(payload.offences),
        request=request,
    )
    return Status(201, case_out(_who(request), case))


@router.get("/alerts", response=list[AlertOut], summary="The caller's own alerts")
@api_signed_in
def my_alerts(request: HttpRequest, unread: bool = False) -> Any:
    alerts = selectors.alerts_for(_who(request), unread=unread)
    return [
        AlertOut(
            id=a.pk,
            case=a.case.reference if a.case is not None else None,
            link=a.link,
            kind=a.kind,
            message=a.text(),
            created_at=a.created_at,
            read=a.read_at is not None,
        )
        for a in alerts[:200]
    ]


@router.post("/alerts/{alert_id}/read", response={204: None}, summary="Mark an alert read")
@api_signed_in
def read_alert(request: HttpRequest, alert_id: int) -> Any:
    alert = get_object_or_404(Alert, pk=alert_id)
    actions.mark_alert_read(_who(request), alert)
    return Status(204, None)


@router.get("/referrals", response=list[ReferralOut], summary="Referrals the caller may see")
@api_requires(Perm.WELFARE_VIEW)
def referral_queue(request: HttpRequest, status: str = "", mine: bool = False) -> Any:
    referrals = selectors.referral_queue(_who(request), status)
    if mine:
        me = user_pk(_who(request))
        referrals = referrals.filter(officer_id=me) if me is not None else referrals.none()
    return [referral_out(r) for r in referrals[:200]]


@router.get("/statistics/victims", response=list[StatsRow], summary="Victims by age band")
@api_requires(Perm.STATS_VIEW)
def victim_statistics(request: HttpRequest) -> Any:
    return selectors.victim_statistics(_who(request))


class SectionRuleOut(Schema):
    id: int
    facts: list[str]
    offence_code: str
    weaker_codes: list[str]
    explanation: str
    source: str
    active: bool


class SectionRuleIn(Schema):
    facts: list[str] = Field(..., min_length=1, max_length=RULE_FACTS_MAX)
    offence_code: str = Field(..., max_length=max_length(SectionRule, "offence_code"))
    weaker_codes: list[str] = Field(default_factory=list, max_length=RULE_WEAKER_CODES_MAX)
    explanation: str = Field(..., min_length=1, max_length=max_length(SectionRule, "explanation"))
    source: str = Field("", max_length=max_length(SectionRule, "source"))


class ActiveIn(Schema):
    active: bool


@router.get("/section-rules", response=list[SectionRuleOut], summary="Section rules")
@api_signed_in
def section_rules(request: HttpRequest) -> Any:
    from muhafiz.cases.models import SectionRule

    return list(SectionRule.objects.all())


@router.post("/section-rules", response={201: SectionRuleOut}, summary="Add a section rule")
@api_requires(Perm.CATALOGUE_EDIT)
def add_section_rule(request: HttpRequest, payload: SectionRuleIn) -> Any:
    rule = actions.add_section_rule(_who(request), request=request, **payload.model_dump())
    return Status(201, rule)


@router.post(
    "/section-rules/{rule_id}/active", response=SectionRuleOut, summary="Retire or activate"
)
@api_requires(Perm.CATALOGUE_EDIT)
def set_section_rule_active(request: HttpRequest, rule_id: int, payload: ActiveIn) -> Any:
    from muhafiz.cases.models import SectionRule

    rule = get_object_or_404(SectionRule, pk=rule_id)
    return actions.set_section_rule_active(_who(request), rule, payload.active, request=request)


@router.get("/{reference}", response=CaseOut, summary="One case, as far as the caller may see")
@api_signed_in
def get_case(request: HttpRequest, reference: str) -> Any:
    case = selectors.load_case_page(_who(request), reference)
    return case_out(_who(request), case)


@router.patch("/{reference}", response=CaseOut, summary="Change what is recorded")
@api_requires(Perm.CASE_EDIT)
def update_case(request: HttpRequest, reference: str, payload: CasePatch) -> Any:
    case = selectors.find_case(_who(request), reference)
    given = payload.model_dump(exclude_unset=True)
    kwargs: dict[str, Any] = {}
    if "agency" in given and payload.agency is not None:
        kwargs["agency"] = get_object_or_404(Agency, code=payload.agency)
    if "police_station" in given:
        kwargs["police_station"] = _station(payload.police_station)
    for name in ("fir_number", "summary", "facts"):
        if name in given:
            kwargs[name] = given[name]
    if "offences" in given and payload.offences is not None:
        kwargs["offences"] = _catalogue_offences(payload.offences)
    actions.update_case(_who(request), case, request=request, **kwargs)
    return case_out(_who(request), case)


@router.get("/{reference}/suggestions", response=AdviceOut, summary="Sections the facts suggest")
@api_requires(Perm.CASE_VIEW)
def suggestions(request: HttpRequest, reference: str) -> Any:
    case = selectors.load_case(_who(request), reference, Perm.CASE_VIEW)
    advice = selectors.case_section_advice(case)
    return AdviceOut(
        suggestions=[
            SuggestionOut(
                code=s.code,
                title=s.offence.title if s.offence else None,
                in_catalogue=s.offence is not None,
                applied=s.applied,
                reasons=s.reasons,
            )
            for s in advice.suggestions
        ],
        warnings=[list(w) for w in advice.warnings],
    )


@router.post("/{reference}/offences", response=CaseOut, summary="Add offences by code")
@api_requires(Perm.CASE_EDIT)
def add_offences(request: HttpRequest, reference: str, payload: CodesIn) -> Any:
    case = selectors.find_case(_who(request), reference)
    actions.add_offences(_who(request), case, payload.codes, request=request)
    return case_out(_who(request), case)


@router.post("/{reference}/close", response=CaseOut, summary="Close with a reason")
@api_requires(Perm.CASE_EDIT)
def close_case(request: HttpRequest, reference: str, payload: ReasonIn) -> Any:
    case = selectors.find_case(_who(request), reference)
    actions.close_case(_who(request), case, payload.reason, request=request)
    return case_out(_who(request), case)


@router.post("/{reference}/reopen", response=CaseOut, summary="Reopen with a reason")
@api_requires(Perm.CASE_EDIT)
def reopen_case(request: HttpRequest, reference: str, payload: ReasonIn) -> Any:
    case = selectors.find_case(_who(request), reference)
    actions.reopen_case(_who(request), case, payload.reason, request=request)
    return case_out(_who(request), case)


# --- team ---------------------------------------------------------------------------------------


@router.get("/{reference}/team", response=list[TeamMemberOut], summary="The case team")
@api_requires(Perm.CASE_VIEW)
def team(request: HttpRequest, reference: str) -> Any:
    case = selectors.load_case(_who(request), reference, Perm.CASE_VIEW)
    return [_member_out(m) for m in case.team.select_related("user")]


@router.post(
    "/{reference}/team", response={201: TeamMemberOut}, summary="Add to the team (supervisors)"
)
@api_requires(Perm.CASE_OVERSEE)
def add_team_member(request: HttpRequest, reference: str, payload: TeamIn) -> Any:
    case = selectors.find_case(_who(request), reference)
    member = actions.add_team_member(
        _who(request), case, payload.username, payload.team_role, request=request
    )
    return Status(201, _member_out(member))


def _join_out(join: TeamJoinRequest) -> TeamRequestOut:
    return TeamRequestOut(
        id=join.pk,
        username=join.user.username,
        team_role=join.team_role,
        reason=join.reason,
        requested_by=join.requested_by.username,
        status=join.status,
        decided_by=join.decided_by.username if join.decided_by else None,
        decision_note=join.decision_note,
    )


@router.get(
    "/{reference}/team/requests",
    response=list[TeamRequestOut],
    summary="Requests to join the case team",
)
@api_requires(Perm.CASE_VIEW)
def team_requests(request: HttpRequest, reference: str) -> Any:
    case = selectors.load_case(_who(request), reference, Perm.CASE_VIEW)
    joins = case.join_requests.select_related("user", "requested_by", "decided_by")
    return [_join_out(j) for j in joins[:200]]


@router.post(
    "/{reference}/team/requests",
    response={201: TeamRequestOut},
    summary="Ask to join the case team; a supervisor decides",
)
@api_signed_in
def request_team_join(request: HttpRequest, reference: str, payload: TeamRequestIn) -> Any:
    case = selectors.load_case_page(_who(request), reference)
    join = actions.request_team_join(
        _who(request),
        case,
        payload.team_role,
        payload.reason,
        user=payload.username or None,
        request=request,
    )
    return Status(201, _join_out(join))


@router.post(
    "/{reference}/team/requests/{request_id}/{decision}",
    response=TeamRequestOut,
    summary="Approve or refuse a request to join (supervisors)",
)
@api_requires(Perm.CASE_OVERSEE)
def decide_team_join(
    request: HttpRequest,
    reference: str,
    request_id: int,
    decision: Literal["approve", "refuse"],
    payload: DecisionNoteIn,
) -> Any:
    case = selectors.find_case(_who(request), reference)
    join = get_object_or_404(TeamJoinRequest, case=case, pk=request_id)
    actions.decide_team_join(
        _who(request), join, decision == "approve", payload.note, request=request
    )
    return _join_out(join)


@router.post(
    "/{reference}/team/{member_id}/remove", response={204: None}, summary="Take off the team"
)
@api_requires(Perm.CASE_EDIT)
def remove_team_member(
    request: HttpRequest, reference: str, member_id: int, payload: ReasonIn
) -> Any:
    case = selectors.find_case(_who(request), reference)
    member = get_object_or_404(TeamMember, case=case, pk=member_id)
    actions.remove_team_member(_who(request), member, payload.reason, request=request)
    return Status(204, None)


# --- victims ------------------------------------------------------------------------------------


@router.get("/{reference}/victims", response=list[VictimOut], summary="Victims, by code only")
@api_signed_in
def victims(request: HttpRequest, reference: str) -> Any:
    case = selectors.load_case_page(_who(request), reference)
    return [victim_out(v) for v in _victims(case)]


@router.post("/{reference}/victims", response={201: VictimOut}, summary="Record a victim")
@api_requires(Perm.CASE_EDIT, Perm.VICTIM_IDENTITY)
def add_victim(request: HttpRequest, reference: str, payload: VictimIn) -> Any:
    case = selectors.find_case(_who(request), reference)
    victim = actions.add_victim(
        _who(request),
        case,
        actions.VictimIdentity(
            name=payload.name,
            cnic=payload.cnic,
            birth_date=payload.birth_date,
            guardian_name=payload.guardian_name,
            address=payload.address,
            phones=payload.phones,
            estimated_age=payload.estimated_age,
        ),
        gender=payload.gender,
        consent_sharing=payload.consent_sharing,
        consent_referral=payload.consent_referral,
        consent_statistics=payload.consent_statistics,
        request=request,
    )
    return Status(201, victim_out(victim))


@router.get("/{reference}/victims/{code}", response=VictimOut, summary="One victim, by code")
@api_signed_in
def victim(request: HttpRequest, reference: str, code: str) -> Any:
    return victim_out(_load_victim(request, reference, code))


@router.post(
    "/{reference}/victims/{code}/identity",
    response=IdentityOut,
    summary="Read a victim's identity (audited; needs a purpose)",
)
@api_requires(Perm.VICTIM_IDENTITY)
def victim_identity(request: HttpRequest, reference: str, code: str, payload: PurposeIn) -> Any:
    found = _load_victim(request, reference, code)
    identity = actions.reveal_victim_identity(
        _who(request), found, payload.purpose, request=request
    )
    return IdentityOut(code=identity.pop("pseudonym"), **identity)


class IdentityIn(Schema):
    """Every identity field, since all are replaced: erasing one is explicit ("" or null)."""

    name: str = Field(..., max_length=max_length(Victim, "name"))
    cnic: str = Field(..., max_length=CNIC_MAX_LENGTH, description="CNIC or B-form number")
    birth_date: dt.date | None = Field(...)
    estimated_age: int | None = Field(..., ge=0, le=120)
    guardian_name: str = Field(..., max_length=max_length(Victim, "guardian_name"))
    address: str = Field(..., max_length=max_length(Victim, "address"))
    phones: list[str] = Field(..., max_length=PERSON_PHONES_MAX)


@router.put(
    "/{reference}/victims/{code}/identity",
    response=VictimOut,
    summary="Replace a victim's identity fields (audited; returns no identity)",
)
@api_requires(Perm.CASE_EDIT, Perm.VICTIM_IDENTITY)
def replace_victim_identity(
    request: HttpRequest, reference: str, code: str, payload: IdentityIn
) -> Any:
    case = selectors.find_case(_who(request), reference)
    found = selectors.load_victim(_who(request), case, code)
    actions.update_victim_identity(
        _who(request), found, actions.VictimIdentity(**payload.model_dump()), request=request
    )
    return victim_out(found)


@router.post("/{reference}/victims/{code}/consents", response=VictimOut, summary="Set consents")
@api_requires(Perm.VICTIM_CONSENT)
def set_consents(request: HttpRequest, reference: str, code: str, payload: ConsentsIn) -> Any:
    found = _load_victim(request, reference, code)
    actions.set_victim_consents(
        _who(request),
        found,
        sharing=payload.sharing,
        referral=payload.referral,
        statistics=payload.statistics,
        request=request,
    )
    return victim_out(found)


@router.post(
    "/{reference}/victims/{code}/overrides",
    response={201: VictimOut},
    summary="A supervisor acts without a consent, with a reason",
)
@api_requires(Perm.CASE_EDIT)
def override_consent(request: HttpRequest, reference: str, code: str, payload: OverrideIn) -> Any:
    found = _load_victim(request, reference, code)
    actions.override_consent(_who(request), found, payload.consent, payload.reason, request=request)
    return Status(201, victim_out(found))


# --- accused and witnesses ----------------------------------------------------------------------


def _accused_qs(case: Case) -> Any:
    return selectors.case_accused(case)


@router.get("/{reference}/accused", response=list[AccusedOut], summary="Accused and suspects")
@api_requires(Perm.CASE_VIEW)
def accused_list(request: HttpRequest, reference: str) -> Any:
    case = selectors.load_case(_who(request), reference, Perm.CASE_VIEW)
    return [accused_out(a) for a in _accused_qs(case)]


@router.post("/{reference}/accused", response={201: AccusedOut}, summary="Record an accused")
@api_requires(Perm.CASE_EDIT)
def add_accused(request: HttpRequest, reference: str, payload: AccusedIn) -> Any:
    case = selectors.find_case(_who(request), reference)
    accused = actions.add_accused(
        _who(request),
        case,
        actions.AccusedDetails(
            name=payload.name,
            aliases=payload.aliases,
            cnic=payload.cnic,
            phones=payload.phones,
            handles=payload.handles,
            emails=payload.emails,
            addresses=payload.addresses,
            status=payload.status,
        ),
        request=request,
    )
    return Status(201, accused_out(accused))


@router.get("/{reference}/accused/{label}", response=AccusedOut, summary="One accused")
@api_requires(Perm.CASE_VIEW)
def accused_detail(request: HttpRequest, reference: str, label: str) -> Any:
    case = selectors.load_case(_who(request), reference, Perm.CASE_VIEW)
    return accused_out(get_object_or_404(_accused_qs(case), label=label))


@router.put("/{reference}/accused/{label}", response=AccusedOut, summary="Replace an accused")
@api_requires(Perm.CASE_EDIT)
def replace_accused(
    request: HttpRequest, reference: str, label: str, payload: AccusedReplaceIn
) -> Any:
    case = selectors.find_case(_who(request), reference)
    accused = get_object_or_404(Accused, case=case, label=label)
    actions.update_accused(
        _who(request), accused, actions.AccusedDetails(**payload.model_dump()), request=request
    )
    return accused_out(get_object_or_404(_accused_qs(case), pk=accused.pk))


@router.get(
    "/{reference}/accused/{label}/links",
    response=list[LinkOut],
    summary="Other cases whose accused share a CNIC, phone or handle",
)
@api_requires(Perm.CASE_VIEW)
def accused_links(request: HttpRequest, reference: str, label: str) -> Any:
    case = selectors.load_case(_who(request), reference, Perm.CASE_VIEW)
    accused = get_object_or_404(Accused, case=case, label=label)
    return [
        LinkOut(
            kind=s.kind, case=s.case_reference, district=s.district_code, accused=s.accused_label
        )
        for s in selectors.find_cases_sharing_identifiers(accused)
    ]


@router.get("/{reference}/witnesses", response=list[WitnessOut], summary="Witnesses")
@api_requires(Perm.CASE_VIEW)
def witnesses(request: HttpRequest, reference: str) -> Any:
    case = selectors.load_case(_who(request), reference, Perm.CASE_VIEW)
    identity = has_perm(_who(request), Perm.VICTIM_IDENTITY, case)
    return [witness_out(w, identity=identity) for w in Witness.objects.filter(case=case)]


@router.post("/{reference}/witnesses", response={201: WitnessOut}, summary="Record a witness")
@api_requires(Perm.CASE_EDIT)
def add_witness(request: HttpRequest, reference: str, payload: WitnessIn) -> Any:
    case = selectors.find_case(_who(request), reference)
    witness = actions.add_witness(
        _who(request),
        case,
        name=payload.name,
        phones=payload.phones,
        address=payload.address,
        relation=payload.relation,
        is_child=payload.is_child,
        request=request,
    )
    return Status(201, witness_out(witness))


# --- referrals ----------------------------------------------------------------------------------


@router.get("/{reference}/referrals", response=list[ReferralOut], summary="Referrals")
@api_requires(Perm.WELFARE_VIEW)
def referrals(request: HttpRequest, reference: str) -> Any:
    case = selectors.load_case(_who(request), reference, Perm.WELFARE_VIEW)
    return [referral_out(r) for r in selectors.case_referrals(case)]


@router.post("/{reference}/referrals", response={201: ReferralOut}, summary="Refer a victim")
@api_requires(Perm.CASE_EDIT)
def refer(request: HttpRequest, reference: str, payload: ReferralIn) -> Any:
    case = selectors.find_case(_who(request), reference)
    referral = actions.refer_victim(
        _who(request),
        payload.victim,
        case=case,
        needs=payload.needs,
        service=get_object_or_404(Agency, code=payload.service) if payload.service else None,
        officer=payload.officer or None,
        request=request,
    )
    return Status(201, referral_out(referral))


@router.post(
    "/{reference}/referrals/{referral_id}/{decision}",
    response=ReferralOut,
    summary="Accept, reject or complete a referral",
)
@api_requires(Perm.WELFARE_EDIT)
def decide(
    request: HttpRequest, reference: str, referral_id: int, decision: str, payload: NoteIn
) -> Any:
    case = selectors.find_case(_who(request), reference)
    referral = actions.decide_referral(
        _who(request), referral_id, decision, payload.note, case=case, request=request
    )
    return referral_out(referral)
