"""Every field of the register's models is named for people (verbose_name through gettext_lazy)
and the name has its Urdu translation, so forms, admin pages and errors read in Urdu."""

from __future__ import annotations

from django.apps import apps
from django.utils import translation
from django.utils.functional import Promise

from muhafiz.core.fields import BlindIndexField

# Keys and indexes nobody reads: the row id and the blind indexes.
UNNAMED = (BlindIndexField,)


def _named_fields() -> list[tuple[str, str, object]]:
    found: list[tuple[str, str, object]] = []
    for model in apps.get_app_config("register").get_models():
        for field in model._meta.concrete_fields:
            if field.primary_key or isinstance(field, UNNAMED):
                continue
            found.append((model.__name__, field.name, field.verbose_name))
    return found


def test_every_field_has_a_translatable_name() -> None:
    plain = [f"{m}.{f}" for m, f, name in _named_fields() if not isinstance(name, Promise)]
    assert plain == []


def test_every_field_name_is_translated_into_urdu() -> None:
    untranslated = []
    for model, field, name in _named_fields():
        english = str(name)
        with translation.override("ur"):
            urdu = str(name)
        if urdu == english:
            untranslated.append(f"{model}.{field}: {english}")
    assert untranslated == []
