"""Browser-test helpers shared by every app: Debian's Chromium driven by Playwright.

The `browser` fixture (src/muhafiz/conftest.py) launches one headless Chromium per test module;
`new_page` opens a tab that collects Content-Security-Policy errors, `page_as` one that is
already signed in past two-factor, and `snap` keeps a screenshot under the data directory for a
person to look at. Only tests import this module.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from muhafiz.testing import signed_in

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps calling out to a closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

needs_chromium = [
    pytest.mark.browser,
    pytest.mark.skipif(shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed"),
]


def launch_chromium() -> Iterator[Any]:
    """Yield a headless Chromium; the body of the `browser` fixture."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the test's own database
    # calls are still plain synchronous ones, so Django's async guard is lifted meanwhile.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def new_page(browser: Any, *, height: int = 900) -> Any:
    """A fresh tab whose `csp_errors` list collects every Content-Security-Policy complaint."""
    context = browser.new_context(viewport={"width": 1200, "height": height}, locale="en-GB")
    page = context.new_page()
    page.csp_errors = []
    page.on(
        "console",
        lambda message: (
            page.csp_errors.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )
    return page


def page_as(browser: Any, live_server: Any, user: Any) -> Any:
    """A tab signed in as `user`, password and two-factor already passed."""
    client = signed_in(user)
    page = new_page(browser)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return page


def screenshots_dir() -> Path:
    folder = Path(settings.DATA_DIR) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def snap(page: Any, name: str) -> None:
    """Keep a full-page screenshot as DATA_DIR/screenshots/<name>.png."""
    page.screenshot(path=str(screenshots_dir() / f"{name}.png"), full_page=True)
