"""API routes of the catalogue app (mounted under /api/v1/catalogue): read-only reference data.

Any signed-in person or API client may read the catalogue; changes are made on the
administrator's catalogue pages, where each one is audited.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from muhafiz.catalogue.models import (
    Agency,
    AgencyKind,
    DeadlineRule,
    District,
    Offence,
    PoliceStation,
    Province,
)
from muhafiz.core.api import api_signed_in

router = Router(tags=["catalogue"])


class ProvinceOut(Schema):
    code: str
    name: str
    name_ur: str


class DistrictOut(Schema):
    code: str
    name: str
    name_ur: str
    province: str
    division: str

    @staticmethod
    def resolve_province(obj: District) -> str:
        return obj.province.code


class AgencyOut(Schema):
    code: str
    name: str
    name_ur: str
    kind: str
    province: str | None
    district: str | None
    source: str
    verified: bool
    active: bool

    @staticmethod
    def resolve_province(obj: Agency) -> str | None:
        return obj.province.code if obj.province else None

    @staticmethod
    def resolve_district(obj: Agency) -> str | None:
        return obj.district.code if obj.district else None


class OffenceOut(Schema):
    code: str
    law: str
    section: str
    title: str
    title_ur: str
    penalty: str
    registrable: bool
    source: str
    source_url: str
    verified: bool
    active: bool
    notes: str


class DeadlineRuleOut(Schema):
    code: str
    name: str
    name_ur: str
    start_event: str
    end_event: str
    amount: int
    unit: str
    applies_when: str
    due_soon_fraction: float
    source: str
    source_url: str
    verified: bool
    active: bool
    notes: str


class PoliceStationOut(Schema):
    id: int
    name: str
    name_ur: str
    district: str
    source: str
    verified: bool
    active: bool

    @staticmethod
    def resolve_district(obj: PoliceStation) -> str:
        return obj.district.code


@router.get("/provinces", response=list[ProvinceOut], summary="Provinces and territories")
@api_signed_in
def provinces(request: HttpRequest) -> Any:
    return Province.objects.all()


@router.get("/districts", response=list[DistrictOut], summary="Districts, by province")
@api_signed_in
def districts(request: HttpRequest, province: str | None = None) -> Any:
    """All districts, or those of one province (`?province=PB`, an ISO 3166-2:PK code)."""
    rows = District.objects.select_related("province")
    if province:
        rows = rows.filter(province__code=province.upper())
    return rows


@router.get("/agencies", response=list[AgencyOut], summary="Agencies")
@api_signed_in
def agencies(
    request: HttpRequest,
    kind: AgencyKind | None = None,
    province: str | None = None,
    include_inactive: bool = False,
) -> Any:
    rows = Agency.objects.select_related("province", "district")
    if kind:
        rows = rows.filter(kind=kind)
    if province:
        rows = rows.filter(province__code=province.upper())
    if not include_inactive:
        rows = rows.filter(active=True)
    return rows


@router.get("/offences", response=list[OffenceOut], summary="The offence catalogue")
@api_signed_in
def offences(
    request: HttpRequest, registrable: bool | None = None, include_inactive: bool = False
) -> Any:
    """Offences with their source; `?registrable=true` gives the Anti-Rape Act s.2(h) list."""
    rows = Offence.objects.all()
    if registrable is not None:
        rows = rows.filter(registrable=registrable)
    if not include_inactive:
        rows = rows.filter(active=True)
    return rows


@router.get("/deadline-rules", response=list[DeadlineRuleOut], summary="Statutory deadlines")
@api_signed_in
def deadline_rules(request: HttpRequest, include_inactive: bool = False) -> Any:
    rows = DeadlineRule.objects.all()
    if not include_inactive:
        rows = rows.filter(active=True)
    return rows


@router.get(
    "/police-stations", response=list[PoliceStationOut], summary="Police stations, by district"
)
@api_signed_in
def police_stations(
    request: HttpRequest, district: str | None = None, include_inactive: bool = False
) -> Any:
    """Police stations (their `id` is what a case's `police_station` takes), or those of one
    district (`?district=LHR`)."""
    rows = PoliceStation.objects.select_related("district")
    if district:
        rows = rows.filter(district__code=district.upper())
    if not include_inactive:
        rows = rows.filter(active=True)
    return rows
