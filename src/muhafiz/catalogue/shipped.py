"""The shipped catalogue: reading fixtures/*.json and installing the rows a database lacks.

`install_shipped_catalogue` runs after every `migrate` (see apps.py), so a fresh installation has
all provinces, districts, agencies, offences and deadline rules without the demo. It only adds rows
whose code is missing: an administrator's edits to a shipped row are never overwritten, and a
retired row is deactivated rather than deleted, so it is not re-created either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import transaction

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"


@cache
def read_fixture(name: str) -> dict[str, Any]:
    """One fixture file (`geography`, `agencies`, `offences`, `deadlines`) as parsed JSON."""
    with (FIXTURES_DIR / f"{name}.json").open(encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


@dataclass
class InstallReport:
    """How many rows of each kind were added (zero everywhere on a second run)."""

    added: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.added.values())

    def __str__(self) -> str:
        if not self.total:
            return "catalogue up to date"
        return "catalogue: " + ", ".join(f"{n} {kind}" for kind, n in self.added.items() if n)


_CITED = ("source", "verified", "active", "notes")


def _cited(row: dict[str, Any]) -> dict[str, Any]:
    return {key: row[key] for key in _CITED if key in row}


def install_shipped_catalogue(*, using: str = "default", apps: Apps = global_apps) -> InstallReport:
    """Add every shipped catalogue row whose code the database does not have yet.

    `apps` is the migration state's registry when called from `post_migrate`, so this works
    with the models as migrated, not as they are in the code.
    """
    province_model = apps.get_model("catalogue", "Province")
    district_model = apps.get_model("catalogue", "District")
    agency_model = apps.get_model("catalogue", "Agency")
    offence_model = apps.get_model("catalogue", "Offence")
    rule_model = apps.get_model("catalogue", "DeadlineRule")

    geography = read_fixture("geography")
    agencies = read_fixture("agencies")
    report = InstallReport()

    def missing(model: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        have = set(model._default_manager.using(using).values_list("code", flat=True))
        return [row for row in rows if row["code"] not in have]

    with transaction.atomic(using=using):
        new_provinces = [
            province_model(code=row["code"], name=row["name"], name_ur=row["name_ur"])
            for row in missing(province_model, geography["provinces"])
        ]
        province_model._default_manager.using(using).bulk_create(new_provinces)
        report.added["provinces"] = len(new_provinces)
        provinces = {p.code: p for p in province_model._default_manager.using(using).all()}

        new_districts = [
            district_model(
                code=row["code"],
                name=row["name"],
                name_ur=row["name_ur"],
                division=row["division"],
                province=provinces[row["province"]],
            )
            for row in missing(district_model, geography["districts"])
        ]
        district_model._default_manager.using(using).bulk_create(new_districts)
        report.added["districts"] = len(new_districts)

        agency_rows = [
            {
                "code": row["code"],
                "name": row["name"],
                "name_ur": row["name_ur"],
                "kind": row["kind"],
                "province": provinces[row["province"]] if row["province"] else None,
                **_cited(row),
            }
            for row in agencies["agencies"]
        ]
        ssoiu = agencies["ssoiu_per_district"]
        for district in district_model._default_manager.using(using).select_related("province"):
            agency_rows.append(
                {
                    "code": ssoiu["code"].format(district=district.code),
                    "name": ssoiu["name"].format(name=district.name),
                    "name_ur": ssoiu["name_ur"].format(name_ur=district.name_ur or district.name),
                    "kind": "ssoiu",
                    "province": district.province,
                    "district": district,
                    "source": ssoiu["source"],
                    "verified": True,
                }
            )
        new_agencies = [agency_model(**row) for row in missing(agency_model, agency_rows)]
        agency_model._default_manager.using(using).bulk_create(new_agencies)
        report.added["agencies"] = len(new_agencies)

        offence_fields = ("law", "section", "title", "title_ur", "penalty", "registrable")
        new_offences = [
            offence_model(code=row["code"], **{k: row[k] for k in offence_fields}, **_cited(row))
            for row in missing(offence_model, read_fixture("offences")["offences"])
        ]
        offence_model._default_manager.using(using).bulk_create(new_offences)
        report.added["offences"] = len(new_offences)

        rule_fields = (
            "name",
            "name_ur",
            "start_event",
            "end_event",
            "amount",
            "unit",
            "applies_when",
            "due_soon_fraction",
        )
        new_rules = [
            rule_model(code=row["code"], **{k: row[k] for k in rule_fields}, **_cited(row))
            for row in missing(rule_model, read_fixture("deadlines")["rules"])
        ]
        rule_model._default_manager.using(using).bulk_create(new_rules)
        report.added["deadline rules"] = len(new_rules)
        report.added["gazetteer places"] = _install_gazetteer(using, apps)
    return report


def _install_gazetteer(using: str, apps: Apps) -> int:
    """Add the shipped place names whose key the table does not have (an administrator's
    change or deactivation of a shipped place stays)."""
    from muhafiz.catalogue.models import place_key

    try:
        place_model = apps.get_model("catalogue", "GazetteerPlace")
    except LookupError:  # a migration state before the table
        return 0
    shipped = read_fixture("gazetteer")
    have = set(place_model._default_manager.using(using).values_list("key", flat=True))
    districts = dict(
        apps.get_model("catalogue", "District")
        ._default_manager.using(using)
        .values_list("code", "pk")
    )
    new = [
        place_model(
            name=row["name"],
            key=place_key(row["name"]),
            district_id=districts[row["district"]],
            source=shipped["source"],
        )
        for row in shipped["places"]
        if place_key(row["name"]) not in have and row["district"] in districts
    ]
    place_model._default_manager.using(using).bulk_create(new)
    return len(new)


def install_after_migrate(*, using: str = "default", apps: Apps = global_apps, **_: Any) -> None:
    """`post_migrate` receiver: install the shipped catalogue once its tables exist."""
    try:
        apps.get_model("catalogue", "DeadlineRule")
    except LookupError:  # migrated backwards past the catalogue's first migration
        return
    install_shipped_catalogue(using=using, apps=apps)
