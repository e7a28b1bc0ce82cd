"""`muhafiz backup FILE`: a consistent snapshot of the database and data directory in one file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from muhafiz.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Write a consistent snapshot of the database and the data directory to one file."
    # A backup must work even when something else is misconfigured (that is when it matters).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", help="The backup file to write (must not exist).")
        parser.add_argument("--data-dir", help="The data directory (default: MUHAFIZ_DATA_DIR).")

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = Path(options["data_dir"]) if options["data_dir"] else None
        try:
            manifest = create_backup(Path(options["target"]), data_dir=data_dir)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        counts = manifest["database"]["row_counts"]
        files = sum(1 for name in manifest["members"] if name.startswith("data/"))
        self.stdout.write(
            self.style.SUCCESS(
                f"Backup written to {options['target']}: {manifest['database']['vendor']} "
                f"database ({len(counts)} tables, {sum(counts.values())} rows), {files} files, "
                f"audit chain head {manifest['audit']['head_sequence']} "
                f"{manifest['audit']['head_hash']}."
            )
        )
        if "data/field_keys" in manifest["members"]:
            self.stdout.write(
                "The backup includes the field-encryption key file: store it as safely as the "
                "server itself."
            )
