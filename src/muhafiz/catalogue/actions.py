"""Every write to the catalogue: offences, deadline rules and agencies, each change audited.

Only administrators (`Perm.CATALOGUE_EDIT`) change legal data. A row is never deleted — cases and
registers refer to it — it is deactivated instead. A row's code is its stable key (shipped
fixtures and other apps refer to it) and does not change once created.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models, transaction
from django.http import HttpRequest

from muhafiz.catalogue.models import Agency, DeadlineRule, District, Offence, Province
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

M = TypeVar("M", bound=models.Model)

_EDITABLE: dict[type[models.Model], tuple[str, ...]] = {
    Offence: OFFENCE_FIELDS,
    DeadlineRule: DEADLINE_RULE_FIELDS,
    Agency: AGENCY_FIELDS,
}
_AUDIT_NAME: dict[type[models.Model], str] = {
    Offence: "offence",
    DeadlineRule: "deadline_rule",
    Agency: "agency",
}


def _value(value: Any) -> Any:
    """A JSON-friendly form of a field value for the audit details."""
    if isinstance(value, Province | District):
        return value.code
    return value


def _audit(actor: Any, action: str, obj: models.Model, **kwargs: Any) -> None:
    from muhafiz.audit.actions import record

    record(actor, action, obj, **kwargs)


def _create(
    actor: Any,
    model: type[M],
    code: str,
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
        obj = model(code=code, **fields)
        obj.full_clean()
        obj.save()
        name = _AUDIT_NAME[model]
        _audit(
            actor,
            f"catalogue.{name}_created",
            obj,
            reason=reason,
            request=request,
            code=code,
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
                code=getattr(obj, "code", ""),
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
    return _create(actor, Offence, code, fields, reason=reason, request=request)


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
    return _create(actor, DeadlineRule, code, fields, reason=reason, request=request)


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
    return _create(actor, Agency, code, fields, reason=reason, request=request)


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
