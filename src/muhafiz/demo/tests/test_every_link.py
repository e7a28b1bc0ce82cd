"""Every link a page offers opens for the person it is offered to.

A link that answers "forbidden" or "not found" is a dead end the person was sent into: the
page should have left it out (or pointed at a page they may open). The walk is the forms
walk's: every page of the URL conf without arguments as each demo person, and the pages of one
case and its parts as its team; from there every same-site link is followed, once per person,
and the pages it reaches are read for their links too.
"""

from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest

from muhafiz.accounts.models import User
from muhafiz.demo.tests.test_every_form import _pages
from muhafiz.demo.tests.test_urdu_pages import (
    PEOPLE,
    demo,  # noqa: F401 - the seeded demo, a fixture
)
from muhafiz.testing import signed_in

NOT_FOLLOWED = ("/accounts/logout/", "/i18n/", "/static/")
# A person's walk stops after this many pages (the demo has far fewer).
MOST_PAGES = 300


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def _links(path: str, html: str) -> set[str]:
    parser = _Links()
    parser.feed(html)
    found = set()
    for href in parser.hrefs:
        url = urlsplit(urljoin(path, href))
        if url.scheme in ("", "http") and url.netloc in ("", "testserver") and url.path:
            target = url.path + (f"?{url.query}" if url.query else "")
            if not target.startswith(NOT_FOLLOWED):
                found.add(target)
    return found


@pytest.mark.usefixtures("demo")
def test_no_page_offers_a_link_its_reader_may_not_open() -> None:
    clients = {username: signed_in(User.objects.get(username=username)) for username in PEOPLE}
    queue = deque((username, path, "") for username, path in _pages())
    opened: set[tuple[str, str, tuple[str, ...]]] = set()
    dead: list[str] = []
    while queue:
        username, path, offered_on = queue.popleft()
        # Each address once per person with each set of query names: the values (pages,
        # sorting, one district or another) lead to pages alike.
        url = urlsplit(path)
        key = (username, url.path, tuple(sorted(dict(parse_qsl(url.query)))))
        if key in opened:
            continue
        opened.add(key)
        assert len(opened) < MOST_PAGES * len(PEOPLE), "the walk does not end"
        page = clients[username].get(path)
        if offered_on and (page.status_code in (403, 404) or page.status_code >= 500):
            dead.append(f"{username} on {offered_on}: {path} answers {page.status_code}")
        if page.status_code != 200 or page.streaming or "text/html" not in page["Content-Type"]:
            continue  # a download (a report, a CSV), or not a page
        queue.extend(
            (username, target, path) for target in sorted(_links(path, page.content.decode()))
        )
    assert len(opened) > len(PEOPLE), "no link was followed"
    assert dead == [], "\n".join(dead)
