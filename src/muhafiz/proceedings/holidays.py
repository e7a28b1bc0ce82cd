"""The holiday calendar that business-day clocks skip: shipped years installed after migrate.

Fixed-date holidays are the same every year; lunar ones (the Eids, Ashura, Eid Milad-un-Nabi) are
notified by the Cabinet Division each year and move with the moon, so a deployment's
administrator confirms or corrects them. Rows already present are never overwritten.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps

FIXTURES = sorted((Path(__file__).resolve().parent / "fixtures").glob("holidays_*.json"))


def shipped_holidays() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for path in FIXTURES:
        rows += [row["fields"] for row in json.loads(path.read_text(encoding="utf-8"))]
    return rows


def install_holidays(*, using: str = "default", apps: Apps = global_apps) -> int:
    model = apps.get_model("proceedings", "Holiday")
    have = {str(d) for d in model._default_manager.using(using).values_list("date", flat=True)}
    new = [model(**row) for row in shipped_holidays() if row["date"] not in have]
    model._default_manager.using(using).bulk_create(new)
    return len(new)


def install_after_migrate(*, using: str = "default", apps: Apps = global_apps, **_: Any) -> None:
    try:
        apps.get_model("proceedings", "Holiday")
    except LookupError:
        return
    install_holidays(using=using, apps=apps)
