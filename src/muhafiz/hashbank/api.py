"""Matching API under /api/v1: POST /match, POST /hash, bank listing."""

from ninja import Router

router = Router(tags=["banks"])
