"""`muhafiz manage run_register_clocks`: alert once on register checks past their 48 hours and
reviews past their decision date.

Schedule it with the statutory clocks (docs/deploy.md: the clocks timer, every 15 minutes),
or run it as a long-lived process with `--every 900`; `--enqueue` queues one run on the clocks
queue; `--now` evaluates as of another time (replays, tests). Running it twice is harmless.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from muhafiz.core.permissions import SYSTEM
from muhafiz.register.actions import evaluate_register_clocks


class Command(BaseCommand):
    help = "Alert once on register checks and reviews past their deadlines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", help="Evaluate as of this ISO time, e.g. 2026-03-20T18:00+05:00"
        )
        parser.add_argument(
            "--every", type=int, default=0, help="Repeat every N seconds until stopped."
        )
        parser.add_argument("--enqueue", action="store_true", help="Queue it for a worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from muhafiz.register.tasks import evaluate_register_clocks_task

            queued = evaluate_register_clocks_task.enqueue()
            self.stdout.write(f"queued register clocks {queued.id}")
            return
        now: datetime | None = None
        if options["now"]:
            try:
                now = datetime.fromisoformat(options["now"])
            except ValueError as exc:
                raise CommandError(f"--now: {exc}") from exc
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        while True:
            run = evaluate_register_clocks(SYSTEM, now=now)
            self.stdout.write(
                f"register clocks: {run.checks} checks and {run.reviews} reviews overdue, "
                f"{run.alerts} new alerts"
            )
            if options["every"] <= 0:
                return
            time.sleep(options["every"])
