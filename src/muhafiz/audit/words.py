"""The audit log in words (issue 15, item 11): each detail key by its label in the reader's
language, the values of ids by the reference or name of what they point at, object types by
name; the auditor's page and its CSV export read events through `in_words`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldError, ValidationError
from django.db.models import Model
from django.utils.translation import gettext, override, pgettext_lazy

from muhafiz.audit.models import AuditEvent

# Short words need their own context: the shared catalogue would otherwise lend them another
# part's translation ("To" of a hand-over in a date range, issue 15).
DETAIL_LABELS: dict[str, Any] = {
    "absconders": pgettext_lazy("audit detail", "absconders"),
    "accused": pgettext_lazy("audit detail", "accused"),
    "action": pgettext_lazy("audit detail", "action"),
    "actor": pgettext_lazy("audit detail", "person"),
    "added": pgettext_lazy("audit detail", "added"),
    "after": pgettext_lazy("audit detail", "after"),
    "after_sequence": pgettext_lazy("audit detail", "after entry no."),
    "agency": pgettext_lazy("audit detail", "agency"),
    "alerts": pgettext_lazy("audit detail", "alerts"),
    "already_imported": pgettext_lazy("audit detail", "already imported"),
    "answer": pgettext_lazy("audit detail", "answer"),
    "approved_by": pgettext_lazy("audit detail", "approved by"),
    "audit_head": pgettext_lazy("audit detail", "last audit entry"),
    "backup_created_at": pgettext_lazy("audit detail", "backup made at"),
    "bad": pgettext_lazy("audit detail", "refused lines"),
    "bank": pgettext_lazy("audit detail", "hash bank"),
    "banks": pgettext_lazy("audit detail", "hash banks"),
    "before": pgettext_lazy("audit detail", "before"),
    "broken_id": pgettext_lazy("audit detail", "broken at entry"),
    "case": pgettext_lazy("audit detail", "case"),
    "cases_counted": pgettext_lazy("audit detail", "cases counted"),
    "cases_left_out": pgettext_lazy("audit detail", "cases left out"),
    "category": pgettext_lazy("audit detail", "category"),
    "changed": pgettext_lazy("audit detail", "changed"),
    "channel": pgettext_lazy("audit detail", "channel"),
    "checked": pgettext_lazy("audit detail", "checked"),
    "checks": pgettext_lazy("audit detail", "checks"),
    "child_in_danger": pgettext_lazy("audit detail", "child in danger now"),
    "cluster": pgettext_lazy("audit detail", "cluster of reports"),
    "clocks": pgettext_lazy("audit detail", "deadlines"),
    "clocks_changed": pgettext_lazy("audit detail", "deadlines changed"),
    "clocks_met": pgettext_lazy("audit detail", "deadlines met"),
    "concern": pgettext_lazy("audit detail", "concern"),
    "consent": pgettext_lazy("audit detail", "consent"),
    "consent_override_id": pgettext_lazy("audit detail", "consent override"),
    "consents": pgettext_lazy("audit detail", "consents"),
    "contact_left": pgettext_lazy("audit detail", "contact details left"),
    "convictions": pgettext_lazy("audit detail", "convictions"),
    "count": pgettext_lazy("audit detail", "count"),
    "date_from": pgettext_lazy("audit detail", "from date"),
    "date_to": pgettext_lazy("audit detail", "to date"),
    "distance": pgettext_lazy("audit detail", "distance"),
    "district": pgettext_lazy("audit detail", "district"),
    "due_at": pgettext_lazy("audit detail", "due"),
    "due_soon": pgettext_lazy("audit detail", "nearly due"),
    "duplicates": pgettext_lazy("audit detail", "duplicates"),
    "earlier_import": pgettext_lazy("audit detail", "earlier import"),
    "endpoint": pgettext_lazy("audit detail", "endpoint"),
    "entries": pgettext_lazy("audit detail", "entries"),
    "erased": pgettext_lazy("audit detail", "erased"),
    "error": pgettext_lazy("audit detail", "error"),
    "event_id": pgettext_lazy("audit detail", "stage event"),
    "facts": pgettext_lazy("audit detail", "facts"),
    "failed_job": pgettext_lazy("audit detail", "failed job"),
    "fields": pgettext_lazy("audit detail", "fields"),
    "file_error": pgettext_lazy("audit detail", "file error"),
    "files": pgettext_lazy("audit detail", "files"),
    "fir_number": pgettext_lazy("audit detail", "FIR number"),
    "format": pgettext_lazy("audit detail", "format"),
    "from_keys": pgettext_lazy("audit detail", "from keys"),
    "from_state": pgettext_lazy("audit detail", "from state"),
    "from_user": pgettext_lazy("audit detail", "handed over by"),
    "to_user": pgettext_lazy("audit detail", "received by"),
    "identifiers": pgettext_lazy("audit detail", "identifiers"),
    "identity_fields": pgettext_lazy("audit detail", "identity fields"),
    "imported": pgettext_lazy("audit detail", "imported"),
    "in_force_from": pgettext_lazy("audit detail", "in force from"),
    "indefinite": pgettext_lazy("audit detail", "indefinite"),
    "item": pgettext_lazy("audit detail", "evidence item"),
    "join_request": pgettext_lazy("audit detail", "request to join"),
    "judgments_caught": pgettext_lazy("audit detail", "judgments found"),
    "kind": pgettext_lazy("audit detail", "kind"),
    "late": pgettext_lazy("audit detail", "late"),
    "limit": pgettext_lazy("audit detail", "limit"),
    "links": pgettext_lazy("audit detail", "links"),
    "matched": pgettext_lazy("audit detail", "matched"),
    "matches": pgettext_lazy("audit detail", "matches"),
    "member_kind": pgettext_lazy("audit detail", "member kind"),
    "merged_with_existing": pgettext_lazy("audit detail", "merged with existing"),
    "message": pgettext_lazy("audit detail", "message"),
    "missed": pgettext_lazy("audit detail", "missed"),
    "model": pgettext_lazy("audit detail", "model"),
    "national_queue": pgettext_lazy("audit detail", "national queue"),
    "new_job": pgettext_lazy("audit detail", "new job"),
    "new_matches": pgettext_lazy("audit detail", "new matches"),
    "next_hearing_at": pgettext_lazy("audit detail", "next hearing"),
    "non_compliant": pgettext_lazy("audit detail", "not complied"),
    "now": pgettext_lazy("audit detail", "at"),
    "object_id": pgettext_lazy("audit detail", "object no."),
    "object_type": pgettext_lazy("audit detail", "object type"),
    "occurred_at": pgettext_lazy("audit detail", "when"),
    "offence": pgettext_lazy("audit detail", "offence"),
    "offences": pgettext_lazy("audit detail", "offences"),
    "officer_id": pgettext_lazy("audit detail", "officer"),
    "offset": pgettext_lazy("audit detail", "offset"),
    "ok": pgettext_lazy("audit detail", "intact"),
    "organisation": pgettext_lazy("audit detail", "organisation"),
    "outcome": pgettext_lazy("audit detail", "outcome"),
    "override_id": pgettext_lazy("audit detail", "override"),
    "page": pgettext_lazy("audit detail", "page"),
    "period_ends_on": pgettext_lazy("audit detail", "period ends on"),
    "queried": pgettext_lazy("audit detail", "looked up"),
    "query": pgettext_lazy("audit detail", "search"),
    "queue": pgettext_lazy("audit detail", "queue"),
    "receipt": pgettext_lazy("audit detail", "receipt"),
    "referral": pgettext_lazy("audit detail", "referral"),
    "referrals": pgettext_lazy("audit detail", "referrals"),
    "refused": pgettext_lazy("audit detail", "refused"),
    "registrant": pgettext_lazy("audit detail", "registered person"),
    "registrant_suspended": pgettext_lazy("audit detail", "registration suspended"),
    "rejected_imports": pgettext_lazy("audit detail", "rejected imports"),
    "released_on": pgettext_lazy("audit detail", "released on"),
    "removal_due": pgettext_lazy("audit detail", "removal due"),
    "removal_reason": pgettext_lazy("audit detail", "reason for removal"),
    "requested_by": pgettext_lazy("audit detail", "requested by"),
    "reviews": pgettext_lazy("audit detail", "reviews"),
    "ring": pgettext_lazy("audit detail", "key ring"),
    "risk": pgettext_lazy("audit detail", "risk"),
    "rows": pgettext_lazy("audit detail", "rows"),
    "rule": pgettext_lazy("audit detail", "rule"),
    "scan": pgettext_lazy("audit detail", "scan"),
    "scheme": pgettext_lazy("audit detail", "scheme"),
    "seal_intact": pgettext_lazy("audit detail", "seal intact"),
    "sections": pgettext_lazy("audit detail", "sections"),
    "seized_by": pgettext_lazy("audit detail", "seized by"),
    "seq": pgettext_lazy("audit detail", "entry no."),
    "sha256": pgettext_lazy("audit detail", "SHA-256"),
    "size": pgettext_lazy("audit detail", "size"),
    "source": pgettext_lazy("audit detail", "source"),
    "stage": pgettext_lazy("audit detail", "stage"),
    "status": pgettext_lazy("audit detail", "status"),
    "task": pgettext_lazy("audit detail", "task"),
    "team_role": pgettext_lazy("audit detail", "team role"),
    "to": pgettext_lazy("audit detail", "to"),
    "to_key": pgettext_lazy("audit detail", "to key"),
    "upheld": pgettext_lazy("audit detail", "upheld"),
    "user_id": pgettext_lazy("audit detail", "staff member"),
    "version": pgettext_lazy("audit detail", "version"),
    "via": pgettext_lazy("audit detail", "via"),
    "victim": pgettext_lazy("audit detail", "victim"),
    "weaker": pgettext_lazy("audit detail", "weaker"),
}

# Details that hold a database id of another object: shown by what they point at.
_USER = "__user__"
ID_DETAILS: dict[str, str] = {
    "seized_by": _USER,
    "from_user": _USER,
    "to_user": _USER,
    "officer_id": _USER,
    "user_id": _USER,
    "requested_by": _USER,
    "approved_by": _USER,
    "item": "evidence.evidenceitem",
    "scan": "evidence.scan",
    "event_id": "proceedings.stageevent",
}


def detail_label(key: str) -> str:
    label = DETAIL_LABELS.get(key)
    return str(label) if label is not None else key.replace("_", " ")


def object_type_label(object_type: str) -> str:
    """An object type ("cases.case") by its model's name in the reader's language."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    return str(model._meta.verbose_name)


def _lang_of(object_type: str) -> str:
    if not object_type:
        return ""
    with override(None):
        english = object_type_label(object_type)
    return "en" if object_type_label(object_type) == english else ""


@dataclass(frozen=True, slots=True)
class Detail:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class EventInWords:
    event: AuditEvent
    object_type: str
    details: list[Detail]
    # "en" when the object type has no name in the reader's language (a model without one).
    object_type_lang: str = ""


def in_words(events: Iterable[AuditEvent]) -> list[EventInWords]:
    """`events` with their object types and details put into words; ids are looked up once per
    kind of object for the whole list."""
    events = list(events)
    names = _names_of_ids(events)
    return [
        EventInWords(
            event=event,
            object_type=object_type_label(event.object_type) if event.object_type else "",
            object_type_lang=_lang_of(event.object_type),
            details=[
                Detail(detail_label(key), _value(key, value, names))
                for key, value in (event.details or {}).items()
            ],
        )
        for event in events
    ]


def _names_of_ids(events: list[AuditEvent]) -> dict[tuple[str, int], str]:
    wanted: dict[str, set[int]] = {}
    for event in events:
        for key, value in (event.details or {}).items():
            target = ID_DETAILS.get(key)
            if target is None:
                continue
            for one in value if isinstance(value, list) else [value]:
                if isinstance(one, int) and not isinstance(one, bool):
                    wanted.setdefault(target, set()).add(one)
    names: dict[tuple[str, int], str] = {}
    for target, ids in wanted.items():
        for pk, name in _lookup(target, ids):
            names[(target, pk)] = name
    return names


def _lookup(target: str, ids: set[int]) -> list[tuple[int, str]]:
    if target == _USER:
        users = get_user_model().objects.filter(pk__in=ids)
        return [(user.pk, user.get_username()) for user in users]
    try:
        model: type[Model] = apps.get_model(target)
        found = list(model._default_manager.filter(pk__in=ids))
    except (LookupError, FieldError, ValidationError):
        return []
    return [(obj.pk, _label(obj)) for obj in found]


def _label(obj: Model) -> str:
    label = getattr(obj, "audit_label", None)
    return str(label()) if callable(label) else str(obj)


def _value(key: str, value: Any, names: dict[tuple[str, int], str]) -> str:
    target = ID_DETAILS.get(key)
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if value is None or value in ("", []):
        return "—"
    if isinstance(value, list):
        return ", ".join(_value(key, one, names) for one in value)
    if isinstance(value, dict):
        return "; ".join(
            f"{detail_label(str(k))}: {_value(str(k), v, names)}" for k, v in value.items()
        )
    if target is not None and isinstance(value, int):
        return names.get((target, value), f"#{value}")
    return str(value)
