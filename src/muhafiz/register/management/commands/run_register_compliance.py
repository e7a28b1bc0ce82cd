"""`muhafiz manage run_register_compliance`: the register's daily compliance job, once.

Schedule it daily (`0 2 * * * muhafiz manage run_register_compliance`); `--enqueue` queues it
for a worker on the clocks queue; `--now` evaluates as of another time (replays, tests).
Running it twice is harmless: each absconder is alerted once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from muhafiz.core.permissions import SYSTEM
from muhafiz.register.actions import evaluate_compliance


class Command(BaseCommand):
    help = "Evaluate every registrant's compliance clocks; flag absconders and alert once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--now", help="Evaluate as of this ISO time, e.g. 2026-03-20T18:00+05:00"
        )
        parser.add_argument("--enqueue", action="store_true", help="Queue it for a worker.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from muhafiz.register.tasks import evaluate_compliance_task

            queued = evaluate_compliance_task.enqueue()
            self.stdout.write(f"queued register compliance {queued.id}")
            return
        now: datetime | None = None
        if options["now"]:
            try:
                now = datetime.fromisoformat(options["now"])
            except ValueError as exc:
                raise CommandError(f"--now: {exc}") from exc
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
        run = evaluate_compliance(SYSTEM, now=now)
        self.stdout.write(
            f"register: {run.missed} clocks newly missed, {run.non_compliant} non-compliant, "
            f"{run.absconders} absconders, {run.alerts} alerts, {run.removal_due} removals due, "
            f"{run.judgments_caught} judgments caught up, {run.seconds:.2f} s"
        )
