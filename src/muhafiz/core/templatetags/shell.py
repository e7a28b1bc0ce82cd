"""Template tags of the UI shell: the navigation a person's role opens, accessible form fields."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django import template
from django.forms import BoundField
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext_lazy as _

from muhafiz.core.home import navigation_counts
from muhafiz.core.permissions import Perm, granted_perms, is_verified_staff
from muhafiz.core.words import FSI, PDI

register = template.Library()


@dataclass(frozen=True, slots=True)
class NavEntry:
    url_names: tuple[str, ...]  # the first that exists is linked
    label: str | Promise
    perms: tuple[Perm, ...] = ()  # any one of them opens the entry; none: every signed-in person


# The whole navigation; an entry shows when its page exists and the person's role opens it.
NAVIGATION: tuple[NavEntry, ...] = (
    NavEntry(("home",), _("Home")),
    NavEntry(("cases:list",), _("Cases"), (Perm.CASE_VIEW, Perm.WELFARE_VIEW)),
    NavEntry(("cases:alerts",), _("Alerts"), (Perm.CASE_VIEW, Perm.WELFARE_VIEW)),
    NavEntry(("evidence:network",), _("Network"), (Perm.CASE_VIEW,)),
    NavEntry(("intake:list",), _("Reports"), (Perm.INTAKE_HANDLE,)),
    NavEntry(("intake:helpline",), _("Helpline call"), (Perm.INTAKE_RECORD,)),
    NavEntry(
        ("register:home",),
        _("Register"),
        (
            Perm.REGISTER_MANAGE,
            Perm.REGISTER_REQUEST,
            Perm.REGISTER_APPROVE,
            Perm.REGISTER_VERIFY,
            Perm.REGISTER_VET,
        ),
    ),
    NavEntry(
        ("insights:staff", "proceedings:dashboard", "cases:statistics"),
        _("Statistics"),
        (Perm.STATS_VIEW,),
    ),
    NavEntry(("hashbank:list",), _("Hash banks"), (Perm.BANK_VIEW,)),
    NavEntry(("audit:log",), _("Audit log"), (Perm.AUDIT_VIEW,)),
    NavEntry(("catalogue:home",), _("Catalogue"), (Perm.CATALOGUE_EDIT,)),
    NavEntry(("accounts:user_list",), _("People"), (Perm.USER_MANAGE,)),
    NavEntry(("accounts:client_list",), _("API clients"), (Perm.USER_MANAGE,)),
    NavEntry(("jobs:failed",), _("Failed jobs"), (Perm.JOB_MANAGE,)),
)


def _first_url(names: tuple[str, ...]) -> str | None:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


@register.simple_tag(takes_context=True)
def main_navigation(context: dict[str, Any]) -> list[dict[str, Any]]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not is_verified_staff(user):
        return []
    perms = granted_perms(user)
    current = request.path
    counts = context.get("_nav_counts")
    if counts is None:
        counts = navigation_counts(user)
        context["_nav_counts"] = counts
    items = []
    for entry in NAVIGATION:
        if entry.perms and not perms.intersection(entry.perms):
            continue
        url = _first_url(entry.url_names)
        if url is None:
            continue
        matches = current == url if url == "/" else current.startswith(url)
        count = sum(counts.get(name, 0) for name in entry.url_names)
        items.append({"url": url, "label": entry.label, "active": matches, "count": count})
    # One entry is current: the most specific (/cases/alerts/ is Alerts, not Cases too).
    current_items = [item for item in items if item["active"]]
    if len(current_items) > 1:
        best = max(current_items, key=lambda item: len(item["url"]))
        for item in current_items:
            item["active"] = item is best
    return items


@register.simple_tag
def field(bound: BoundField, **extra: Any) -> SafeString:
    """One form field with its label, help and errors, tied together for screen readers."""
    described_by = []
    if bound.help_text:
        described_by.append(f"{bound.auto_id}-help")
    if bound.errors:
        described_by.append(f"{bound.auto_id}-errors")
    attrs: dict[str, Any] = dict(extra)
    if described_by:
        attrs["aria-describedby"] = " ".join(described_by)
    if bound.errors:
        attrs["aria-invalid"] = "true"
    widget = bound.field.widget
    input_type = getattr(widget, "input_type", "")
    multiple = bool(getattr(widget, "allow_multiple_selected", False))
    return render_to_string(
        "core/field.html",
        {
            "bound": bound,
            "widget": bound.as_widget(attrs=attrs),
            "is_checkbox": input_type == "checkbox" and not multiple,
            "is_group": input_type in {"checkbox", "radio"} and multiple,
        },
    )


@register.filter
def isolated(value: Any) -> str:
    """`value` between Unicode's first-strong isolates, for a date, a time or other English data
    given to a translated sentence (`blocktranslate with`), where a `<bdi>` would be escaped.
    Only a right-to-left page needs them."""
    if value in (None, ""):
        return ""
    return f"{FSI}{value}{PDI}" if get_language_bidi() else str(value)


@register.filter(needs_autoescape=True)
def typed(value: Any, autoescape: bool = True) -> str:
    """Text a person typed (a summary, a report, a reply, a reason, a note) in a `<bdi>`: it
    takes the direction of its own first letter, so English typed into an Urdu page keeps its
    full stop at its end (".Synthetic demo case" otherwise) and Urdu typed into an English
    page reads right to left. Goes last, after `linebreaksbr` or `truncatechars`; nothing for
    no text, so `default` still applies. A block that holds only typed text may take
    `dir="auto"` instead."""
    if value in (None, ""):
        return ""
    text = conditional_escape(value) if autoescape else value
    return mark_safe(f"<bdi>{text}</bdi>")  # noqa: S308 - escaped above


@register.simple_tag
def form_limit(form_path: str, field: str) -> int:
    """The `max_length` of `field` on the form class at `form_path` (a dotted path inside
    muhafiz), for a page that writes that form's input by hand: the limit stays written once,
    where the form reads it from the model."""
    module, _dot, name = form_path.rpartition(".")
    if not module.startswith("muhafiz."):
        raise template.TemplateSyntaxError(f"form_limit takes a muhafiz form, not {form_path!r}")
    form = getattr(import_module(module), name)
    return int(form.base_fields[field].max_length)
