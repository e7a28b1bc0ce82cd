"""Reading intake: the queues a person may see, a report after the check, its conversation and
history, referral clusters and their IP capture events, and identity-free counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.http import Http404
from django.utils import timezone

from muhafiz.core.permissions import Perm, check_perm, has_perm, scope_filter
from muhafiz.intake.models import (
    CyberTip,
    IpCaptureEvent,
    Report,
    ReportMessage,
    ReportState,
    ReportTransition,
    TipCluster,
    TipIdentifierKind,
    TipMatch,
    TipMatchKind,
)

OPEN_STATES = (ReportState.NEW, ReportState.SCREENING, ReportState.REFERRED)


def visible_reports(principal: Any) -> QuerySet[Report]:
    """Reports of the queues `principal` handles (INTAKE_HANDLE by jurisdiction); the national
    queue (no district) only for national staff."""
    return Report.objects.filter(scope_filter(principal, Perm.INTAKE_HANDLE)).select_related(
        "district", "assigned_to"
    )


def queue(
    principal: Any,
    *,
    state: str = "",
    district: str = "",
    national: bool = False,
    mine: bool = False,
    channel: str = "",
) -> QuerySet[Report]:
    """The triage queue: open reports by default, urgent and overdue first."""
    reports = visible_reports(principal)
    if state == "all":
        pass
    elif state in ReportState.values:
        reports = reports.filter(state=state)
    else:
        reports = reports.filter(state__in=OPEN_STATES)
    if national:
        reports = reports.filter(district__isnull=True)
    elif district:
        reports = reports.filter(district__code=district)
    if mine:
        reports = reports.filter(assigned_to_id=getattr(principal, "pk", None))
    if channel:
        reports = reports.filter(channel=channel)
    return reports.order_by("-child_in_danger", "due_at", "-received_at", "pk")


def load_report(principal: Any, reference: str) -> Report:
    """A report by reference for someone who handles its queue: 404 when there is none, 403
    when it is another queue's."""
    report = (
        Report.objects.select_related("district__province", "assigned_to", "case")
        .filter(reference=reference)
        .first()
    )
    if report is None:
        raise Http404("no such report")
    check_perm(principal, Perm.INTAKE_HANDLE, report)
    return report


def conversation(report: Report) -> QuerySet[ReportMessage]:
    return ReportMessage.objects.filter(report=report).order_by("created_at", "pk")


def history(report: Report) -> QuerySet[ReportTransition]:
    return ReportTransition.objects.filter(report=report).select_related("by")


def is_overdue(report: Report) -> bool:
    return bool(report.is_open and report.due_at and report.due_at < timezone.now())


def cluster_of(report: Report) -> TipCluster | None:
    tip = CyberTip.objects.filter(report=report).select_related("cluster").first()
    return tip.cluster if tip is not None else None


@dataclass(frozen=True)
class ShownMatch:
    """One match of a referral, as its reader may see it: which of the referral's identifiers
    or file hashes (`identifier_kind`, `value`) was found where. `case` (a reference) and
    `accused` only for a case the reader may see; `scan` only when they may also see its
    evidence; `bank` for a hash bank."""

    kind: str
    identifier_kind: str
    value: str
    case: str | None = None
    accused: str = ""
    scan: int | None = None
    bank: str = ""

    @property
    def identifier_label(self) -> str:
        if self.identifier_kind in TipIdentifierKind.values:
            return str(TipIdentifierKind(self.identifier_kind).label)
        return "—"


@dataclass(frozen=True)
class ReferralMatches:
    """What a referral matched, for one reader: the matches they may see, and how many they may
    not (counted, never described: no case reference, accused, scan or value)."""

    shown: list[ShownMatch] = field(default_factory=list)
    hidden_in_cases: int = 0
    hidden_in_banks: int = 0

    @property
    def count(self) -> int:
        return len(self.shown) + self.hidden_in_cases + self.hidden_in_banks


def referral_matches(principal: Any, report: Report) -> ReferralMatches:
    """The matches found for `report`'s CyberTipline referral, for a reader who may already see
    the report (`load_report`). A case's match is shown to those the permission module lets
    see that case (CASE_VIEW on it), its scan to those who may see its evidence
    (EVIDENCE_VIEW); a bank's to those who may receive hash matches (HASH_MATCH). The rest are
    only counted."""
    from muhafiz.cases.selectors import visible_cases

    matches = list(TipMatch.objects.filter(tip__report=report))
    if not matches:
        return ReferralMatches()
    case_ids = {m.case_id for m in matches if m.case_id is not None}
    cases = {
        case.pk: case
        for case in visible_cases(principal).filter(pk__in=case_ids)
        if has_perm(principal, Perm.CASE_VIEW, case)
    }
    evidence_seen = {pk for pk, c in cases.items() if has_perm(principal, Perm.EVIDENCE_VIEW, c)}
    banks_seen = has_perm(principal, Perm.HASH_MATCH)
    shown: list[ShownMatch] = []
    hidden_in_cases = hidden_in_banks = 0
    for m in matches:
        if m.kind == TipMatchKind.BANK:
            if not banks_seen:
                hidden_in_banks += 1
                continue
            bank = m.detail.removeprefix("file hash in bank ")
            shown.append(ShownMatch(m.kind, m.identifier_kind, m.value, bank=bank))
        elif m.case_id in cases:
            shown.append(
                ShownMatch(
                    m.kind,
                    m.identifier_kind,
                    m.value,
                    case=cases[m.case_id].reference,
                    accused=m.accused_label,
                    scan=m.scan_id if m.case_id in evidence_seen else None,
                )
            )
        else:
            hidden_in_cases += 1
    return ReferralMatches(shown, hidden_in_cases, hidden_in_banks)


def cluster_reports(principal: Any, cluster: TipCluster) -> QuerySet[Report]:
    """The referrals of a cluster that `principal` may see."""
    return visible_reports(principal).filter(cybertip__cluster=cluster).order_by("reference")


def load_cluster(principal: Any, cluster_id: int) -> TipCluster:
    """A cluster, for someone who may see at least one of its referrals."""
    cluster = TipCluster.objects.filter(pk=cluster_id).first()
    if cluster is None:
        raise Http404("no such cluster")
    check_perm(principal, Perm.INTAKE_HANDLE)
    if not cluster_reports(principal, cluster).exists():
        raise Http404("no such cluster")
    return cluster


def cluster_ip_events(principal: Any, cluster: TipCluster) -> QuerySet[IpCaptureEvent]:
    """IP capture events of the cluster's referrals `principal` may see, for legal requests."""
    return (
        IpCaptureEvent.objects.filter(tip__report__in=cluster_reports(principal, cluster))
        .select_related("tip")
        .order_by("ip_address", "occurred_at", "pk")
    )


def report_counts() -> list[dict[str, Any]]:
    """Reports received per district, year, channel, state and referral, with no report in it:
    the figures a dashboard publishes (after its own suppression of small counts).

    Rows: {"district": code or "" (national queue), "year", "channel", "state", "referred_to",
    "reports"}. A system read; no one's rights are checked.
    """
    rows = (
        Report.objects.annotate(year=ExtractYear("received_at"))
        .values("district__code", "year", "channel", "state", "referred_to")
        .annotate(reports=Count("pk"))
        .order_by("district__code", "year", "channel", "state", "referred_to")
    )
    return [
        {
            "district": row["district__code"] or "",
            "year": row["year"],
            "channel": row["channel"],
            "state": row["state"],
            "referred_to": row["referred_to"],
            "reports": row["reports"],
        }
        for row in rows
    ]


def open_overdue(principal: Any) -> QuerySet[Report]:
    return visible_reports(principal).filter(
        Q(state__in=OPEN_STATES) & Q(due_at__lt=timezone.now())
    )
