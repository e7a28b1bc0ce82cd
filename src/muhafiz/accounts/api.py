"""API routes of the accounts app (mounted under /api/v1/accounts)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema

from muhafiz.accounts.models import ApiClient, User
from muhafiz.core.api import api_signed_in
from muhafiz.core.permissions import granted_perms

router = Router(tags=["accounts"])


class JurisdictionOut(Schema):
    level: str
    province: str | None
    district: str | None


class PrincipalOut(Schema):
    kind: Literal["user", "client"]
    id: int
    name: str
    role: str | None
    permissions: list[str]
    agency: str | None
    jurisdiction: JurisdictionOut


def _jurisdiction(principal: User | ApiClient) -> JurisdictionOut:
    return JurisdictionOut(
        level=principal.jurisdiction_level,
        province=principal.province.code if principal.province else None,
        district=principal.district.code if principal.district else None,
    )


@router.get("/me", response=PrincipalOut, summary="Who is calling: a person or an API client")
@api_signed_in
def me(request: HttpRequest) -> Any:
    principal = request.auth  # type: ignore[attr-defined]
    perms = sorted(p.value for p in granted_perms(principal))
    if isinstance(principal, ApiClient):
        return PrincipalOut(
            kind="client",
            id=principal.pk,
            name=principal.name,
            role=None,
            permissions=perms,
            agency=principal.agency.code,
            jurisdiction=_jurisdiction(principal),
        )
    assert isinstance(principal, User)
    return PrincipalOut(
        kind="user",
        id=principal.pk,
        name=principal.get_full_name() or principal.username,
        role=principal.role or None,
        permissions=perms,
        agency=principal.agency.code if principal.agency else None,
        jurisdiction=_jurisdiction(principal),
    )
