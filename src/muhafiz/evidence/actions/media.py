"""The media of scans: categorised by the team's examiners, a preview revealed (audited), confirmed
material added to a hash bank."""

from __future__ import annotations

import base64
import io
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.audit.actions import record, record_read
from muhafiz.banks.index.pdq import MIN_PDQ_QUALITY
from muhafiz.core.permissions import (
    Perm,
    check_perm,
)
from muhafiz.evidence.actions._common import (
    PREVIEW_SIDE,
    _user_or_none,
    _within,
    scan_roots,
    scans_dir,
    sha256_of,
)
from muhafiz.evidence.models import (
    REVEAL_REASON_MAX_LENGTH,
    MediaFile,
    ScanOrigin,
)

# --- categories, reveals, banks -----------------------------------------------------------------


def categorize(
    actor: Any,
    media: MediaFile,
    category: int | None,
    *,
    scheme: str = "projectvic-us",
    request: HttpRequest | None = None,
) -> MediaFile:
    """Set the examiner's category of one file (None takes it back to uncategorised)."""
    from muhafiz.hashbank.models import CategoryScheme

    check_perm(actor, Perm.EVIDENCE_EDIT, media.case)
    check_perm(actor, Perm.MEDIA_REVEAL, media.case)  # examiners of the team categorise
    found = CategoryScheme.objects.filter(code=scheme).first()
    if found is None:
        raise ValidationError({"scheme": _("Unknown category scheme.")})
    if category is not None and found.label_for(category) is None:
        raise ValidationError({"category": _("This category is not in the scheme.")})
    with transaction.atomic():
        media.category = category
        media.category_scheme = scheme if category is not None else ""
        media.categorized_by = _user_or_none(actor)
        media.categorized_at = timezone.now()
        media.save(
            update_fields=["category", "category_scheme", "categorized_by", "categorized_at"]
        )
        record(
            actor,
            "evidence.media.categorize",
            media,
            request=request,
            scan=media.scan_id,
            scheme=scheme,
            category=category,
        )
    return media


@dataclass(frozen=True)
class Preview:
    available: bool
    message: str
    data_uri: str = ""


def reveal_media(
    actor: Any, media: MediaFile, *, reason: str, request: HttpRequest | None = None
) -> Preview:
    """Reveal one file's preview to a team member with the right, audited before it is shown.

    The platform keeps no content: a preview exists only when the scan's source is still on the
    server (a server scan) and the file there still has the SHA-256 the scan recorded.
    """
    check_perm(actor, Perm.MEDIA_REVEAL, media.case)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why you need to see this file.")})
    if len(reason) > REVEAL_REASON_MAX_LENGTH:
        limit = REVEAL_REASON_MAX_LENGTH
        raise ValidationError({"reason": _("Keep it under %(n)d characters.") % {"n": limit}})
    located = _locate(media)
    record_read(
        actor,
        "evidence.media.reveal",
        media,
        reason=reason,
        request=request,
        scan=media.scan_id,
        shown=located is not None,
    )
    if located is None:
        return Preview(False, _("The content is not stored on this server; only its hashes are."))
    if not media.is_image:
        return Preview(False, _("This file is not an image; no preview is made."))
    try:
        return Preview(True, "", _thumbnail(located))
    except (OSError, ValueError):
        return Preview(False, _("The file could not be read as an image."))


def _locate(media: MediaFile) -> Path | None:
    scan = media.scan
    if scan.origin != ScanOrigin.SERVER or not scan.source_path or "!/" in media.path:
        return None
    source = Path(scan.source_path)
    candidate = (source.parent / media.path) if source.is_dir() else source
    if not source.is_dir() and media.path != source.name:
        return None
    try:
        resolved = candidate.resolve()
    except (OSError, ValueError):  # ValueError: a NUL character in the recorded path
        return None
    if not _within(resolved, scan_roots()) or not resolved.is_file():
        return None
    if not media.sha256 or sha256_of(resolved) != media.sha256:
        return None
    return resolved


def _thumbnail(path: Path) -> str:
    from PIL import Image

    with Image.open(path) as image:
        image.draft("RGB", (PREVIEW_SIDE, PREVIEW_SIDE))
        image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=80)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")


def add_to_bank(
    actor: Any,
    bank: Any,
    media: list[MediaFile],
    *,
    request: HttpRequest | None = None,
) -> Any:
    """Add categorised files of one case to a bank, through the bank's own import (audited)."""
    from muhafiz.banks.formats import get_format
    from muhafiz.banks.model import HashEntry
    from muhafiz.hashbank.actions import import_hash_list

    check_perm(actor, Perm.BANK_MANAGE, bank)
    if not media:
        raise ValidationError(_("Choose at least one categorised file."))
    case = media[0].case
    if any(m.case_id != case.pk for m in media):
        raise ValidationError(_("Add files of one case at a time."))
    check_perm(actor, Perm.EVIDENCE_EDIT, case)
    if any(m.category is None for m in media):
        raise ValidationError(_("Only categorised files can be added to a bank."))
    if any(not (m.md5 or m.sha1 or m.sha256 or m.pdq) for m in media):
        raise ValidationError(_("A file without hashes cannot be added to a bank."))
    entries = [
        HashEntry(
            md5=m.md5 or None,
            sha1=m.sha1 or None,
            sha256=m.sha256 or None,
            pdq=m.pdq if m.pdq and (m.pdq_quality or 0) >= MIN_PDQ_QUALITY else None,
            pdq_quality=m.pdq_quality if m.pdq else None,
            category=m.category,
        )
        for m in media
    ]
    with tempfile.TemporaryDirectory(dir=scans_dir()) as tmp:
        path = Path(tmp) / "confirmed.json"
        with path.open("w", encoding="utf-8") as out:
            get_format("vics").write(entries, out)
        with transaction.atomic():
            bank_import = import_hash_list(
                actor,
                bank,
                path,
                fmt="vics",
                source_name=f"{case.reference} confirmed {timezone.now():%Y%m%dT%H%M%S}",
            )
            MediaFile.objects.filter(pk__in=[m.pk for m in media]).update(banked_in=bank.name[:100])
            record(
                actor,
                "evidence.media.bank",
                None,
                request=request,
                case=case.reference,
                bank=bank.pk,
                files=len(media),
                added=bank_import.added,
                duplicates=bank_import.duplicates,
            )
    return bank_import
