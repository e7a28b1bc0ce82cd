"""API routes of the accounts app (mounted under /api/v1/accounts)."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema

from muhafiz.accounts import actions
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
    profile: str | None = None  # an API client's profile (core.permissions.CLIENT_PROFILES)
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
            profile=principal.profile or None,
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


class ClientApprovalIn(Schema):
    reason: str = Field(
        ...,
        min_length=1,
        max_length=actions.REASON_MAX_LENGTH,
        description="Why it is approved; written to the audit log (required, not blank)",
    )


class ClientOut(Schema):
    id: int
    name: str
    profile: str
    agency: str
    approved_by: str | None


@router.get(
    "/clients/approvals",
    response=list[ClientOut],
    summary="API clients waiting for the caller's approval",
)
@api_signed_in
def client_approvals(request: HttpRequest) -> Any:
    return [_client_out(c) for c in actions.clients_awaiting(request.auth)]  # type: ignore[attr-defined]


@router.post(
    "/clients/{client_id}/approve",
    response=ClientOut,
    summary="Approve an API client whose profile needs a second person",
)
@api_signed_in
def approve_client(request: HttpRequest, client_id: int, payload: ClientApprovalIn) -> Any:
    client = get_object_or_404(ApiClient, pk=client_id)
    actions.approve_api_client(
        request.auth,  # type: ignore[attr-defined]
        client,
        reason=payload.reason,
        request=request,
    )
    return _client_out(client)


def _client_out(client: ApiClient) -> ClientOut:
    return ClientOut(
        id=client.pk,
        name=client.name,
        profile=client.profile,
        agency=client.agency.code,
        approved_by=client.approved_by.username if client.approved_by else None,
    )
