"""`muhafiz manage refresh_insights`: rebuild the statistics summary tables once, or every N s.

Schedule it from cron (`0 * * * * muhafiz manage refresh_insights`), a systemd timer, or run it
as a long-lived process with `--every 3600`; `--enqueue` puts one refresh on the queue for a
`muhafiz worker` instead. `--overdue` rebuilds only the staff overdue dashboard's tables; the
clock job queues that itself after every run (`run_clocks`, or its task), for the next
`muhafiz worker` on the clocks queue. Each refresh replaces its tables in one transaction,
audited.
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
            from muhafiz.insights.tasks import refresh_overdue_task, refresh_summaries_task

            task = refresh_overdue_task if options["overdue"] else refresh_summaries_task
            queued = task.enqueue()
            self.stdout.write(
                f"queued {'overdue' if options['overdue'] else 'statistics'} refresh {queued.id}"
            )
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
