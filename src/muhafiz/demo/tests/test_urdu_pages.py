"""Every page in Urdu is Urdu: no string of the platform's own catalogues is left in English,
and English data inside Urdu text is isolated so it keeps its order (issue 15, item 13).

Each page the demo's people can open is rendered in Urdu, signed in as someone it opens for.
A visible text (or a label, placeholder or title) that is exactly one of the platform's own
English messages, or contains one of its longer messages, was not translated.
"""

from __future__ import annotations

import re
from functools import cache
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from muhafiz.accounts.models import User
from muhafiz.cases.models import Case, Victim
from muhafiz.catalogue.models import Agency, DeadlineRule, Offence, PoliceStation
from muhafiz.demo.cases import MARKER
from muhafiz.evidence.models import EvidenceItem
from muhafiz.testing import signed_in, url_routes

# Words that read the same in both languages or are names, not sentences of the platform.
SAME_IN_BOTH = frozenset({"Muhafiz", "English", "API", "CSV", "SHA-256", "PDF", "HTML", "FIR"})


@cache
def english_messages() -> tuple[frozenset[str], tuple[str, ...]]:
    """(short messages, longer message fragments) of every Urdu catalogue's msgids."""
    short: set[str] = set()
    long: set[str] = set()
    for po in Path(settings.PACKAGE_DIR).glob("**/locale/ur/LC_MESSAGES/django.po"):
        text = po.read_text(encoding="utf-8")
        for block in text.split("\n\n"):
            if "msgctxt" in block:
                continue
            found = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
            if not found:
                continue
            msgid = "".join(re.findall(r'"(.*)"', found.group(1))).replace('\\"', '"')
            if not msgid or msgid in SAME_IN_BOTH or not re.search(r"[A-Za-z]{3}", msgid):
                continue
            # Placeholders split a message into the literal pieces a page shows.
            for raw in re.split(r"%\(\w+\)[sdr]|%[sd]|\{\{[^}]*\}\}|<[^>]+>", msgid):
                piece = " ".join(raw.split()).strip(" :,.;—-")
                # A long sentence is looked for anywhere; a shorter message only as a whole
                # text (data such as a rule's name may contain a few of its words).
                if len(piece.split()) >= 6:
                    long.add(piece)
                elif piece and piece == " ".join(msgid.split()).strip(" :,.;—-"):
                    short.add(piece)
    return frozenset(short), tuple(sorted(long))


class _Text(HTMLParser):
    """Visible text nodes and the attributes people read, outside English-marked parts."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.skip = 0
        self.stack: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        english = values.get("lang") == "en" or tag in {"script", "style", "code", "pre"}
        if tag not in {"br", "img", "input", "meta", "link", "hr"}:
            self.stack.append(english)
            self.skip += english
        for name in ("aria-label", "placeholder", "title", "alt"):
            if values.get(name) and not self.skip:
                self.texts.append(str(values[name]))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"br", "img", "input", "meta", "link", "hr"} or not self.stack:
            return
        self.skip -= self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not self.skip and data.strip():
            self.texts.append(" ".join(data.split()))


# English data on a right-to-left page. The bidirectional algorithm orders the runs of a line
# from the right: "2026-10-28 20:24" shows as "20:24 2026-10-28" wherever it stands, and inside
# Urdu text a date's digits become Arabic numbers that hyphens do not join ("27-09-2024"), and
# a case reference breaks at its first hyphen ("2026-0001-LHR"). Each must be isolated.
DATE_AND_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}")
MIXED = re.compile(r"[A-Z]{1,4}-\d{4}-\d{4}|[A-Z]-\d{7}|\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}")
ISOLATED_RUN = re.compile("[\u2066\u2067\u2068][^\u2069]*\u2069")
ISOLATING_TAGS = frozenset({"bdi", "time", "code", "kbd", "samp", "input", "textarea", "option"})


class _Isolation(HTMLParser):
    """Text with English data (references, dates, times) that no element isolates."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.loose: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"br", "img", "input", "meta", "link", "hr"}:
            return
        values = dict(attrs)
        # `dir="auto"` or `dir="rtl"` on a block of Urdu text isolates the block, not the English
        # data inside it; only `dir="ltr"` sets that data's own direction.
        isolates = tag in ISOLATING_TAGS or values.get("dir") == "ltr" or tag in {"script", "style"}
        self.stack.append(isolates or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in {"br", "img", "input", "meta", "link", "hr"} and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        data = ISOLATED_RUN.sub("", data)  # text between Unicode's isolates keeps its order
        if (
            self.stack
            and not self.stack[-1]
            and (
                DATE_AND_TIME.search(data)
                or (MIXED.search(data) and re.search(r"[\u0600-\u06ff]", data))
            )
        ):
            self.loose.append(" ".join(data.split()))


def not_isolated(html: str) -> list[str]:
    """Urdu text nodes that carry English data inline without isolating it."""
    parser = _Isolation()
    parser.feed(html)
    return parser.loose


def untranslated(html: str) -> list[str]:
    short, long = english_messages()
    parser = _Text()
    parser.feed(html)
    found = []
    for text in parser.texts:
        bare = text.strip(" :,.;—-()")
        if bare in short:
            found.append(bare)
    whole = " ".join(parser.texts)
    found += [piece for piece in long if piece in whole]
    return sorted(set(found))


@pytest.fixture
def demo(db: None, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    call_command("seed_demo", stdout=StringIO())


def _urdu(username: str) -> Client:
    client = signed_in(User.objects.get(username=username))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ur"
    return client


# Who opens which pages: every page without arguments is tried as each of these people, and
# the pages of one case (and its parts) as its team.
PEOPLE = (
    "inv.lahore",
    "pros.lahore",
    "sup.lahore",
    "forensic.punjab",
    "cpo.lahore",
    "analyst",
    "auditor",
    "admin",
    "npb.register",
    # Their pages (the helpline form, the employer's vetting) were never read: no one above
    # opens them, and a page that did not answer 200 was skipped without a word.
    "helpline.1099",
    "employer.school",
)


# Pages no one reads with a plain GET, with why (each is checked elsewhere).
NOT_A_PAGE_TO_READ: dict[str, str] = {
    "/favicon.ico": "a redirect to the static icon",
    "/accounts/login/": "sign-in: a signed-in person is sent on (test_sign_in reads it)",
    "/accounts/verify/": "the second sign-in step: as above",
    "/accounts/enrol/": "linking an authenticator: as above",
    "/audit/verify/": "a form's target (POST): the audit page holds its button",
    "/statistics/refresh/run/": "a form's target (POST): the refresh page holds its button",
    "/cases/statistics/": "moved permanently to the statistics page",
    "/h/hash": "HMA hashing endpoint (JSON), not a page",
    "/m/raw_lookup": "HMA lookup endpoint (JSON), not a page",
    "/m/lookup": "HMA lookup endpoint (JSON), not a page",
}
_HMA = {400, 403}  # a GET without its query is a bad request for those who may use it
# A page whose refusal is not 403 for someone, with the statuses it may answer.
ALLOWED_STATUSES: dict[str, set[int]] = {
    "/favicon.ico": {301},
    "/accounts/login/": {302},
    "/accounts/verify/": {302},
    "/accounts/enrol/": {302},
    "/audit/verify/": {403, 405},
    "/statistics/refresh/run/": {403, 405},
    "/cases/statistics/": {301, 403},
    "/h/hash": _HMA,
    "/m/raw_lookup": _HMA,
    "/m/lookup": _HMA,
}


def _case_pages() -> list[tuple[str, str]]:
    case = Case.objects.get(summary__startswith=f"{MARKER} (LHR demo 1).")
    ref = case.reference
    victim = Victim.objects.filter(case=case).first()
    item = EvidenceItem.objects.filter(case=case).first()
    pages = [
        ("inv.lahore", f"/cases/{ref}/"),
        ("inv.lahore", f"/cases/{ref}/edit/"),
        ("inv.lahore", f"/cases/{ref}/accused/A1/"),
        ("inv.lahore", f"/cases/{ref}/victims/new/"),
        ("inv.lahore", f"/cases/{ref}/accused/new/"),
        ("inv.lahore", f"/cases/{ref}/proceedings/"),
        ("inv.lahore", f"/cases/{ref}/evidence/"),
        ("inv.lahore", f"/cases/{ref}/parties/"),
        ("inv.lahore", f"/cases/{ref}/links/"),
        ("inv.lahore", f"/cases/{ref}/referrals/"),
        ("inv.lahore", f"/cases/{ref}/history/"),
        ("cpo.lahore", f"/cases/{ref}/"),
        ("cpo.lahore", f"/cases/{ref}/parties/"),
        ("cpo.lahore", f"/cases/{ref}/referrals/"),
        ("auditor", f"/audit/?case={ref}"),
    ]
    if victim is not None:
        pages.append(("inv.lahore", f"/cases/{ref}/victims/{victim.pseudonym}/"))
    if item is not None:
        pages.append(("forensic.punjab", f"/evidence/items/{item.pk}/"))
        pages.append(("forensic.punjab", f"/evidence/items/{item.pk}/correct/"))
        pages.append(("forensic.punjab", f"/evidence/items/{item.pk}/custody/1/"))
    pages += [
        ("admin", f"/catalogue/offences/{Offence.objects.first().pk}/"),  # type: ignore[union-attr]
        ("admin", f"/catalogue/deadlines/{DeadlineRule.objects.first().pk}/"),  # type: ignore[union-attr]
        ("admin", f"/catalogue/agencies/{Agency.objects.first().pk}/"),  # type: ignore[union-attr]
        ("admin", f"/catalogue/stations/{PoliceStation.objects.first().pk}/"),  # type: ignore[union-attr]
        ("admin", f"/accounts/users/{User.objects.get(username='inv.lahore').pk}/"),
    ]
    return pages


def test_every_page_in_urdu_has_no_untranslated_string_of_the_platform(demo: None) -> None:
    clients = {username: _urdu(username) for username in PEOPLE}
    pages: list[tuple[str, str]] = []
    for route in url_routes():
        if route.is_api or "<" in route.route or route.route.startswith(("api/", "i18n/")):
            continue
        path = route.sample_path
        if path in {"/healthz", "/accounts/logout/"}:
            continue
        for username in PEOPLE:
            pages.append((username, path))
    # A page of one case is opened by the person named for it: anything but 200 fails.
    must_open = _case_pages()
    pages += must_open
    problems: dict[str, list[str]] = {}
    opened = 0
    answers: dict[str, dict[str, int]] = {}
    for username, path in pages:
        response = clients[username].get(path)
        answers.setdefault(path, {})[username] = response.status_code
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        html = response.content.decode()
        if "<html" not in html:
            continue  # a fragment for htmx, checked on the page that holds it
        opened += 1
        assert 'dir="rtl"' in html, path
        left = untranslated(html) + [f"not isolated: {t}" for t in not_isolated(html)]
        if left:
            problems.setdefault(path, sorted(set(problems.get(path, [])) | set(left)))
    # No page is skipped in silence (issue 15): each page of a case answers 200 for its person;
    # every other page answers 200 for someone, and anyone else is refused (403) or sent on
    # (302: to sign in again, or a page that is only a form's target) - never 404 or 500.
    failed = [f"{u} {p}: {answers[p][u]}" for u, p in must_open if answers[p][u] != 200]
    failed += [
        f"{p}: {by}"
        for p, by in answers.items()
        if 200 not in by.values() and p not in NOT_A_PAGE_TO_READ
    ]
    failed += [
        f"{u} {p}: {code}"
        for p, by in answers.items()
        for u, code in by.items()
        if code not in ALLOWED_STATUSES.get(p, {200, 302, 403})
    ]
    assert failed == [], "\n".join(failed)
    assert opened > 40
    assert problems == {}, "\n".join(f"{path}: {left}" for path, left in problems.items())


def test_the_check_finds_an_english_string(demo: None) -> None:
    assert untranslated('<html><body><p>Record a stage</p><p lang="en">Cases</p></body></html>')
    assert untranslated('<p><span title="Filter the audit log">x</span></p>') == [
        "Filter the audit log"
    ]
    assert untranslated("<p>ریکارڈ</p>") == []


def test_the_check_finds_english_data_not_isolated_in_urdu_text() -> None:
    assert not_isolated("<p>آخری تاریخ 2026-12-09 تھی</p>") == ["آخری تاریخ 2026-12-09 تھی"]
    assert not_isolated("<p>مثلاً LHR-2026-0001۔</p>") == ["مثلاً LHR-2026-0001۔"]
    assert not_isolated("<td>2026-10-28 20:24</td>") == ["2026-10-28 20:24"]
    # The page's own direction isolates nothing inside it.
    assert not_isolated('<html dir="rtl"><p>وقت 23:59 تھا</p></html>') == ["وقت 23:59 تھا"]
    assert not_isolated("<p>مقدمہ <bdi>LHR-2026-0001</bdi> کھولا گیا</p>") == []
    assert not_isolated('<p>آخری تاریخ <time datetime="x">2026-12-09 23:59</time></p>') == []
    # An Urdu block marked dir="auto" does not isolate the date inside it; Unicode's isolates do.
    assert not_isolated('<p dir="auto">آخری تاریخ 2024-09-27 23:59 تھی</p>')
    assert not_isolated("<p>آخری تاریخ \u20682024-09-27 23:59\u2069 تھی</p>") == []
