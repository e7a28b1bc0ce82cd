"""Importing CyberTipline referrals: each referral all or nothing, idempotent by its report id,
routed to a district through the gazetteer, clustered by shared identifiers, and matched
against the banks, case evidence and accused identifiers in batches."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, connection, models, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_noop, override

from muhafiz.audit.actions import ObjectRef, record, record_many
from muhafiz.catalogue.gazetteer import Gazetteer
from muhafiz.catalogue.models import District
from muhafiz.core.permissions import SYSTEM, Perm, check_perm, is_national
from muhafiz.core.words import in_words, moment, phrase
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
    TipMatchKind,
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
    if not is_national(actor):
        raise PermissionDenied("intake.handle (national)")


@dataclass
class _Run:
    """What every batch of one import shares, read once."""

    actor: Any
    result: ImportResult
    gazetteer: Gazetteer
    district_codes: dict[int, str]
    clocks: dict[str, Any] = field(default_factory=dict)


def import_cybertips(actor: Any, source: IO[bytes], *, name: str = "") -> ImportResult:
    """Import every referral of one XML or CSV file (streamed). A referral already imported is
    skipped; a bad one is refused, named with every reason, and the others still import; a file
    that breaks off keeps what was imported before the break and says where."""
    _check_importer(actor)
    from muhafiz.intake.cybertips import TipFileError

    result = ImportResult(source=name[:300])
    run = _Run(
        actor=actor,
        result=result,
        gazetteer=Gazetteer.load(),
        district_codes=dict(District.objects.values_list("pk", "code")),
    )
    batch: list[Tip | BadTip] = []
    try:
        for item in read_tips(source, name):
            batch.append(item)
            if len(batch) >= BATCH:
                _import_batch(run, batch)
                batch = []
    except TipFileError as exc:
        result.file_error = str(exc)
    if batch:  # what was read before the end (or before the break)
        _import_batch(run, batch)
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


def _import_batch(run: _Run, batch: list[Tip | BadTip]) -> None:
    result = run.result
    ids = [t.report_id for t in batch if isinstance(t, Tip)]
    known = set(
        CyberTip.objects.filter(report_id_ncmec__in=ids).values_list("report_id_ncmec", flat=True)
    )
    fresh: list[Tip] = []
    for item in batch:
        if isinstance(item, BadTip):
            result.refused.append(str(item))
        elif item.report_id in known:
            result.already_imported += 1
        else:
            known.add(item.report_id)
            fresh.append(item)
    if not fresh:
        return
    try:  # the whole batch in a few statements a table ...
        with transaction.atomic():
            imported = _write_tips(run, fresh)
    except (ValidationError, IntegrityError, DataError):
        # ... unless the database refuses one (a concurrent import of the same id, a value a
        # column refuses): then one referral at a time, each all or nothing, to name it.
        imported = []
        for item in fresh:
            try:
                with transaction.atomic():
                    imported += _write_tips(run, [item])
            except (ValidationError, IntegrityError, DataError) as exc:
                result.refused.append(f"report {item.report_id}: {exc}")
    result.imported += len(imported)
    for tip, _item in imported:
        if tip.report.district_id is None:
            result.national_queue += 1
        else:
            result.routed_to_districts += 1
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
    pairs |= {(TipIdentifierKind.PHONE, _phone_key(v)) for v in tip.phones}
    return sorted((kind, value[:300]) for kind, value in pairs if value)


def _phone_key(raw: str) -> str:
    """A phone as E.164 when it is one (so a phone added to a case later finds the referral by
    equality), else as given."""
    from muhafiz.cases.identifiers import normalize_phone

    return _normalized(normalize_phone, raw) or raw.strip()


def _write_tips(run: _Run, items: list[Tip]) -> list[tuple[CyberTip, Tip]]:
    """Write referrals with their identifiers, files and IP events, clustered and audited one
    by one, in one statement a table (inside the caller's transaction)."""
    received_at = timezone.now()
    reports = []
    for item in items:
        concern = _concern(item.incident_type)
        if concern not in run.clocks:  # the rule is read once an import
            run.clocks[concern] = _clock_rule(concern)
        due_at, due_rule = _clock_for(concern, received_at, run.clocks[concern])
        reports.append(
            Report(
                reference=f"CT-{item.report_id}",
                channel=Channel.CYBERTIPLINE,
                district_id=run.gazetteer.district_for(item.city, item.region, item.country),
                concern=concern,
                account=_account(lines := _account_lines(item)),
                account_lines=json.dumps(lines, ensure_ascii=False),
                child_in_danger=False,
                links="\n".join(f["location"] for f in item.files if f["location"])[:5000],
                received_at=received_at,
                due_at=due_at,
                due_rule=due_rule,
            )
        )
    Report.objects.bulk_create(reports)
    identifiers = [_identifiers(item) for item in items]
    clusters = _clusters_for(
        [[p for p in pairs if p[0] in CLUSTERING_KINDS] for pairs in identifiers]
    )
    tips = [
        CyberTip(
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
            source_name=run.result.source,
            cluster_id=cluster_id,
        )
        for report, item, cluster_id in zip(reports, items, clusters, strict=True)
    ]
    CyberTip.objects.bulk_create(tips)
    _count_cluster_sizes(set(clusters))
    _insert(
        TipIdentifier,
        ("tip_id", "kind", "value"),
        [
            (tip.pk, kind, value)
            for tip, pairs in zip(tips, identifiers, strict=True)
            for kind, value in pairs
        ],
    )
    _insert(
        TipFile,
        (
            "tip_id",
            "file_id",
            "original_file_name",
            "location",
            "viewed_by_esp",
            "publicly_available",
            "industry_classification",
            "hashes",
            "exif",
        ),
        [
            (
                tip.pk,
                f["file_id"],
                f["original_file_name"],
                f["location"],
                f["viewed_by_esp"],
                f["publicly_available"],
                f["industry_classification"],
                f["hashes"],
                f["exif"],
            )
            for tip, item in zip(tips, items, strict=True)
            for f in item.files
        ],
    )
    _insert(
        IpCaptureEvent,
        ("tip_id", "ip_address", "event_name", "occurred_at", "port", "possible_proxy"),
        [
            (tip.pk, e["ip"], e["event"][:30], e["at"], e["port"], e["proxy"])
            for tip, item in zip(tips, items, strict=True)
            for e in item.ip_events
        ],
    )
    record_many(
        run.actor,
        "intake.report.cybertip",
        [
            (
                # By reference: the account is generated from codes and counts, so the check of
                # an object's encrypted fields against the details has nothing to find.
                ObjectRef("intake.report", str(report.pk), report.reference),
                {
                    "district": run.district_codes.get(report.district_id or 0, ""),
                    "channel": Channel.CYBERTIPLINE,
                    "concern": report.concern,
                    "cluster": tip.cluster_id,
                    "high_priority": tip.high_priority,
                },
            )
            for report, tip in zip(reports, tips, strict=True)
        ],
    )
    return list(zip(tips, items, strict=True))


def _insert(model: type[models.Model], names: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows of a model in one `executemany`. The ORM's `bulk_create` compiles every
    value of every row, which took most of an import's time (30 identifiers and 12 files a
    referral); here only JSON and date-time values go through their field's preparation."""
    if not rows:
        return
    fields = [cast("models.Field[Any, Any]", model._meta.get_field(name)) for name in names]
    prepared = [
        index
        for index, f in enumerate(fields)
        if isinstance(f, models.JSONField | models.DateTimeField)
    ]
    values: list[list[Any]] = [list(row) for row in rows]
    for row in values if prepared else ():
        for index in prepared:
            row[index] = fields[index].get_db_prep_save(row[index], connection)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ({marks})",  # noqa: S608 - names from the model, values as parameters
            values,
        )


def _concern(incident_type: str) -> str:
    """The queue's concern from the CyberTipline incident type."""
    text = incident_type.lower()
    if "trafficking" in text or "tourism" in text:
        return Concern.TRAFFICKING
    if "enticement" in text:
        return Concern.GROOMING
    return Concern.ONLINE_MATERIAL


_NOT_GIVEN = gettext_noop("not given")


def _account_lines(item: Tip) -> list[dict[str, Any]]:
    """What the queue shows of a referral (the incident, the platform and the counts), as
    untranslated messages with their values: each reader sees it in their language
    (`Report.account_in_words`). The referral's own data (incident type, platform, place) is
    shown as NCMEC gave it."""
    not_given = phrase(_NOT_GIVEN)
    lines = [
        phrase(
            gettext_noop("CyberTipline report %(report)s: %(incident)s"),
            report=item.report_id,
            incident=item.incident_type or phrase(gettext_noop("incident type not given")),
        ),
        phrase(gettext_noop("Reported by: %(platform)s"), platform=item.esp_name or not_given),
        phrase(
            gettext_noop("Files: %(files)s; IP capture events: %(ip_events)s"),
            files=len(item.files),
            ip_events=len(item.ip_events),
        ),
    ]
    if item.annotations:
        lines.append(
            phrase(
                gettext_noop("Annotations: %(annotations)s"),
                annotations=", ".join(item.annotations),
            )
        )
    if item.incident_at:
        lines.append(phrase(gettext_noop("Incident: %(when)s"), when=moment(item.incident_at)))
    place = ", ".join(p for p in (item.city, item.region, item.country) if p)
    lines.append(phrase(gettext_noop("Estimated location: %(place)s"), place=place or not_given))
    return lines


def _account(lines: list[dict[str, Any]]) -> str:
    """The same summary in English, kept as the report's account: what the API's raw field, a
    case opened from the referral and any reader without the messages get."""
    with override(None):
        return "\n".join(in_words(line["msg"], line["params"]) for line in lines)


def _clusters_for(keys_per_tip: list[list[tuple[str, str]]]) -> list[int]:
    """The cluster of each new referral: referrals sharing a key (with each other or with
    referrals already imported) join one cluster, clusters a referral bridges merge into the
    oldest, and a referral sharing nothing starts its own. Sizes are counted after the
    referrals are written (`_count_cluster_sizes`)."""
    wanted: dict[str, set[str]] = {}
    for keys in keys_per_tip:
        for kind, value in keys:
            wanted.setdefault(kind, set()).add(value)
    known: dict[tuple[str, str], set[int]] = {}
    for kind, values in wanted.items():
        # Two look-ups, each by an index: the referrals holding these values ((kind, value)),
        # then their clusters (by referral id). Joined in one statement, PostgreSQL expected
        # thousands of matches and read every referral to hash them, each batch of 500 values
        # (by 100,000 referrals, most of the import's time on the server).
        holders: dict[int, set[str]] = {}
        ordered = sorted(values)
        for start in range(0, len(ordered), 500):
            for value, tip_id in TipIdentifier.objects.filter(
                kind=kind, value__in=ordered[start : start + 500]
            ).values_list("value", "tip_id"):
                holders.setdefault(tip_id, set()).add(value)
        tip_ids = sorted(holders)
        for start in range(0, len(tip_ids), 500):
            for tip_id, cluster_id in CyberTip.objects.filter(
                pk__in=tip_ids[start : start + 500], cluster__isnull=False
            ).values_list("pk", "cluster_id"):
                for value in holders[tip_id]:
                    known.setdefault((kind, value), set()).add(cluster_id)

    parent: dict[Any, Any] = {}

    def root(node: Any) -> Any:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    first_holder: dict[tuple[str, str], Any] = {}
    for index, keys in enumerate(keys_per_tip):
        root(("tip", index))
        for key in keys:
            for node in [("tip", index), *(("cluster", c) for c in known.get(key, ()))]:
                holder = first_holder.setdefault(key, node)
                parent[root(node)] = root(holder)

    groups: dict[Any, list[Any]] = {}
    for node in list(parent):
        groups.setdefault(root(node), []).append(node)
    chosen: dict[Any, int] = {}  # group root → cluster id
    fresh_roots = []
    for group_root, nodes in groups.items():
        existing = sorted(n[1] for n in nodes if n[0] == "cluster")
        if not existing:
            fresh_roots.append(group_root)
            continue
        target, others = existing[0], existing[1:]
        if others:
            CyberTip.objects.filter(cluster_id__in=others).update(cluster_id=target)
            TipCluster.objects.filter(pk__in=others).delete()
        chosen[group_root] = target
    created = TipCluster.objects.bulk_create([TipCluster(size=0) for _ in fresh_roots])
    for group_root, cluster in zip(fresh_roots, created, strict=True):
        # A database that cannot return the new ids would leave pk None: create it alone.
        chosen[group_root] = cluster.pk or TipCluster.objects.create(size=0).pk
    return [chosen[root(("tip", index))] for index in range(len(keys_per_tip))]


def _count_cluster_sizes(cluster_ids: set[int]) -> None:
    counts = dict(
        CyberTip.objects.filter(cluster_id__in=cluster_ids)
        .values_list("cluster_id")
        .annotate(n=Count("pk"))
        .values_list("cluster_id", "n")
    )
    TipCluster.objects.bulk_update(
        [TipCluster(pk=pk, size=counts.get(pk, 0)) for pk in sorted(cluster_ids)], ["size"]
    )


@dataclass
class StoredKeys:
    """What a referral already imported is matched by, read back from its identifiers."""

    file_hashes: list[str] = field(default_factory=list)
    screen_names: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)


def _match(imported: Sequence[tuple[CyberTip, Tip | StoredKeys]]) -> tuple[int, int]:
    """Match referrals' file hashes against the banks and case evidence, and their screen
    names, phones and e-mails against accused identifiers; alert each hit case's team once per
    referral and case (a second run finds the same matches and alerts nobody again)."""
    from muhafiz.cases import actions as cases
    from muhafiz.cases.identifiers import normalize_email, normalize_handle, normalize_phone
    from muhafiz.cases.models import AlertKind
    from muhafiz.cases.selectors import find_accused_by_identifiers
    from muhafiz.evidence.selectors import scans_holding_hashes
    from muhafiz.hashbank.selectors import banked_hashes

    hashes = sorted({h for _tip, item in imported for h in item.file_hashes})
    in_banks = banked_hashes(hashes) if hashes else {}
    in_scans = scans_holding_hashes(hashes) if hashes else {}
    wanted: list[tuple[str, str]] = []
    per_tip: dict[int, list[tuple[str, str]]] = {}
    for tip, item in imported:
        pairs = [
            (kind, value)
            for kind, normalize, raws in (
                ("handle", normalize_handle, item.screen_names),
                ("phone", normalize_phone, item.phones),
                ("email", normalize_email, item.emails),
            )
            for value in (_normalized(normalize, raw) for raw in raws)
            if value
        ]
        per_tip[tip.pk] = pairs
        wanted += pairs
    accused = find_accused_by_identifiers(sorted(set(wanted))) if wanted else {}

    rows: list[TipMatch] = []
    notices: dict[tuple[int, int], Any] = {}
    for tip, item in imported:
        for value in item.file_hashes:
            hashed = {"identifier_kind": TipIdentifierKind.FILE_HASH, "value": value}
            for bank in in_banks.get(value, ()):
                rows.append(
                    TipMatch(
                        tip=tip,
                        kind=TipMatchKind.BANK,
                        detail=f"file hash in bank {bank}"[:200],
                        **hashed,
                    )
                )
            for case_id, scan_id in sorted(in_scans.get(value, ())):
                rows.append(
                    TipMatch(
                        tip=tip,
                        kind=TipMatchKind.EVIDENCE,
                        case_id=case_id,
                        scan_id=scan_id,
                        detail="file hash in case evidence",
                        **hashed,
                    )
                )
        for pair in per_tip[tip.pk]:
            for hit in accused.get(pair, ()):
                rows.append(
                    TipMatch(
                        tip=tip,
                        kind=TipMatchKind.ACCUSED,
                        case_id=hit.case_id,
                        accused_label=hit.accused_label[:10],
                        identifier_kind=_TIP_KIND_OF[pair[0]],
                        value=pair[1][:300],
                        detail=f"{hit.kind} of accused {hit.accused_label}"[:200],
                    )
                )
    rows = _new_matches(rows)
    for row in rows:
        if row.case_id is not None:
            notices.setdefault(
                (row.case_id, row.tip.pk),
                cases.TeamNotice(
                    case_id=row.case_id,
                    kind=AlertKind.REPORT_MATCH,
                    message=gettext_noop(
                        "CyberTipline referral %(tip)s (%(ref)s) matches this case."
                    ),
                    params={"tip": row.tip.report_id_ncmec, "ref": row.tip.report.reference},
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


# An accused identifier kind (cases' `IdentifierKind`) → the referral identifier kind it matched.
_TIP_KIND_OF = {
    "handle": TipIdentifierKind.SCREEN_NAME,
    "phone": TipIdentifierKind.PHONE,
    "email": TipIdentifierKind.EMAIL,
}


def _new_matches(rows: list[TipMatch]) -> list[TipMatch]:
    """The matches not recorded yet (a second run finds the same ones): compared in Python, as
    a bank match has no case and the database's unique constraint lets NULLs repeat."""
    tip_ids = {row.tip.pk for row in rows}
    for row in rows:
        row.tip_id = row.tip.pk
    seen = {m.key() for m in TipMatch.objects.filter(tip_id__in=tip_ids)}
    new = []
    for row in rows:
        if row.key() not in seen:
            seen.add(row.key())
            new.append(row)
    return new


def _normalized(normalize: Any, raw: str) -> str:
    try:
        return str(normalize(raw))
    except ValidationError:
        return ""
