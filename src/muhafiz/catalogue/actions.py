"""Every write to the catalogue: offences, deadline rules, agencies and police stations, each
change audited.

Only administrators (`Perm.CATALOGUE_EDIT`) change legal data. A row is never deleted — cases and
registers refer to it — it is deactivated instead. A row's code is its stable key (shipped
fixtures and other apps refer to it) and does not change once created.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from muhafiz.catalogue.models import (
    Agency,
    DeadlineRule,
    District,
    GazetteerPlace,
    Offence,
    PoliceStation,
    Province,
)
from muhafiz.catalogue.places import PlaceImport, PlaceRow, read_place_rows
from muhafiz.catalogue.stations import (
    StationImport,
    StationRow,
    read_station_rows,
    refuse_lines,
)
from muhafiz.core.permissions import Perm, check_perm

CITED_FIELDS = ("source", "source_url", "verified", "active", "notes")
OFFENCE_FIELDS = (
    "law",
    "section",
    "title",
    "title_ur",
    "penalty",
    "registrable",
    *CITED_FIELDS,
)
DEADLINE_RULE_FIELDS = (
    "name",
    "name_ur",
    "start_event",
    "end_event",
    "amount",
    "unit",
    "applies_when",
    "due_soon_fraction",
    *CITED_FIELDS,
)
AGENCY_FIELDS = ("name", "name_ur", "kind", "province", "district", *CITED_FIELDS)
# A station's key is its district and name: the name is editable (a renamed station keeps its
# cases), the district is not.
POLICE_STATION_FIELDS = ("name", "name_ur", *CITED_FIELDS)
# A gazetteer place's key is its name; the district its referrals go to may change.
GAZETTEER_PLACE_FIELDS = ("district", "source", "active", "notes")

M = TypeVar("M", bound=models.Model)

_EDITABLE: dict[type[models.Model], tuple[str, ...]] = {
    Offence: OFFENCE_FIELDS,
    DeadlineRule: DEADLINE_RULE_FIELDS,
    Agency: AGENCY_FIELDS,
    PoliceStation: POLICE_STATION_FIELDS,
    GazetteerPlace: GAZETTEER_PLACE_FIELDS,
}
_AUDIT_NAME: dict[type[models.Model], str] = {
    Offence: "offence",
    DeadlineRule: "deadline_rule",
    Agency: "agency",
    PoliceStation: "police_station",
    GazetteerPlace: "gazetteer_place",
}


def _value(value: Any) -> Any:
    """A JSON-friendly form of a field value for the audit details."""
    if isinstance(value, Province | District):
        return value.code
    return value


def _audit(actor: Any, action: str, obj: models.Model | None, **kwargs: Any) -> None:
    from muhafiz.audit.actions import record

    record(actor, action, obj, **kwargs)


def _key(obj: models.Model) -> str:
    """A row's stable key for the audit details: its code, or a station's district and name."""
    if isinstance(obj, PoliceStation):
        return f"{obj.district.code}/{obj.name}"
    if isinstance(obj, GazetteerPlace):
        return obj.name
    return str(getattr(obj, "code", ""))


def _create(
    actor: Any,
    model: type[M],
    keys: dict[str, Any],
    fields: dict[str, Any],
    *,
    reason: str,
    request: HttpRequest | None,
) -> M:
    check_perm(actor, Perm.CATALOGUE_EDIT)
    editable = _EDITABLE[model]
    unknown = set(fields) - set(editable)
    if unknown:
        raise ValueError(f"not an editable field: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        obj = model(**keys, **fields)
        obj.full_clean()
        obj.save()
        name = _AUDIT_NAME[model]
        _audit(
            actor,
            f"catalogue.{name}_created",
            obj,
            reason=reason,
            request=request,
            code=_key(obj),
            fields={key: _value(value) for key, value in fields.items()},
        )
    return obj


def _update(
    actor: Any,
    obj: M,
    changes: dict[str, Any],
    *,
    reason: str,
    request: HttpRequest | None,
) -> list[str]:
    check_perm(actor, Perm.CATALOGUE_EDIT)
    model = type(obj)
    editable = _EDITABLE[model]
    unknown = set(changes) - set(editable)
    if unknown:
        raise ValueError(f"not an editable field: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        obj = model._default_manager.select_for_update().get(pk=obj.pk)
        before = {name: _value(getattr(obj, name)) for name in changes}
        for name, value in changes.items():
            setattr(obj, name, value)
        obj.full_clean()
        changed = [name for name in changes if _value(getattr(obj, name)) != before[name]]
        if changed:
            obj.save(update_fields=changed)
            _audit(
                actor,
                f"catalogue.{_AUDIT_NAME[model]}_changed",
                obj,
                reason=reason,
                request=request,
                code=_key(obj),
                changed={name: [before[name], _value(getattr(obj, name))] for name in changed},
            )
    return changed


def create_offence(
    actor: Any,
    code: str,
    fields: dict[str, Any],
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Offence:
    """Add an offence to the catalogue (e.g. a section inserted by a new amendment)."""
    return _create(actor, Offence, {"code": code}, fields, reason=reason, request=request)


def update_offence(
    actor: Any,
    offence: Offence,
    changes: dict[str, Any],
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> list[str]:
    """Change an offence's wording, penalty, listing or verification; return changed fields."""
    return _update(actor, offence, changes, reason=reason, request=request)


def create_deadline_rule(
    actor: Any,
    code: str,
    fields: dict[str, Any],
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> DeadlineRule:
    """Add a statutory clock."""
    return _create(actor, DeadlineRule, {"code": code}, fields, reason=reason, request=request)


def update_deadline_rule(
    actor: Any,
    rule: DeadlineRule,
    changes: dict[str, Any],
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> list[str]:
    """Change a statutory clock (its limit, events, source or verification)."""
    return _update(actor, rule, changes, reason=reason, request=request)


def create_agency(
    actor: Any,
    code: str,
    fields: dict[str, Any],
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> Agency:
    """Add an agency (a crisis cell, a court, a unit) to the catalogue."""
    return _create(actor, Agency, {"code": code}, fields, reason=reason, request=request)


def update_agency(
    actor: Any,
    agency: Agency,
    changes: dict[str, Any],
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> list[str]:
    """Change an agency's names, kind, place or status."""
    return _update(actor, agency, changes, reason=reason, request=request)


def create_police_station(
    actor: Any,
    district: District,
    fields: dict[str, Any],
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> PoliceStation:
    """Add a police station to a district (FIR numbers are registered at a station)."""
    return _create(
        actor, PoliceStation, {"district": district}, fields, reason=reason, request=request
    )


def update_police_station(
    actor: Any,
    station: PoliceStation,
    changes: dict[str, Any],
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> list[str]:
    """Change a station's names, source or status (a closed station is made inactive)."""
    return _update(actor, station, changes, reason=reason, request=request)


def import_police_stations(
    actor: Any,
    data: bytes,
    *,
    source: str = "",
    reason: str = "",
    request: HttpRequest | None = None,
) -> StationImport:
    """Add and update police stations from a CSV file, all or nothing.

    Columns (a header row names them): `district` (the district's code), `name`, and optionally
    `name_ur`, `source`, `source_url`, `verified`, `notes`. A row's station is found by its
    district and name: a new one is added, an existing one gets the row's other values. A row
    without a source takes `source`. Any bad row refuses the whole file with every problem
    named by its line, and nothing is written.
    """
    check_perm(actor, Perm.CATALOGUE_EDIT)
    codes = frozenset(District.objects.values_list("code", flat=True))
    rows = read_station_rows(data, districts=codes, default_source=source)
    report = StationImport()
    with transaction.atomic():
        districts = {
            d.code: d for d in District.objects.filter(code__in={r.district for r in rows})
        }
        existing: dict[Any, models.Model] = {
            (s.district.code, s.name.casefold()): s
            for s in PoliceStation.objects.select_related("district")
            .select_for_update(of=("self",))
            .filter(district__code__in=districts)
        }

        def changes(row: StationRow) -> dict[str, Any]:
            # A station is matched by its name ignoring case; the name it has stays (rename a
            # station on its page).
            values = row.values()
            values.pop("name")
            return values

        _upsert_rows(
            rows,
            existing,
            report,
            key=lambda row: (row.district, row.name.casefold()),
            new=lambda row: PoliceStation(district=districts[row.district], **row.values()),
            changes=changes,
            label=_key,
        )
        _audit(
            actor,
            "catalogue.police_stations_imported",
            None,
            reason=reason,
            request=request,
            rows=len(rows),
            added=report.added,
            changed=report.changed,
            unchanged=report.unchanged,
        )
    return report


class _Imported(Protocol):
    added: list[str]
    changed: list[str]
    unchanged: int


def _upsert_rows(
    rows: Sequence[Any],
    existing: dict[Any, models.Model],
    report: _Imported,
    *,
    key: Callable[[Any], Any],
    new: Callable[[Any], models.Model],
    changes: Callable[[Any], dict[str, Any]],
    label: Callable[[Any], str],
) -> None:
    """The add-or-update loop of every catalogue import, inside the caller's transaction.

    Each row's object is found in `existing` by `key(row)`: a new one is made by `new(row)`, an
    existing one gets `changes(row)`. Each added or changed object passes `full_clean` before
    it is saved; a row that fails is named by its line, and any failure refuses the whole file
    (`refuse_lines`, raised inside the transaction, so nothing of it is kept). `report` counts
    what was added and changed (by `label`) and how many rows changed nothing.
    """
    errors: list[str] = []
    for row in rows:
        found = existing.get(key(row))
        if found is None:
            obj = new(row)
            try:
                obj.full_clean()
            except ValidationError as exc:
                errors += _line_errors(row.line, exc)
                continue
            obj.save()
            existing[key(row)] = obj
            report.added.append(label(obj))
            continue
        values = changes(row)
        changed = [name for name, value in values.items() if getattr(found, name) != value]
        if not changed:
            report.unchanged += 1
            continue
        for name in changed:
            setattr(found, name, values[name])
        try:
            found.full_clean()
        except ValidationError as exc:
            errors += _line_errors(row.line, exc)
            continue
        found.save(update_fields=changed)
        report.changed.append(label(found))
    if errors:
        raise refuse_lines(errors)


def _line_errors(line: int, exc: ValidationError) -> list[str]:
    return [
        _("Line %(line)d: %(error)s") % {"line": line, "error": message} for message in exc.messages
    ]


def create_gazetteer_place(
    actor: Any,
    name: str,
    fields: dict[str, Any],
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> GazetteerPlace:
    """Add a place name that routes CyberTipline referrals to a district."""
    return _create(actor, GazetteerPlace, {"name": name}, fields, reason=reason, request=request)


def update_gazetteer_place(
    actor: Any,
    place: GazetteerPlace,
    changes: dict[str, Any],
    *,
    reason: str = "",
    request: HttpRequest | None = None,
) -> list[str]:
    """Route a place to another district, change its source, or make it inactive."""
    return _update(actor, place, changes, reason=reason, request=request)


def import_gazetteer_places(
    actor: Any,
    data: bytes,
    *,
    source: str = "",
    reason: str = "",
    request: HttpRequest | None = None,
) -> PlaceImport:
    """Add and update gazetteer places from a CSV file, all or nothing.

    Columns (a header row names them): `name`, `district` (the district's code), and optionally
    `source`, `active` (yes/no), `notes`. A row's place is found by its name compared without
    case or punctuation: a new one is added, an existing one gets the row's district, source,
    status and notes. Any bad row refuses the whole file with every problem named by its line,
    and nothing is written; one audit row lists the places added and changed.
    """
    check_perm(actor, Perm.CATALOGUE_EDIT)
    codes = frozenset(District.objects.values_list("code", flat=True))
    rows = read_place_rows(data, districts=codes, default_source=source)
    report = PlaceImport()
    with transaction.atomic():
        districts = {
            d.code: d for d in District.objects.filter(code__in={r.district for r in rows})
        }
        existing: dict[Any, models.Model] = {
            p.key: p
            for p in GazetteerPlace.objects.select_for_update().filter(
                key__in={r.key for r in rows}
            )
        }

        def values(row: PlaceRow) -> dict[str, Any]:
            return {
                "district": districts[row.district],
                "source": row.source,
                "active": row.active,
                "notes": row.notes,
            }

        _upsert_rows(
            rows,
            existing,
            report,
            key=lambda row: row.key,
            new=lambda row: GazetteerPlace(name=row.name, **values(row)),
            changes=values,
            label=lambda place: place.name,
        )
        _audit(
            actor,
            "catalogue.gazetteer_imported",
            None,
            reason=reason,
            request=request,
            rows=len(rows),
            added=report.added,
            changed=report.changed,
            unchanged=report.unchanged,
        )
    return report
