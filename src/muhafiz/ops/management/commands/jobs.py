"""`jobs`: list failed background jobs with their error, and retry one as an administrator."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser

from muhafiz.ops.jobs import JobNotRetryableError, failed_jobs, retry_task


class Command(BaseCommand):
    help = "List failed background jobs (`jobs failed`) or retry one (`jobs retry ID --as USER`)."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        failed = commands.add_parser("failed", help="Failed jobs, newest first.")
        failed.add_argument("--limit", type=int, default=50)
        failed.add_argument(
            "--traceback", action="store_true", help="Print each job's whole traceback."
        )
        failed.add_argument(
            "--pending", action="store_true", help="Only failed jobs that were not retried yet."
        )
        retry = commands.add_parser("retry", help="Queue a failed job again, same arguments.")
        retry.add_argument("job_id")
        retry.add_argument(
            "--as", dest="username", required=True, help="The administrator who retries it."
        )
        retry.add_argument("--reason", default="", help="Why (kept in the audit log).")

    def handle(self, *args: Any, command: str, **options: Any) -> None:
        if command == "failed":
            self._failed(options["limit"], options["traceback"], options["pending"])
        else:
            self._retry(options["job_id"], options["username"], options["reason"])

    def _failed(self, limit: int, traceback: bool, pending: bool) -> None:
        jobs = failed_jobs(limit=limit, include_retried=not pending)
        if not jobs:
            self.stdout.write("No failed jobs.")
            return
        for job in jobs:
            when = job.finished_at.isoformat(timespec="seconds") if job.finished_at else "?"
            retried = f"  retried as {job.retried_as}" if job.retried_as else ""
            self.stdout.write(f"{job.id}  {when}  {job.queue_name}  {job.task_path}{retried}")
            self.stdout.write(f"    {job.error}")
            if traceback:
                self.stdout.write(job.traceback)

    def _retry(self, job_id: str, username: str, reason: str) -> None:
        from muhafiz.accounts.models import User

        try:
            actor = User.objects.get(username=username, is_active=True)
        except User.DoesNotExist:
            raise CommandError(f"there is no active user {username!r}") from None
        try:
            new_id = retry_task(actor, job_id, reason=reason)
        except PermissionDenied:
            raise CommandError(f"{username} may not manage jobs (administrators only)") from None
        except JobNotRetryableError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Queued again as {new_id}.")
