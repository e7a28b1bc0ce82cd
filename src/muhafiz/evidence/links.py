"""Cross-case links: the same file, a near-identical image, or an accused's CNIC, phone or handle
found in two cases (any district, any agency). Each new link is recorded once and both case teams
are alerted with the other case's reference and its investigating officer's contact, never its
victims.

How near matches are found: the new scan's hashes (quality >= 50) are looked up in the standing
cross-case index (`media_index`: every case's PDQ hashes in `banks.index` segments, extended after
each analysis), and only the rows imported since its last extension are streamed from the
database and searched in an in-memory index. Linking a scan therefore costs per new image, not a
pass over every stored image (benchmarks/RESULTS.md, "Linking").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from muhafiz.audit.actions import record
from muhafiz.banks.index.pdq import MIN_PDQ_QUALITY, U64, MihLayout, PdqIndex, hex_to_words
from muhafiz.cases.actions import raise_alert
from muhafiz.cases.models import Accused, AlertKind, Case, TeamMember, TeamRole
from muhafiz.core.permissions import SYSTEM
from muhafiz.core.words import in_words, names, phrase
from muhafiz.evidence.models import CaseLink, LinkKind, MediaFile, Scan

MAX_DISTANCE = 31
MIN_QUALITY = MIN_PDQ_QUALITY
STREAM_BATCH = 100_000
MIH_FROM = 4096  # below this a batch is searched by brute force
SHA_BATCH = 500


@dataclass(frozen=True)
class Found:
    kind: str
    this_case: int
    other_case: int
    shared: str
    distance: int = 0
    this_media: int | None = None
    other_media: int | None = None
    this_accused: int | None = None
    other_accused: int | None = None


# --- detection ----------------------------------------------------------------------------------


def detect_media_links(scan: Scan) -> list[CaseLink]:
    """Links from one imported scan's files to files of other cases.

    Each shared file is its own link; the teams get one alert per other case and kind of link
    for this scan (not one per file: two phones sharing hundreds of files is one piece of news).
    """
    new: dict[tuple[str, int], list[CaseLink]] = {}
    for found in [*_sha256_links(scan), *_pdq_links(scan)]:
        link = record_link(found, alert=False)
        if link is not None:
            new.setdefault((link.kind, found.other_case), []).append(link)
    for group in new.values():
        alert_both_teams(group[0], more=len(group) - 1)
    return [link for group in new.values() for link in group]


# Files that link cases by SHA-256: pictures and videos, and anything a bank matched. Other
# shared files (app icons, system libraries, stickers) would tie unrelated cases together.
LINKABLE = Q(mime__startswith="image/") | Q(mime__startswith="video/") | Q(matched=True)


def _sha256_links(scan: Scan) -> Iterator[Found]:
    own: dict[str, int] = dict(
        MediaFile.objects.filter(LINKABLE, scan=scan, size__gt=0, known_good=False)
        .exclude(sha256="")
        .values_list("sha256", "pk")
    )
    hashes = sorted(own)
    seen: set[tuple[int, str]] = set()
    for i in range(0, len(hashes), SHA_BATCH):
        rows = (
            MediaFile.objects.filter(
                sha256__in=hashes[i : i + SHA_BATCH], size__gt=0, known_good=False
            )
            .exclude(case_id=scan.case_id)
            .values_list("sha256", "case_id", "pk")
            .order_by("case_id", "pk")
        )
        for sha256, case_id, pk in rows:
            if (case_id, sha256) in seen:
                continue
            seen.add((case_id, sha256))
            yield Found(LinkKind.SHA256, scan.case_id, case_id, sha256, 0, own[sha256], pk)


def _pdq_links(scan: Scan) -> Iterator[Found]:
    from muhafiz.evidence.media_index import current_media_index, indexable

    own = list(
        MediaFile.objects.filter(scan=scan, pdq_quality__gte=MIN_QUALITY, known_good=False)
        .exclude(pdq="")
        .values_list("pk", "pdq", "sha256")
    )
    if not own:
        return
    queries = hex_to_words([row[1] for row in own])
    best: dict[tuple[int, int], tuple[int, int, str]] = {}  # (own row, case) -> nearest
    index = current_media_index()
    # Other cases' rows in the standing index: look up, then read the few candidates back.
    candidates: dict[int, list[tuple[int, int]]] = {}  # media id -> [(own row, distance)]
    own_ids = {row[0] for row in own}
    for position, media_id, distance in index.search(queries, MAX_DISTANCE):
        if media_id not in own_ids:
            candidates.setdefault(media_id, []).append((position, distance))
    ids = sorted(candidates)
    for i in range(0, len(ids), SHA_BATCH):
        rows = (
            indexable()
            .filter(pk__in=ids[i : i + SHA_BATCH])
            .exclude(case_id=scan.case_id)
            .values_list("pk", "case_id", "pdq", "sha256")
        )
        for media_pk, case_id, pdq, sha256 in rows:
            for position, distance in candidates[media_pk]:
                _keep_nearest(best, own, position, (media_pk, case_id, pdq, sha256), distance)
    # Rows imported since the index was last extended: streamed and searched as they come.
    others = (
        indexable()
        .filter(pk__gt=index.upto)
        .exclude(case_id=scan.case_id)
        .values_list("pk", "case_id", "pdq", "sha256")
    )
    batch: list[tuple[int, int, str, str]] = []
    for row in others.iterator(chunk_size=2000):
        batch.append(row)
        if len(batch) >= STREAM_BATCH:
            _search(queries, own, batch, best)
            batch = []
    if batch:
        _search(queries, own, batch, best)
    for (own_pos, case_id), (distance, media_pk, other_pdq) in sorted(best.items()):
        pk, pdq, _sha256 = own[own_pos]
        shared = "~".join(sorted((pdq, other_pdq)))
        yield Found(LinkKind.PDQ, scan.case_id, case_id, shared, distance, pk, media_pk)


def _keep_nearest(
    best: dict[tuple[int, int], tuple[int, int, str]],
    own: list[tuple[int, str, str]],
    position: int,
    other: tuple[int, int, str, str],
    distance: int,
) -> None:
    """Keep `other` as the nearest match of own row `position` in its case, unless it is the
    same file (already a SHA-256 link)."""
    media_pk, case_id, pdq, sha256 = other
    if sha256 and sha256 == own[position][2]:
        return
    key = (position, case_id)
    if key not in best or (distance, media_pk) < best[key][:2]:
        best[key] = (int(distance), media_pk, pdq)


def _search(
    queries: U64,
    own: list[tuple[int, str, str]],
    batch: list[tuple[int, int, str, str]],
    best: dict[tuple[int, int], tuple[int, int, str]],
) -> None:
    """Index one streamed batch of other cases' hashes and look the scan's hashes up in it."""
    words = hex_to_words([row[2] for row in batch])
    layout = MihLayout.for_size(len(batch)) if len(batch) >= MIH_FROM else None
    positions, rows, distances = PdqIndex.build(words, layout=layout).search(queries, MAX_DISTANCE)
    for q, r, d in zip(positions.tolist(), rows.tolist(), distances.tolist(), strict=True):
        _keep_nearest(best, own, q, batch[r], d)


def accused_identifiers_changed(accused: Accused) -> list[CaseLink]:
    """Called after an accused's CNIC, phone or handle changed (connected to the cases app's
    `accused_identifiers_changed` hook): links to every other case whose accused share one."""
    from muhafiz.cases.selectors import find_cases_sharing_identifiers

    links = []
    with transaction.atomic():
        for shared in find_cases_sharing_identifiers(accused):
            ordered = sorted(
                ((accused.case_id, accused.label), (shared.case_id, shared.accused_label))
            )
            link = record_link(
                Found(
                    kind=shared.kind,
                    this_case=accused.case_id,
                    other_case=shared.case_id,
                    shared=f"{ordered[0][1]}~{ordered[1][1]}",
                    this_accused=accused.pk,
                    other_accused=shared.accused_id,
                )
            )
            if link is not None:
                links.append(link)
    return links


# --- recording and alerting ---------------------------------------------------------------------


def record_link(found: Found, *, alert: bool = True) -> CaseLink | None:
    """Record a link once (audited); a new one alerts both case teams unless `alert` is off.
    Returns None when the link was already known."""
    if found.this_case == found.other_case:
        return None
    swap = found.this_case > found.other_case
    a, b = (found.other_case, found.this_case) if swap else (found.this_case, found.other_case)
    media_a, media_b = (
        (found.other_media, found.this_media) if swap else (found.this_media, found.other_media)
    )
    accused_a, accused_b = (
        (found.other_accused, found.this_accused)
        if swap
        else (found.this_accused, found.other_accused)
    )
    with transaction.atomic():
        link, created = CaseLink.objects.get_or_create(
            kind=found.kind,
            case_a_id=a,
            case_b_id=b,
            shared=found.shared[:200],
            defaults={
                "distance": found.distance,
                "media_a_id": media_a,
                "media_b_id": media_b,
                "accused_a_id": accused_a,
                "accused_b_id": accused_b,
            },
        )
        if not created:
            return None
        record(None, "evidence.link.create", link, kind=link.kind, distance=link.distance)
        if alert:
            alert_both_teams(link)
    return link


def officer_contact(case: Case) -> str:
    """The investigating officer of `case` as the other team may see them: name and phone."""
    return str(_value_words(_contact(case)))


def _contact(case: Case) -> str | dict[str, Any]:
    member = (
        TeamMember.objects.filter(case=case, team_role=TeamRole.INVESTIGATOR)
        .select_related("user")
        .order_by("added_at")
        .first()
    )
    if member is None:
        return phrase(gettext_noop("no investigating officer named yet"))
    user = member.user
    name = user.get_full_name() or user.username
    return f"{name}, {user.phone}" if user.phone else name


def describe(link: CaseLink) -> str:
    return str(_value_words(_what(link)))


def _what(link: CaseLink) -> dict[str, Any]:
    """What `link` shares, untranslated with its values (core.words)."""
    if link.kind == LinkKind.SHA256:
        return phrase(gettext_noop("the same file (SHA-256 %(h)s…)"), h=link.shared[:12])
    if link.kind == LinkKind.PDQ:
        return phrase(gettext_noop("a near-identical image (PDQ distance %(d)d)"), d=link.distance)
    return phrase(
        gettext_noop("an accused's %(kind)s (accused %(labels)s)"),
        kind=phrase(_IDENTIFIER_WORDS.get(link.kind, link.kind)),
        labels=link.shared.replace("~", " / "),
    )


_IDENTIFIER_WORDS = {
    "cnic": gettext_noop("CNIC"),
    "phone": gettext_noop("phone number"),
    "handle": gettext_noop("online handle"),
    "email": gettext_noop("e-mail address"),
}


def _value_words(value: str | dict[str, Any]) -> str:
    return in_words("%(v)s", {"v": value})


def alert_message(link: CaseLink, other: Case, more: int = 0) -> tuple[str, dict[str, Any]]:
    """The alert about `link` to the team of the case that is not `other`: its untranslated
    text and values, put into the reader's language when the alert is read."""
    what = _what(link)
    if more:
        what = phrase(gettext_noop("%(what)s and %(n)d more"), what=what, n=more)
    return gettext_noop(
        "Case %(other)s (%(district)s) shares %(what)s with this case. "
        "Its investigating officer: %(contact)s."
    ), {
        "other": other.reference,
        "district": names(other.district.name, other.district.name_ur),
        "what": what,
        "contact": _contact(other),
    }


def alert_both_teams(link: CaseLink, *, more: int = 0) -> int:
    """Alert every member of both case teams (once each) about `link` and `more` like it
    found at the same time; returns the alerts newly raised."""
    cases = {
        c.pk: c
        for c in Case.objects.select_related("district").filter(
            pk__in=[link.case_a_id, link.case_b_id]
        )
    }
    raised = 0
    for this_id, other_id in ((link.case_a_id, link.case_b_id), (link.case_b_id, link.case_a_id)):
        this, other = cases[this_id], cases[other_id]
        message, params = alert_message(link, other, more)
        users: dict[int, Any] = {}
        for member in TeamMember.objects.filter(case=this).select_related("user"):
            users[member.user_id] = member.user
        for user in users.values():
            _alert, created = raise_alert(
                SYSTEM,
                this,
                user,
                AlertKind.CROSS_CASE_LINK,
                message,
                params=params,
                dedupe_key=f"evidence-link:{link.pk}:{this.pk}",
            )
            raised += int(created)
    return raised
