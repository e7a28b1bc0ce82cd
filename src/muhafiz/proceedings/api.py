"""API routes of the proceedings app (mounted under /api/v1/proceedings)."""

from ninja import Router

router = Router(tags=["proceedings"])
