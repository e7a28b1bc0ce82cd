"""Forms of the evidence pages. They only parse and validate input; writes go through actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from muhafiz.accounts.models import User
from muhafiz.cases.models import Case
from muhafiz.catalogue.models import District
from muhafiz.core.limits import max_length
from muhafiz.evidence.models import (
    CustodyEvent,
    CustodyPurpose,
    EvidenceItem,
    EvidenceKind,
    EvidenceRevision,
    Scan,
)

_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def team_users(case: Case) -> QuerySet[User]:
    return User.objects.filter(case_memberships__case=case, is_active=True).distinct()


class ItemForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=EvidenceKind.choices)
    description = forms.CharField(
        label=_("Description"), max_length=max_length(EvidenceItem, "description"), required=False
    )
    make_model = forms.CharField(
        label=_("Make and model"), max_length=max_length(EvidenceItem, "make_model"), required=False
    )
    serial_number = forms.CharField(
        label=_("Serial number or IMEI"),
        max_length=max_length(EvidenceItem, "serial_number"),
        required=False,
    )
    seal_number = forms.CharField(
        label=_("Seal number"), max_length=max_length(EvidenceItem, "seal_number"), required=False
    )
    seized_at = forms.DateTimeField(label=_("Seized at (time)"), widget=_WHEN)
    seized_place = forms.CharField(
        label=_("Seized at (place)"), max_length=max_length(EvidenceItem, "seized_place")
    )
    seized_by = forms.ModelChoiceField(label=_("Seized by"), queryset=User.objects.none())
    confirmed = forms.BooleanField(
        label=_("I have checked: these facts are right"),
        required=False,
        help_text=_("Only when the platform asks, for a fact that looks unlikely."),
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["seized_by"].queryset = team_users(case)  # type: ignore[attr-defined]


class HandoverForm(forms.Form):
    from_user = forms.ModelChoiceField(label=_("Handed over by"), queryset=User.objects.none())
    to_user = forms.ModelChoiceField(label=_("Received by"), queryset=User.objects.none())
    at = forms.DateTimeField(label=_("When"), widget=_WHEN)
    purpose = forms.ChoiceField(
        label=_("Purpose"), choices=[("", "—"), *CustodyPurpose.choices[1:]]
    )
    purpose_other = forms.CharField(
        label=_("Purpose, in your words (for “Other”)"),
        max_length=max_length(CustodyEvent, "purpose"),
        required=False,
    )
    seal_intact = forms.BooleanField(label=_("Seal intact"), required=False)
    note = forms.CharField(
        label=_("Note"), max_length=max_length(CustodyEvent, "note"), required=False
    )

    def __init__(self, *args: Any, item: EvidenceItem, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from muhafiz.evidence.selectors import may_hold

        users = User.objects.filter(
            Q(case_memberships__case=item.case) | Q(pk=item.holder_id), is_active=True
        ).distinct()
        # Only people whose role and jurisdiction may hold the item are offered as recipients.
        recipients = [u.pk for u in users if u.pk != item.holder_id and may_hold(u, item.case)]
        self.fields["from_user"].queryset = User.objects.filter(pk=item.holder_id)  # type: ignore[attr-defined]
        self.fields["to_user"].queryset = User.objects.filter(pk__in=recipients)  # type: ignore[attr-defined]
        self.fields["from_user"].initial = item.holder_id

    def clean(self) -> dict[str, Any]:
        # The action takes one purpose: the chosen code, or for "Other" the officer's words.
        data = super().clean() or {}
        other = (data.pop("purpose_other", "") or "").strip()
        if data.get("purpose") == CustodyPurpose.OTHER:
            if not other:
                self.add_error("purpose_other", _("Say what the hand-over is for."))
            data["purpose"] = other
        return data


class ScanUploadForm(forms.Form):
    scan_file = forms.FileField(label=_("Scan file (from muhafiz scan)"))
    item = forms.ModelChoiceField(
        label=_("Evidence item"), queryset=EvidenceItem.objects.none(), required=False
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = EvidenceItem.objects.filter(case=case)  # type: ignore[attr-defined]


class ServerScanForm(forms.Form):
    source_path = forms.CharField(
        label=_("Source path on the server"), max_length=max_length(Scan, "source_path")
    )
    item = forms.ModelChoiceField(
        label=_("Evidence item"), queryset=EvidenceItem.objects.none(), required=False
    )

    def __init__(self, *args: Any, case: Case, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].queryset = EvidenceItem.objects.filter(case=case)  # type: ignore[attr-defined]


class NetworkFilter(forms.Form):
    district = forms.CharField(
        label=_("District code"), max_length=max_length(District, "code"), required=False
    )
    since = forms.DateField(
        label=_("Found from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("Found until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


# --- corrections (the reason is kept with the old values in the item's history and the audit) --

_REASON_HELP = _("Kept with the old value in the history and the audit. No names.")


def _reason_field() -> forms.CharField:
    return forms.CharField(
        label=_("Why is this corrected?"),
        max_length=max_length(EvidenceRevision, "reason"),
        help_text=_REASON_HELP,
    )


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is this entry void?"), max_length=max_length(EvidenceRevision, "reason")
    )


class ItemCorrectionForm(ItemForm):
    reason = _reason_field()

    def __init__(self, *args: Any, item: EvidenceItem, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "kind": item.kind,
                "description": item.description,
                "make_model": item.make_model,
                "serial_number": item.serial_number,
                "seal_number": item.seal_number,
                "seized_at": item.seized_at,
                "seized_place": item.seized_place,
                "seized_by": item.seized_by_id,
            },
        )
        super().__init__(*args, case=item.case, **kwargs)
        people = User.objects.filter(
            Q(case_memberships__case=item.case, is_active=True) | Q(pk=item.seized_by_id)
        ).distinct()
        self.fields["seized_by"].queryset = people  # type: ignore[attr-defined]


class CustodyCorrectionForm(HandoverForm):
    reason = _reason_field()
    confirmed = ItemForm.base_fields["confirmed"]

    def __init__(self, *args: Any, entry: CustodyEvent, **kwargs: Any) -> None:
        stored = entry.purpose
        coded = stored in CustodyPurpose.values and stored != CustodyPurpose.OTHER
        kwargs.setdefault(
            "initial",
            {
                "from_user": entry.from_user_id,
                "to_user": entry.to_user_id,
                "at": entry.at,
                "purpose": stored if coded else CustodyPurpose.OTHER,
                "purpose_other": "" if coded else stored,
                "seal_intact": entry.seal_intact,
                "note": entry.note,
            },
        )
        super().__init__(*args, item=entry.item, **kwargs)
        item = entry.item
        in_chain = CustodyEvent.objects.filter(item=item).values_list("from_user", "to_user")
        known = {pk for pair in in_chain for pk in pair if pk} | set(
            team_users(item.case).values_list("pk", flat=True)
        )
        people = User.objects.filter(pk__in=known)
        self.fields["from_user"].queryset = people  # type: ignore[attr-defined]
        self.fields["to_user"].queryset = people  # type: ignore[attr-defined]
        self.fields["from_user"].initial = entry.from_user_id
        if entry.seq == 1:  # the seizure: nobody handed it over; its purpose is the seizure
            self.fields["from_user"].required = False
            self.fields["purpose"].choices = CustodyPurpose.choices  # type: ignore[attr-defined]
