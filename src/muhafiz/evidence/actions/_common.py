"""What the evidence actions share: limits, errors, checks of text and dates, the scan
directories, and the evidence-view check."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.cases.models import Case
from muhafiz.core.datadir import secure_directory
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import (
    Perm,
    check_perm,
)

CHUNK = 1 << 20
BATCH = 1000
PREVIEW_SIDE = 320


class ScanImportError(ValidationError):
    """A scan file cannot be imported; the message says why. Nothing was saved.

    `words` is the message as a scan keeps it to say later in its reader's language
    (`core.words`; empty for a message kept only as text)."""

    def __init__(self, message: str, *, words: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.words = words or {}


class UploadTooLargeError(ScanImportError):
    """The upload is past `MUHAFIZ_MAX_UPLOAD_BYTES`."""


# --- helpers ------------------------------------------------------------------------------------


def _user_or_none(actor: Any) -> Any:
    from muhafiz.accounts.models import User

    return actor if isinstance(actor, User) else None


def _check_open(case: Case) -> None:
    if not case.is_open:
        raise ValidationError(_("The case is closed; reopen it to change its evidence."))


def _text(value: str, field: str, model: Any, *, required: bool = False) -> str:
    """`value` stripped, checked against the length of `model.field` (`core.limits`)."""
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({field: _("This is required.")})
    check_lengths(model, {field: value})
    return value


def _not_future(moment: dt.datetime, field: str) -> None:
    if moment > timezone.now() + dt.timedelta(minutes=5):
        raise ValidationError({field: _("This time is in the future.")})


# Where scan files are kept: a folder of the file store (core.storage), and, under the data
# directory, the folder for upload temporaries (and the stored files when they are on disk).
SCANS_FOLDER = "evidence/scans"


def scans_dir() -> Path:
    return secure_directory(Path(settings.DATA_DIR) / SCANS_FOLDER)


def scan_roots() -> list[Path]:
    """Where server scans may read: `MUHAFIZ_SCAN_ROOTS`, else DATA_DIR/sources."""
    roots = getattr(settings, "MUHAFIZ_SCAN_ROOTS", [Path(settings.DATA_DIR) / "sources"])
    return [Path(r).resolve() for r in roots]


def _within(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def require_evidence_view(actor: Any, case: Case) -> None:
    if not getattr(actor, "is_authenticated", True):
        raise PermissionDenied("evidence.view")
    check_perm(actor, Perm.EVIDENCE_VIEW, case)
