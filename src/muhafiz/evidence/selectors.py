"""Reading the evidence tables: permission-checked loaders and the network of linked cases."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from muhafiz.cases.models import Case
from muhafiz.cases.selectors import hide_unless_known
from muhafiz.core.permissions import (
    Perm,
    case_scope,
    check_perm,
    has_perm,
    oversees,
    user_pk,
)
from muhafiz.evidence.links import describe, officer_contact
from muhafiz.evidence.models import (
    CaseLink,
    EvidenceItem,
    LinkKind,
    MediaFile,
    Scan,
    ScanOrigin,
)

MAX_NETWORK_LINKS = 300


def find_item(principal: Any, pk: int) -> EvidenceItem:
    """An item for a write: 404 unless the caller may know of its case; the action checks."""
    item = get_object_or_404(EvidenceItem.objects.select_related("case__district"), pk=pk)
    hide_unless_known(principal, item.case)
    return item


def load_item(principal: Any, pk: int, perm: Perm = Perm.EVIDENCE_VIEW) -> EvidenceItem:
    item = find_item(principal, pk)
    check_perm(principal, perm, item.case)
    return item


def find_scan(principal: Any, pk: int) -> Scan:
    """A scan for a write: 404 unless the caller may know of its case; the action checks."""
    scan = get_object_or_404(Scan.objects.select_related("case__district", "item"), pk=pk)
    hide_unless_known(principal, scan.case)
    return scan


def load_scan(principal: Any, pk: int, perm: Perm = Perm.EVIDENCE_VIEW) -> Scan:
    scan = find_scan(principal, pk)
    check_perm(principal, perm, scan.case)
    return scan


def find_media(principal: Any, pk: int) -> MediaFile:
    """A file of a scan for a write: 404 unless the caller may know of its case; the action
    checks."""
    media = get_object_or_404(MediaFile.objects.select_related("case__district", "scan"), pk=pk)
    hide_unless_known(principal, media.case)
    return media


def load_media(principal: Any, pk: int, perm: Perm = Perm.EVIDENCE_VIEW) -> MediaFile:
    media = find_media(principal, pk)
    check_perm(principal, perm, media.case)
    return media


def evidence_rights(principal: Any, case: Case) -> dict[str, bool]:
    """Which forms the case's evidence page shows (the actions decide on submit)."""
    edit = has_perm(principal, Perm.EVIDENCE_EDIT, case) and case.is_open
    return {"edit": edit, "scan": edit and has_perm(principal, Perm.SCAN_RUN, case)}


def may_hold(person: Any, case: Case) -> bool:
    """The custody rule: a staff member whose role may hold seized items (EVIDENCE_CUSTODY) and
    whose jurisdiction covers the case may receive its items."""
    return user_pk(person) is not None and has_perm(person, Perm.EVIDENCE_CUSTODY, case)


def may_record_handover(actor: Any, item: EvidenceItem) -> bool:
    """The holder of the item records handing it on; a supervisor overseeing the case may record
    a hand-over for them. Nobody else records hand-overs between other people."""
    if user_pk(actor) is not None and user_pk(actor) == item.holder_id:
        return may_hold(actor, item.case)
    return oversees(actor, item.case) and has_perm(actor, Perm.EVIDENCE_EDIT, item.case)


def may_correct_evidence(actor: Any, item: EvidenceItem) -> bool:
    """Who corrects or voids an item or its custody entries, with a reason: with EVIDENCE_EDIT
    on the case, its holder, a supervisor overseeing the case, or a forensic examiner on it."""
    case = item.case
    if not has_perm(actor, Perm.EVIDENCE_EDIT, case):
        return False
    if user_pk(actor) is not None and user_pk(actor) == item.holder_id:
        return True
    return oversees(actor, case) or getattr(actor, "role", "") == "forensic_examiner"


def item_rights(principal: Any, item: EvidenceItem) -> dict[str, bool]:
    """Which forms an item's page shows (the actions decide on submit)."""
    standing = item.voided_at is None and item.case.is_open
    return {
        "handover": standing and may_record_handover(principal, item),
        "correct": standing and may_correct_evidence(principal, item),
    }


def content_stored(scan: Scan) -> bool:
    """Whether the scan's files may still be on this server: only a server scan whose source is
    still there can show a preview (the platform keeps no content; `reveal_media` checks each
    file's SHA-256 before it shows one). An uploaded scan file holds hashes only."""
    if scan.origin != ScanOrigin.SERVER or not scan.source_path:
        return False
    try:
        return Path(scan.source_path).exists()
    except (OSError, ValueError):
        return False


def scan_rights(principal: Any, scan: Scan) -> dict[str, bool]:
    """Which controls a scan's page shows (the actions decide on submit). Reveal is offered only
    when the content may still be on the server."""
    case = scan.case
    edit = has_perm(principal, Perm.EVIDENCE_EDIT, case)
    reveal = has_perm(principal, Perm.MEDIA_REVEAL, case)
    return {
        "categorize": edit and reveal,
        "reveal": reveal and content_stored(scan),
        "may_reveal": reveal,
        "bank": edit and has_perm(principal, Perm.BANK_MANAGE),
    }


def case_items(case: Case) -> QuerySet[EvidenceItem]:
    return EvidenceItem.objects.filter(case=case).select_related("seized_by", "holder")


def case_scans(case: Case) -> QuerySet[Scan]:
    return Scan.objects.filter(case=case).select_related("item")


def scan_media(scan: Scan, *, only: str = "") -> QuerySet[MediaFile]:
    media = MediaFile.objects.filter(scan=scan).prefetch_related("matches")
    if only == "matched":
        media = media.filter(matched=True)
    elif only == "unmatched":
        media = media.filter(matched=False, known_good=False)
    elif only == "uncategorised":
        media = media.filter(category__isnull=True, mime__startswith="image/")
    elif only == "mismatch":
        media = media.filter(ext_mismatch=True)
    elif only == "deleted":  # deleted or carved: what the device's owner thought was gone
        media = media.filter(Q(deleted=True) | Q(carved_offset__isnull=False))
    return media


def case_links(case: Case) -> QuerySet[CaseLink]:
    return CaseLink.objects.filter(Q(case_a=case) | Q(case_b=case)).select_related(
        "case_a__district", "case_b__district"
    )


# --- the network --------------------------------------------------------------------------------


@dataclass
class Node:
    key: str
    kind: str  # case, other-case, accused, device, media
    label: str
    detail: str = ""
    url: str = ""
    x: float = 0.0
    y: float = 0.0


@dataclass
class Edge:
    source: str
    target: str
    kind: str
    x1: float = 0.0
    y1: float = 0.0
    x2: float = 0.0
    y2: float = 0.0


@dataclass
class LinkRow:
    link: CaseLink
    what: str
    this: Case
    other_reference: str
    other_visible: bool
    other_contact: str


@dataclass
class Network:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    rows: list[LinkRow] = field(default_factory=list)
    truncated: bool = False
    size: int = 640
    view_box: str = "0 0 640 640"


def visible_links(
    principal: Any,
    *,
    district: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[CaseLink]:
    """Links with at least one case the principal may see, by the case-view rule."""
    mine = Case.objects.filter(case_scope(principal, Perm.CASE_VIEW, via="")).values("pk")
    links = CaseLink.objects.filter(Q(case_a__in=mine) | Q(case_b__in=mine))
    if district:
        links = links.filter(
            Q(case_a__district__code=district) | Q(case_b__district__code=district)
        )
    if since:
        links = links.filter(found_at__date__gte=since)
    if until:
        links = links.filter(found_at__date__lte=until)
    return links.select_related(
        "case_a__district", "case_b__district", "media_a__scan__item", "media_b__scan__item"
    ).select_related("accused_a", "accused_b")


def build_network(
    principal: Any,
    *,
    district: str = "",
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Network:
    """Cases, accused, devices and shared media joined by links, drawn on a circle.

    A case outside the principal's jurisdiction appears only as "another case": its reference
    and its investigating officer's contact; none of its accused, devices or files.
    """
    network = Network()
    links = list(
        visible_links(principal, district=district, since=since, until=until)[
            : MAX_NETWORK_LINKS + 1
        ]
    )
    if len(links) > MAX_NETWORK_LINKS:
        network.truncated = True
        links = links[:MAX_NETWORK_LINKS]
    nodes: dict[str, Node] = {}
    edges: dict[tuple[str, str], Edge] = {}
    visible: dict[int, bool] = {}

    def can_see(case: Case) -> bool:
        if case.pk not in visible:
            visible[case.pk] = has_perm(principal, Perm.CASE_VIEW, case)
        return visible[case.pk]

    def case_node(case: Case) -> str:
        key = f"case-{case.pk}"
        if key not in nodes:
            if can_see(case):
                nodes[key] = Node(
                    key, "case", case.reference, case.district.name, f"/cases/{case.reference}/"
                )
            else:
                nodes[key] = Node(key, "other-case", case.reference, officer_contact(case))
        return key

    def edge(a: str, b: str, kind: str) -> None:
        edges.setdefault((a, b), Edge(a, b, kind))

    def side(case: Case, media: MediaFile | None, accused: Any, shared: str) -> str:
        """The node on `case`'s side of a link: its device or accused when visible."""
        anchor = case_node(case)
        if not can_see(case):
            return anchor
        if accused is not None:
            key = f"accused-{accused.pk}"
            nodes.setdefault(key, Node(key, "accused", f"{case.reference} {accused.label}"))
            edge(anchor, key, "holds")
            return key
        item = media.scan.item if media is not None else None
        if item is not None:
            key = f"item-{item.pk}"
            nodes.setdefault(
                key, Node(key, "device", f"{item.label} {item.get_kind_display()}", case.reference)
            )
            edge(anchor, key, "holds")
            return key
        return anchor

    # Shared files and images by hash, with the nodes (devices, cases) they were found on.
    media: dict[str, tuple[str, str, set[str]]] = {}
    for link in links:
        a, b = link.case_a, link.case_b
        this, other = (a, b) if can_see(a) else (b, a)
        network.rows.append(
            LinkRow(
                link,
                describe(link),
                this,
                other.reference,
                can_see(other),
                "" if can_see(other) else officer_contact(other),
            )
        )
        left = side(a, link.media_a, link.accused_a, link.shared)
        right = side(b, link.media_b, link.accused_b, link.shared)
        if link.kind in (LinkKind.SHA256, LinkKind.PDQ):
            key = f"{link.kind}-{link.shared[:16]}"
            label = ("SHA-256 " if link.kind == LinkKind.SHA256 else "PDQ ") + link.shared[:10]
            media.setdefault(key, (link.kind, label, set()))[2].update((left, right))
        else:
            edge(left, right, link.kind)
    _media_series(media, nodes, edge)
    network.nodes = list(nodes.values())
    network.edges = list(edges.values())
    _layout(network)
    return network


def _media_series(
    media: dict[str, tuple[str, str, set[str]]],
    nodes: dict[str, Node],
    edge: Callable[[str, str, str], None],
) -> None:
    """One node per media series: the files and images found on the same set of devices and
    cases (two phones sharing 300 pictures are one series, not 300 nodes)."""
    series: dict[frozenset[str], list[tuple[str, str]]] = {}
    for kind, label, found_on in media.values():
        series.setdefault(frozenset(found_on), []).append((kind, label))
    for i, (attached, members) in enumerate(sorted(series.items(), key=lambda kv: sorted(kv[0]))):
        key = f"series-{i}"
        kinds = sorted({kind for kind, _label in members})
        if len(members) == 1:
            label = members[0][1]
        else:
            label = _("%(n)d shared files and images") % {"n": len(members)}
        nodes[key] = Node(key, "media", label)
        for anchor in sorted(attached):
            edge(anchor, key, kinds[0] if len(kinds) == 1 else "media")


def _layout(network: Network) -> None:
    """Cases on an outer circle, the rest on an inner one, in a stable order."""
    centre = network.size / 2
    order = {"case": 0, "other-case": 0, "device": 1, "accused": 1, "media": 2}
    rings: dict[int, list[Node]] = {}
    for node in network.nodes:
        rings.setdefault(order.get(node.kind, 1), []).append(node)
    radii = {0: centre - 90, 1: centre - 170, 2: centre - 240}
    for ring, members in rings.items():
        radius = radii[ring] if len(members) > 1 else (0 if ring == 2 else radii[ring])
        for i, node in enumerate(members):
            angle = 2 * math.pi * i / max(len(members), 1) + ring * 0.4
            node.x = round(centre + radius * math.cos(angle))
            node.y = round(centre + radius * math.sin(angle))
    if network.nodes:
        # Fit the drawing to its nodes, with room for the labels beside and below them.
        xs = [n.x for n in network.nodes]
        ys = [n.y for n in network.nodes]
        left, top = min(xs) - 130, min(ys) - 30
        width, height = max(xs) - min(xs) + 260, max(ys) - min(ys) + 80
        network.view_box = f"{left:.0f} {top:.0f} {width:.0f} {height:.0f}"
    where = {n.key: n for n in network.nodes}
    for e in network.edges:
        e.x1, e.y1 = where[e.source].x, where[e.source].y
        e.x2, e.y2 = where[e.target].x, where[e.target].y


def scans_holding_hashes(values: list[str]) -> dict[str, set[tuple[int, int]]]:
    """Which cases' scans hold a file with one of these MD5, SHA-1 or SHA-256 values
    (lower-case hex): {hash: {(case_id, scan_id), …}} for the hashes found.

    A system lookup (intake matching CyberTipline referrals against case evidence): it checks
    no one's rights and returns ids only, never paths or content.
    """
    from muhafiz.banks.model import exact_hashes_by_kind

    found: dict[str, set[tuple[int, int]]] = {}
    for column, hashes in exact_hashes_by_kind(values).items():
        for start in range(0, len(hashes), 500):
            rows = MediaFile.objects.filter(**{f"{column}__in": hashes[start : start + 500]})
            for value, case_id, scan_id in rows.values_list(column, "case_id", "scan_id"):
                found.setdefault(value, set()).add((case_id, scan_id))
    return found


def case_file_hashes(case_id: int, *, scan_id: int | None = None) -> Iterator[str]:
    """Every MD5, SHA-1 and SHA-256 of a case's media files (one scan's when `scan_id` is
    given), streamed: a system read for matching (intake's late matching), values only."""
    files = MediaFile.objects.filter(case_id=case_id)
    if scan_id is not None:
        files = files.filter(scan_id=scan_id)
    for row in files.values_list("md5", "sha1", "sha256").iterator(chunk_size=2000):
        yield from (value for value in row if value)


def items_held_by(principal: Any) -> QuerySet[EvidenceItem]:
    """Evidence items the person holds now (the last hand-over was to them), of cases they may
    see evidence of, with their scans; the longest held first."""
    from muhafiz.core.permissions import user_pk

    me = user_pk(principal)
    if me is None:
        return EvidenceItem.objects.none()
    return (
        EvidenceItem.objects.filter(
            case_scope(principal, Perm.EVIDENCE_VIEW),
            holder_id=me,
        )
        .select_related("case")
        .prefetch_related("scans")
        .order_by("seized_at", "pk")
    )
