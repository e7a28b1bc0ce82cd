"""`muhafiz manage run_clocks`: evaluate every running statutory clock once, or every N seconds.

Schedule it from cron (`*/5 * * * * muhafiz manage run_clocks`), from a systemd timer, or run it
as a long-lived process with `--every 300`. `--enqueue` puts one evaluation on the "clocks" queue
for a `muhafiz worker` (all queues by default, or `--queue clocks`) instead of running it here.
Running it twice, or on two machines at once, is harmless: each clock alerts its case's
supervisors and prosecutors once per state.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from muhafiz.core.permissions import SYSTEM
from muhafiz.proceedings.actions import evaluate_clocks


class Command(BaseCommand):
    help = "Evaluate every running statutory clock; alert supervisors and prosecutors once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now",
            help="Evaluate as of this ISO time (for replaying or testing), e.g. "
            "2026-03-20T18:00+05:00",
        )
        parser.add_argument(
            "--every", type=int, default=0, help="Repeat every N seconds until stopped."
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue one evaluation for a worker instead."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from muhafiz.proceedings.tasks import evaluate_clocks_task

            queued = evaluate_clocks_task.enqueue()
            self.stdout.write(f"queued clock evaluation {queued.id}")
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
            result = evaluate_clocks(SYSTEM, now=now)
            self.stdout.write(
                f"clocks: {result.missed} newly missed, {result.due_soon} newly nearly due, "
                f"{result.alerts} alerts, {result.started} cases opened, "
                f"{result.seconds:.2f} s"
            )
            if options["every"] <= 0:
                return
            time.sleep(options["every"])
