"""Importing CyberTipline referrals: each referral all or nothing, idempotent by its report id,
routed to a district through the gazetteer, clustered by shared identifiers, and matched
against the banks, case evidence and accused identifiers in batches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from muhafiz.audit.actions import record
from muhafiz.catalogue.gazetteer import Gazetteer
from muhafiz.core.permissions import SYSTEM, Perm, check_perm, is_system
from muhafiz.intake.actions._common import _clock_for, _clock_rule
from muhafiz.intake.cybertips import BadTip, Tip, read_tips
from muhafiz.intake.models import (
    CLUSTERING_KINDS,
    Channel,
    Concern,
    CyberTip,
    IpCaptureEvent,
    Report,
    TipCluster,
    TipFile,
    TipIdentifier,
    TipIdentifierKind,
    TipMatch,
)

BATCH = 200  # referrals matched together against banks, evidence and accused


@dataclass
class ImportResult:
    """What one file gave: counts, and every referral refused with its reasons."""

    source: str
    imported: int = 0
    already_imported: int = 0
    refused: list[str] = field(default_factory=list)
    routed_to_districts: int = 0
    national_queue: int = 0
    matches: int = 0
    alerts: int = 0
    file_error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "imported": self.imported,
            "already_imported": self.already_imported,
            "refused": self.refused,
            "routed_to_districts": self.routed_to_districts,
            "national_queue": self.national_queue,
            "matches": self.matches,
            "alerts": self.alerts,
            "file_error": self.file_error,
        }


def _check_importer(actor: Any) -> None:
    """Referrals arrive for the whole country: the system (the operator's shell) or a person or
    client with INTAKE_HANDLE at national jurisdiction (the NCCIA desk)."""
    check_perm(actor, Perm.INTAKE_HANDLE)
    if not is_system(actor) and getattr(actor, "jurisdiction_level", "") != "national":
        raise PermissionDenied("intake.handle (national)")


def import_cybertips(actor: Any, source: IO[bytes], *, name: str = "") -> ImportResult:
    """Import every referral of one XML or CSV file (streamed). A referral already imported is
    skipped; a bad one is refused, named with every reason, and the others still import; a file
    that breaks off keeps what was imported before the break and says where."""
    _check_importer(actor)
    from muhafiz.intake.cybertips import TipFileError

    result = ImportResult(source=name[:300])
    gazetteer = Gazetteer.load()
    batch: list[Tip | BadTip] = []
    clocks: dict[str, Any] = {}
    try:
        for item in read_tips(source, name):
            batch.append(item)
            if len(batch) >= BATCH:
                _import_batch(actor, batch, result, gazetteer, clocks)
                batch = []
    except TipFileError as exc:
        result.file_error = str(exc)
    if batch:  # what was read before the end (or before the break)
        _import_batch(actor, batch, result, gazetteer, clocks)
    with transaction.atomic():
        record(
            actor,
            "intake.cybertips.import",
            source=result.source,
            imported=result.imported,
            already_imported=result.already_imported,
            refused=len(result.refused),
            national_queue=result.national_queue,
            matches=result.matches,
            file_error=bool(result.file_error),
        )
    return result


def _import_batch(
    actor: Any,
    batch: list[Tip | BadTip],
    result: ImportResult,
    gazetteer: Gazetteer,
    clocks: dict[str, Any],
) -> None:
    ids = [t.report_id for t in batch if isinstance(t, Tip)]
    known = set(
        CyberTip.objects.filter(report_id_ncmec__in=ids).values_list("report_id_ncmec", flat=True)
    )
    imported: list[tuple[CyberTip, Tip]] = []
    # One transaction a batch, one savepoint a referral: each referral is still all or nothing.
    with transaction.atomic():
        for item in batch:
            if isinstance(item, BadTip):
                result.refused.append(str(item))
                continue
            if item.report_id in known:
                result.already_imported += 1
                continue
            known.add(item.report_id)
            try:
                with transaction.atomic():
                    tip = _import_one(actor, item, gazetteer, result.source, clocks)
            except (ValidationError, IntegrityError) as exc:
                # A concurrent import of the same id, or a value a column refuses: name it.
                result.refused.append(f"report {item.report_id}: {exc}")
                continue
            result.imported += 1
            if tip.report.district_id is None:
                result.national_queue += 1
            else:
                result.routed_to_districts += 1
            imported.append((tip, item))
    if imported:
        found, alerts = _match(imported)
        result.matches += found
        result.alerts += alerts


def _identifiers(tip: Tip) -> list[tuple[str, str]]:
    pairs: set[tuple[str, str]] = set()
    pairs |= {(TipIdentifierKind.SCREEN_NAME, v.strip().lower()) for v in tip.screen_names}
    pairs |= {
        (TipIdentifierKind.PROFILE_URL, v.strip().lower().rstrip("/")) for v in tip.profile_urls
    }
    pairs |= {(TipIdentifierKind.IP, v) for v in tip.clustering_ips}
    pairs |= {(TipIdentifierKind.DEVICE, v) for v in tip.devices}
    pairs |= {(TipIdentifierKind.FILE_HASH, v) for v in tip.file_hashes}
    pairs |= {(TipIdentifierKind.EMAIL, v.strip().lower()) for v in tip.emails}
    pairs |= {(TipIdentifierKind.PHONE, v.strip()) for v in tip.phones}
    return sorted((kind, value[:300]) for kind, value in pairs if value)


def _import_one(
    actor: Any, item: Tip, gazetteer: Gazetteer, source: str, clocks: dict[str, Any]
) -> CyberTip:
    district_id = gazetteer.district_for(item.city, item.region, item.country)
    received_at = timezone.now()
    concern = _concern(item.incident_type)
    if concern not in clocks:  # the rule is read once an import, the deadline for each referral
        clocks[concern] = _clock_rule(concern)
    due_at, due_rule = _clock_for(concern, received_at, clocks[concern])
    identifiers = _identifiers(item)
    with transaction.atomic():
        report = Report.objects.create(
            reference=f"CT-{item.report_id}",
            channel=Channel.CYBERTIPLINE,
            district_id=district_id,
            concern=concern,
            account=_account(item),
            child_in_danger=False,
            links="\n".join(f["location"] for f in item.files if f["location"])[:5000],
            received_at=received_at,
            due_at=due_at,
            due_rule=due_rule,
        )
        tip = CyberTip.objects.create(
            report=report,
            report_id_ncmec=item.report_id,
            incident_type=item.incident_type,
            incident_at=item.incident_at,
            high_priority=item.high_priority,
            annotations=item.annotations,
            esp_name=item.esp_name,
            location_city=item.city,
            location_region=item.region,
            location_country=item.country,
            file_count=len(item.files),
            source_name=source[:300],
        )
        TipIdentifier.objects.bulk_create(
            [TipIdentifier(tip=tip, kind=kind, value=value) for kind, value in identifiers]
        )
        TipFile.objects.bulk_create(
            [
                TipFile(
                    tip=tip,
                    file_id=f["file_id"],
                    original_file_name=f["original_file_name"],
                    location=f["location"],
                    viewed_by_esp=f["viewed_by_esp"],
                    publicly_available=f["publicly_available"],
                    industry_classification=f["industry_classification"],
                    hashes=f["hashes"],
                    exif=f["exif"],
                )
                for f in item.files
            ]
        )
        IpCaptureEvent.objects.bulk_create(
            [
                IpCaptureEvent(
                    tip=tip,
                    ip_address=e["ip"],
                    event_name=e["event"][:30],
                    occurred_at=e["at"],
                    port=e["port"],
                    possible_proxy=e["proxy"],
                )
                for e in item.ip_events
            ]
        )
        _cluster(tip, [(k, v) for k, v in identifiers if k in CLUSTERING_KINDS])
        record(
            actor,
            "intake.report.cybertip",
            report,
            district=report.district.code if report.district is not None else "",
            channel=Channel.CYBERTIPLINE,
            concern=concern,
            cluster=tip.cluster_id,
            high_priority=item.high_priority,
        )
    return tip


def _concern(incident_type: str) -> str:
    """The queue's concern from the CyberTipline incident type."""
    text = incident_type.lower()
    if "trafficking" in text or "tourism" in text:
        return Concern.TRAFFICKING
    if "enticement" in text:
        return Concern.GROOMING
    return Concern.ONLINE_MATERIAL


def _account(item: Tip) -> str:
    """What the queue shows of a referral: the incident, the platform and the counts."""
    lines = [
        f"CyberTipline report {item.report_id}: {item.incident_type or 'incident type not given'}",
        f"Reported by: {item.esp_name or 'not given'}",
        f"Files: {len(item.files)}; IP capture events: {len(item.ip_events)}",
    ]
    if item.annotations:
        lines.append("Annotations: " + ", ".join(item.annotations))
    if item.incident_at:
        lines.append(f"Incident: {item.incident_at.isoformat()}")
    place = ", ".join(p for p in (item.city, item.region, item.country) if p)
    lines.append(f"Estimated location: {place or 'not given'}")
    return "\n".join(lines)


def _cluster(tip: CyberTip, keys: list[tuple[str, str]]) -> None:
    """Join the referral to the cluster of every earlier referral sharing one of `keys`,
    merging those clusters into the oldest; a referral sharing nothing starts its own."""
    clusters: set[int] = set()
    for start in range(0, len(keys), 200):
        match = Q(pk__in=[])
        by_kind: dict[str, list[str]] = {}
        for kind, value in keys[start : start + 200]:
            by_kind.setdefault(kind, []).append(value)
        for kind, values in by_kind.items():
            match |= Q(kind=kind, value__in=values)
        clusters |= set(
            TipIdentifier.objects.filter(match, tip__cluster__isnull=False)
            .exclude(tip=tip)
            .values_list("tip__cluster_id", flat=True)
            .distinct()
        )
    if not clusters:
        cluster = TipCluster.objects.create(size=1)
    else:
        target = min(clusters)
        others = sorted(clusters - {target})
        if others:
            CyberTip.objects.filter(cluster_id__in=others).update(cluster_id=target)
            TipCluster.objects.filter(pk__in=others).delete()
        cluster = TipCluster.objects.get(pk=target)
    tip.cluster = cluster
    tip.save(update_fields=["cluster"])
    cluster.size = CyberTip.objects.filter(cluster=cluster).count()
    cluster.save(update_fields=["size"])


def _match(imported: list[tuple[CyberTip, Tip]]) -> tuple[int, int]:
    """Match a batch's file hashes against the banks and case evidence, and its screen names
    and phones against accused identifiers; alert each hit case's team once per referral."""
    from muhafiz.cases import actions as cases
    from muhafiz.cases.identifiers import normalize_handle, normalize_phone
    from muhafiz.cases.models import AlertKind
    from muhafiz.cases.selectors import find_accused_by_identifiers
    from muhafiz.evidence.selectors import cases_holding_hashes
    from muhafiz.hashbank.selectors import banked_hashes

    hashes = sorted({h for _tip, item in imported for h in item.file_hashes})
    in_banks = banked_hashes(hashes) if hashes else {}
    in_cases = cases_holding_hashes(hashes) if hashes else {}
    wanted: list[tuple[str, str]] = []
    per_tip: dict[int, list[tuple[str, str]]] = {}
    for tip, item in imported:
        pairs = []
        for raw in item.screen_names:
            value = _normalized(normalize_handle, raw)
            if value:
                pairs.append(("handle", value))
        for raw in item.phones:
            value = _normalized(normalize_phone, raw)
            if value:
                pairs.append(("phone", value))
        per_tip[tip.pk] = pairs
        wanted += pairs
    accused = find_accused_by_identifiers(sorted(set(wanted))) if wanted else {}

    rows: list[TipMatch] = []
    notices: dict[tuple[int, int], Any] = {}
    for tip, item in imported:
        for value in item.file_hashes:
            for bank in in_banks.get(value, ()):
                rows.append(
                    TipMatch(tip=tip, kind="bank", detail=f"file hash in bank {bank}"[:200])
                )
            for case_id in sorted(in_cases.get(value, ())):
                rows.append(
                    TipMatch(
                        tip=tip,
                        kind="evidence",
                        case_id=case_id,
                        detail="file hash in case evidence",
                    )
                )
        for pair in per_tip[tip.pk]:
            for hit in accused.get(pair, ()):
                rows.append(
                    TipMatch(
                        tip=tip,
                        kind="accused",
                        case_id=hit.case_id,
                        detail=f"{hit.kind} of accused {hit.accused_label}"[:200],
                    )
                )
    for row in rows:
        if row.case_id is not None:
            notices.setdefault(
                (row.case_id, row.tip.pk),
                cases.TeamNotice(
                    case_id=row.case_id,
                    kind=AlertKind.REPORT_MATCH,
                    message=(
                        f"CyberTipline referral {row.tip.report_id_ncmec} "
                        f"({row.tip.report.reference}) matches this case"
                    ),
                    dedupe_key=f"intake.tipmatch:{row.tip.pk}:{row.case_id}",
                ),
            )
    if rows:
        TipMatch.objects.bulk_create(rows, ignore_conflicts=True)
    alerts = 0
    if notices:
        alerts = cases.raise_team_alerts(
            SYSTEM,
            list(notices.values()),
            ["investigator", "supervisor", "forensic_examiner"],
        )
    return len(rows), alerts


def _normalized(normalize: Any, raw: str) -> str:
    try:
        return str(normalize(raw))
    except ValidationError:
        return ""
