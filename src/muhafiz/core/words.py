"""Messages stored untranslated and put into the reader's language when read (issue 15).

A stored notice keeps its English text with `%(name)s` places (marked with `gettext_noop` where
it is written, so the catalogues carry it) and the values of those places as JSON. A value is
either plain text (a reference, a code) or one of these, put into words in turn:

- `{"msg": text, "params": {...}}`: another untranslated text with its own values;
- `{"en": name, "ur": name}`: a catalogue name kept in both languages;
- `{"at": ISO 8601 time}`: a moment, shown in local time.

`in_words` does the reading; `phrase`, `names` and `moment` build the values.

In a right-to-left language each value is wrapped in Unicode's first-strong isolate (FSI ... PDI):
a date or a reference keeps its order inside an Urdu sentence. Without it the bidirectional
algorithm reads "2024-09-27" after Urdu letters as three Arabic numbers and shows "27-09-2024".
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.utils import timezone
from django.utils.translation import get_language, get_language_bidi, gettext, override

# Unicode's FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE.
FSI, PDI = "\u2068", "\u2069"


def phrase(message: str, **params: Any) -> dict[str, Any]:
    """A nested message value: `message` untranslated, its places' values in `params`."""
    return {"msg": str(message), "params": params}


def msgid(label: Any) -> str:
    """The untranslated text of a lazy label (a choice's label, whatever language is active)."""
    with override(None):
        return str(label)


def names(english: str, urdu: str = "") -> dict[str, str]:
    """A catalogue name in both languages."""
    return {"en": english, "ur": urdu}


def moment(when: datetime.datetime) -> dict[str, str]:
    return {"at": when.isoformat()}


def in_words(message: str, params: Mapping[str, Any] | None) -> str:
    """`message` in the active language with its places filled. A message stored before it kept
    its values (no `params`) is shown as it was stored."""
    if not params:
        return gettext(message) if message else ""
    values = {key: _value(value) for key, value in params.items()}
    if get_language_bidi():
        values = {
            key: f"{FSI}{value}{PDI}" if isinstance(value, str) else value
            for key, value in values.items()
        }
    try:
        return gettext(message) % values
    except (KeyError, TypeError, ValueError):  # a translation that lost or misspelt a place
        return message % values


def value_in_words(value: Any) -> Any:
    """One stored value (plain, a nested message, a name in both languages, a moment) in the
    active language: for a page that marks each value up on its own."""
    return _value(value)


def _value(value: Any) -> Any:
    if isinstance(value, Mapping):
        if "msg" in value:
            return in_words(str(value["msg"]), value.get("params") or {})
        if "at" in value:
            when = datetime.datetime.fromisoformat(str(value["at"]))
            return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")
        if "en" in value:
            urdu = str(value.get("ur") or "")
            return urdu if urdu and (get_language() or "").startswith("ur") else value["en"]
    return value
