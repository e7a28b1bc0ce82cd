"""Field length limits, read from the models: a field's limit is written once, on its model.

Actions check the text they are given with `check_lengths` before they write, so pages, the
API, the command line and jobs get the same clear error naming the field; API schemas and
page forms that take the same field read the same number with `max_length`. A text field
without a column limit (an encrypted field, a `TextField`) has its limit in the model's
`TEXT_LIMITS`.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _


def max_length(model: type[models.Model], field: str) -> int:
    """The most characters `model.field` holds (its `max_length`, else `TEXT_LIMITS`)."""
    limit = getattr(model._meta.get_field(field), "max_length", None)
    limit = limit or getattr(model, "TEXT_LIMITS", {}).get(field)
    if not limit:
        raise LookupError(f"{model.__name__}.{field} has no length limit")
    return int(limit)


def check_lengths(
    model: type[models.Model],
    values: Mapping[str, str | None],
    *,
    fields: Mapping[str, str] | None = None,
) -> None:
    """Refuse, naming each, the `values` longer than their model field holds.

    `values` are keyed by the names the caller's users know (the form and API field names);
    `fields` maps a name to the model's field where the two differ."""
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        limit = max_length(model, (fields or {}).get(name, name))
        if value is not None and len(value.strip()) > limit:
            errors[name] = [_("Keep it under %(n)d characters.") % {"n": limit}]
    if errors:
        raise ValidationError(errors)
