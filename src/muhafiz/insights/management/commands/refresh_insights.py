"""`muhafiz manage refresh_insights`: rebuild the statistics summary tables once, or every N s.

Schedule it from cron (`0 * * * * muhafiz manage refresh_insights`), a systemd timer, or run it
as a long-lived process with `--every 3600`; `--enqueue` puts one refresh on the queue for a
`muhafiz worker` instead. `--overdue` rebuilds only the staff overdue dashboard's tables (run
it with the clock job: `*/5 * * * * muhafiz manage run_clocks && muhafiz manage
refresh_insights --overdue`). Each refresh replaces its tables in one transaction, audited.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from muhafiz.core.permissions import SYSTEM
from muhafiz.insights.actions import refresh_overdue, refresh_summaries


class Command(BaseCommand):
    help = "Rebuild the statistics summary tables and the published (suppressed) figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every", type=int, default=0, help="Repeat every N seconds until stopped."
        )
        parser.add_argument(
            "--enqueue", action="store_true", help="Queue one refresh for a worker instead."
        )
        parser.add_argument(
            "--overdue",
            action="store_true",
            help="Only the overdue dashboard's tables (quick; run it after each clock job).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue"]:
            from muhafiz.insights.tasks import refresh_summaries_task

            queued = refresh_summaries_task.enqueue()
            self.stdout.write(f"queued statistics refresh {queued.id}")
            return
        while True:
            if options["overdue"]:
                done = refresh_overdue(SYSTEM)
                self.stdout.write(f"overdue dashboard: {done.rows} rows, {done.seconds:.2f} s")
                if options["every"] <= 0:
                    return
                time.sleep(options["every"])
                continue
            done = refresh_summaries(SYSTEM)
            self.stdout.write(
                f"statistics: {done.cases_counted} cases counted, {done.cases_left_out} left "
                f"out (no statistics consent), {done.rows} rows, {done.seconds:.2f} s"
            )
            if options["every"] <= 0:
                return
            time.sleep(options["every"])
