"""`muhafiz restore FILE`: restore a backup into an empty data directory and database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from muhafiz.ops.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup into an empty data directory and an empty database, then verify row "
        "counts and the audit chain against the backup's manifest."
    )
    # The target is empty on purpose: no checks (they would create files in it).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", help="The backup file.")
        parser.add_argument("--data-dir", help="The data directory (default: MUHAFIZ_DATA_DIR).")

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = Path(options["data_dir"]) if options["data_dir"] else None
        try:
            report = restore_backup(Path(options["source"]), data_dir=data_dir)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        manifest = report.manifest
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} (Muhafiz "
            f"{manifest['tool']['version']}): {report.tables} tables, {report.rows} rows, "
            f"{report.files} files."
        )
        for warning in report.warnings:
            self.stderr.write(self.style.WARNING(f"WARNING: {warning}"))
        if not report.ok:
            for problem in report.problems:
                self.stderr.write(f"  - {problem}")
            raise CommandError("the restored data does NOT match the backup's manifest")
        self.stdout.write(
            self.style.SUCCESS(
                f"Verified: every table's row count matches, and the audit chain is intact "
                f"({report.audit_events} entries, head {report.audit_head})."
            )
        )
