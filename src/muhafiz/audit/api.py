"""API routes of the audit app (mounted under /api/v1/audit)."""

from ninja import Router

router = Router(tags=["audit"])
