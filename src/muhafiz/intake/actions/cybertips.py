"""CyberTipline referrals: the audited export of a cluster's IP capture events (the import
itself is in `imports`)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from muhafiz.audit.actions import record
from muhafiz.core.permissions import Perm, check_perm
from muhafiz.intake.models import TipCluster


def record_ip_export(
    actor: Any, cluster: TipCluster, *, rows: int, request: HttpRequest | None = None
) -> None:
    """Audit an export of a cluster's IP capture events (for a legal request to a provider)."""
    check_perm(actor, Perm.INTAKE_HANDLE)
    with transaction.atomic():
        record(actor, "intake.cluster.ip_export", cluster, request=request, rows=rows)
