"""Reading the audit log: the filters shared by the auditor's page and the API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from muhafiz.audit.models import AuditEvent
from muhafiz.core.limits import max_length

# A case reference to filter on (the audit app knows no cases: a reference, or more of one).
CASE_FILTER_MAX_LENGTH = 40
# The search fields read the columns they are compared with.
ACTOR_MAX_LENGTH = max_length(AuditEvent, "actor_name")
ACTION_MAX_LENGTH = max_length(AuditEvent, "action")
OBJECT_TYPE_MAX_LENGTH = max_length(AuditEvent, "object_type")
OBJECT_ID_MAX_LENGTH = max_length(AuditEvent, "object_id")


@dataclass(frozen=True, slots=True)
class EventFilter:
    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    # A case reference: events about the case and everything in it (its items, scans, team…),
    # whose object is labelled with the reference, or whose details name the case.
    case: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    after_sequence: int | None = None

    def as_details(self) -> dict[str, str]:
        """The filters as audit details (what the auditor looked at)."""
        values = {
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "case": self.case,
            "date_from": self.date_from.isoformat() if self.date_from else "",
            "date_to": self.date_to.isoformat() if self.date_to else "",
            "after_sequence": "" if self.after_sequence is None else str(self.after_sequence),
        }
        return {key: value for key, value in values.items() if value}


def filter_events(criteria: EventFilter) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.order_by("-sequence")
    if criteria.after_sequence is not None:
        events = events.filter(sequence__gt=criteria.after_sequence).order_by("sequence")
    if criteria.actor:
        events = events.filter(actor_name__iexact=criteria.actor)
    if criteria.action:
        # "case" matches case.create and case.update; "case.create" matches itself.
        events = events.filter(action__startswith=criteria.action)
    if criteria.object_type:
        events = events.filter(object_type=criteria.object_type)
    if criteria.object_id:
        events = events.filter(object_id=criteria.object_id)
    if criteria.case:
        reference = criteria.case.upper()
        events = events.filter(
            Q(object_label=reference)
            | Q(object_label__startswith=f"{reference} ")
            | Q(details__case=reference)
        )
    zone = timezone.get_current_timezone()
    if criteria.date_from:
        start = dt.datetime.combine(criteria.date_from, dt.time.min, tzinfo=zone)
        events = events.filter(occurred_at__gte=start)
    if criteria.date_to:
        end = dt.datetime.combine(criteria.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        events = events.filter(occurred_at__lt=end)
    return events


class EventFilterForm(forms.Form):
    actor = forms.CharField(
        label=_("Actor (username or API client)"), max_length=ACTOR_MAX_LENGTH, required=False
    )
    action = forms.CharField(
        label=_("Action"),
        max_length=ACTION_MAX_LENGTH,
        required=False,
        help_text=_("A dotted name or its beginning, e.g. case or case.create."),
    )
    object_type = forms.CharField(
        label=_("Object type"),
        max_length=OBJECT_TYPE_MAX_LENGTH,
        required=False,
        help_text=_("e.g. cases.case"),
    )
    object_id = forms.CharField(
        label=_("Object id"), max_length=OBJECT_ID_MAX_LENGTH, required=False
    )
    case = forms.CharField(
        label=_("Case reference"),
        max_length=CASE_FILTER_MAX_LENGTH,
        required=False,
        help_text=_("Everything about one case, e.g. LHR-2026-0001."),
    )
    date_from = forms.DateField(
        label=pgettext_lazy("date range", "From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_to = forms.DateField(
        label=pgettext_lazy("date range", "To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if isinstance(start, dt.date) and isinstance(end, dt.date) and start > end:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data

    def criteria(self) -> EventFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return EventFilter(
            actor=str(data.get("actor") or "").strip(),
            action=str(data.get("action") or "").strip(),
            object_type=str(data.get("object_type") or "").strip(),
            object_id=str(data.get("object_id") or "").strip(),
            case=str(data.get("case") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )


def action_counts(actions: list[str]) -> list[dict[str, Any]]:
    """How many events of each of `actions` each actor wrote each year: rows of `year`,
    `action`, `actor_user_id`, `actor_client_id`, `count` (for the insights job's "watchers
    watched" figures; no reason, object or address is read)."""
    rows = (
        AuditEvent.objects.filter(action__in=actions)
        .annotate(year=ExtractYear("occurred_at"))
        .values("year", "action", "actor_user_id", "actor_client_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return [dict(row) for row in rows]
