"""Every form of every page, submitted empty (issue 15, item 8).

Each page the demo's people open (the same walk as the Urdu check: every page of the URL
conf without arguments as each person, and the pages of one case and its parts as its team) is
read for its posted forms. Each form must leave checking to the platform (`novalidate`, no
browser pop-ups), and submitted with nothing filled in it must answer with the platform's own
error list, never inside a collapsed section, and write nothing, or, for a form that needs
nothing (a button), go on with a
message. Never a server error.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from django.contrib.messages import get_messages

from muhafiz.accounts.models import User
from muhafiz.audit.models import AuditEvent
from muhafiz.demo.tests.test_urdu_pages import (
    PEOPLE,
    _case_pages,
    demo,  # noqa: F401 - the seeded demo, a fixture
)
from muhafiz.testing import signed_in, url_routes

# Forms whose empty submission ends the visit rather than answering it.
NOT_WALKED = ("/accounts/logout/", "/i18n/")


class _Forms(HTMLParser):
    """Posted forms with what a browser sends for them left empty: hidden values as they are,
    every other field empty, unticked boxes not at all."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[dict[str, str | None], dict[str, str]]] = []
        self.open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form":
            self.forms.append((values, {}))
            self.open = True
        elif self.open and tag in {"input", "select", "textarea"} and values.get("name"):
            kind = (values.get("type") or "").lower()
            if kind in {"checkbox", "radio", "submit", "button", "file"}:
                return
            data = self.forms[-1][1]
            data[str(values["name"])] = str(values.get("value") or "") if kind == "hidden" else ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.open = False


def _posted_forms(html: str) -> list[tuple[dict[str, str | None], dict[str, str]]]:
    parser = _Forms()
    parser.feed(html)
    return [f for f in parser.forms if (f[0].get("method") or "get").lower() == "post"]


class _HiddenErrors(HTMLParser):
    """Error lists inside a collapsed section (a <details> not open), which a person misses."""

    def __init__(self) -> None:
        super().__init__()
        self.closed: list[bool] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "details":
            self.closed.append("open" not in values)
        classes = (values.get("class") or "").split()
        if ("errors" in classes or "errorlist" in classes) and any(self.closed):
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "details" and self.closed:
            self.closed.pop()


def _errors_hidden(html: str) -> int:
    parser = _HiddenErrors()
    parser.feed(html)
    return parser.hidden


def _has_fields(empty: dict[str, str]) -> bool:
    """A form with something to fill in (not a button such as "check the chain")."""
    return any(value == "" for value in empty.values())


def _pages() -> list[tuple[str, str]]:
    pages: list[tuple[str, str]] = []
    for route in url_routes():
        if route.is_api or "<" in route.route or route.route.startswith(("api/", "i18n/")):
            continue
        if route.sample_path in {"/healthz", "/accounts/logout/"}:
            continue
        pages += [(username, route.sample_path) for username in PEOPLE]
    return pages + _case_pages()


@pytest.mark.usefixtures("demo")
def test_every_form_checks_its_input_itself_and_answers_an_empty_submission() -> None:
    clients = {username: signed_in(User.objects.get(username=username)) for username in PEOPLE}
    seen: set[tuple[str, str]] = set()
    problems: list[str] = []
    for username, path in _pages():
        client = clients[username]
        page = client.get(path)
        if page.status_code != 200 or "text/html" not in page.get("Content-Type", ""):
            continue
        for form, empty in _posted_forms(page.content.decode()):
            action = urljoin(path, form.get("action") or path)
            if action.startswith(NOT_WALKED) or (username, action) in seen:
                continue
            seen.add((username, action))
            where = f"{username} {path} → {action}"
            if "novalidate" not in form:
                problems.append(f"{where}: no novalidate (the browser's pop-ups would check it)")
            before = AuditEvent.objects.count()
            try:
                answer = client.post(action, empty)
            except Exception as exc:
                problems.append(f"{where}: server error {type(exc).__name__}: {exc}")
                continue
            if answer.status_code >= 500:
                problems.append(f"{where}: {answer.status_code}")
            elif answer.status_code in (200, 400) and _has_fields(empty):
                body = answer.content.decode()
                if 'class="errors' not in body and "errorlist" not in body:
                    problems.append(f"{where}: {answer.status_code} without an error list")
                if _errors_hidden(body):
                    problems.append(f"{where}: errors inside a collapsed section")
                if AuditEvent.objects.count() != before:
                    problems.append(f"{where}: refused, yet something was written")
            elif (
                answer.status_code == 302
                and form.get("role") != "search"
                and not list(get_messages(answer.wsgi_request))
            ):
                problems.append(f"{where}: went on without a message")
    assert seen, "no form was found"
    assert problems == [], "\n".join(problems)
