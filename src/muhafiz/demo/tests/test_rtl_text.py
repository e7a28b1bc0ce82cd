"""Text that keeps its order on an Urdu page (the browser walk of session 9).

- A range of numbers ("0–5", "11–15") is isolated left to right wherever it is shown: in a
  right-to-left line the bidirectional algorithm reads it as two numbers and shows "5–0".
- Text a person typed (a case's summary, a report, a reply, a note) gets its own direction
  (`<bdi>` or `dir="auto"`): English typed into an Urdu page otherwise shows its full stop
  at its start (".Synthetic demo case ...").
"""

from __future__ import annotations

from html.parser import HTMLParser

from django.conf import settings
from django.test import Client

from muhafiz.cases.models import Case
from muhafiz.demo.cases import MARKER
from muhafiz.demo.tests.test_urdu_pages import _urdu, demo  # noqa: F401 - the fixture
from muhafiz.intake.models import Report

LRI, PDI = "\u2066", "\u2069"
RANGES = ("0–5", "6–10", "11–15", "16–18")


class _Own(HTMLParser):
    """Each text node with whether an element around it gives it its own direction."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []
        self.texts: list[tuple[str, bool]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "img", "input", "meta", "link", "hr"}:
            return
        own = tag == "bdi" or dict(attrs).get("dir") in {"auto", "ltr"}
        self.stack.append(own or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in {"br", "img", "input", "meta", "link", "hr"} and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append((data, bool(self.stack) and self.stack[-1]))


def typed_text(html: str, fragment: str) -> list[bool]:
    """For each text node holding `fragment`: whether it has its own direction."""
    parser = _Own()
    parser.feed(html)
    return [own for text, own in parser.texts if fragment in text]


def test_the_check_tells_typed_text_with_its_own_direction() -> None:
    assert typed_text("<p>مقدمہ: Summary.</p>", "Summary.") == [False]
    assert typed_text('<p dir="auto">Summary.</p>', "Summary.") == [True]
    assert typed_text("<p>مقدمہ: <bdi>Summary.</bdi></p>", "Summary.") == [True]


def _page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.content.decode()


def test_age_ranges_are_isolated_on_the_urdu_helpline_form_and_report(demo: None) -> None:  # noqa: F811
    form = _page(_urdu("helpline.1099"), "/intake/helpline/")
    for band in RANGES:
        assert f">{LRI}{band}{PDI}</option>" in form, band
    web = Report.objects.get(channel="web")
    report = _page(_urdu("cpo.lahore"), f"/intake/reports/{web.reference}/")
    assert f"<dd>{LRI}11–15{PDI}</dd>" in report
    # English has no isolates to carry.
    english = signed_in_english("cpo.lahore")
    assert "<dd>11–15</dd>" in _page(english, f"/intake/reports/{web.reference}/")


def signed_in_english(username: str) -> Client:
    client = _urdu(username)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_typed_text_has_its_own_direction_on_urdu_pages(demo: None) -> None:  # noqa: F811
    case = Case.objects.get(summary__startswith=f"{MARKER} (LHR demo 1).")
    html = _page(_urdu("inv.lahore"), f"/cases/{case.reference}/")
    assert typed_text(html, f"{MARKER} (LHR demo 1).") == [True]
    web = Report.objects.get(channel="web")
    html = _page(_urdu("cpo.lahore"), f"/intake/reports/{web.reference}/")
    assert typed_text(html, "A man who says he is a student") == [True]
    assert typed_text(html, "(Synthetic demo reply.)") == [True]
