"""API routes of the cases app (mounted under /api/v1/cases)."""

from ninja import Router

router = Router(tags=["cases"])
