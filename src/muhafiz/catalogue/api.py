"""API routes of the catalogue app (mounted under /api/v1/catalogue)."""

from ninja import Router

router = Router(tags=["catalogue"])
