"""Forms of the hash-bank pages: enabling a bank (with a reason) and importing an uploaded list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from muhafiz.hashbank.models import ENABLE_REASON_MAX_LENGTH


def _format_choices() -> list[tuple[str, Any]]:
    from muhafiz.banks.formats import formats

    return [("", _("Detect from the content")), *((f.name, f.name) for f in formats())]


class EnableForm(forms.Form):
    enabled = forms.BooleanField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason (recorded in the audit log)"),
        max_length=ENABLE_REASON_MAX_LENGTH,
        error_messages={"required": _("Say why: the reason is recorded in the audit log.")},
    )


class ImportForm(forms.Form):
    hash_list = forms.FileField(
        label=_("Hash list"),
        help_text=_(
            "Checked whole first: one bad row and nothing is imported; every bad row is named."
        ),
        error_messages={"required": _("Choose the hash list to import.")},
    )
    format = forms.ChoiceField(label=_("Format"), required=False, choices=_format_choices)
