"""API routes of the evidence app (mounted under /api/v1/evidence)."""

from ninja import Router

router = Router(tags=["evidence"])
