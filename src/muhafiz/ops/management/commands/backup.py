"""`muhafiz backup FILE`: a consistent snapshot of the database and data directory in one file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from muhafiz.ops.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Write a consistent snapshot of the database and the data directory to one file."
    # A backup must work even when something else is misconfigured (that is when it matters).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("target", help="The backup file to write (must not exist).")
        parser.add_argument("--data-dir", help="The data directory (default: MUHAFIZ_DATA_DIR).")
        parser.add_argument(
            "--include-keys",
            action="store_true",
            help="Also put the data directory's field-key file in the backup (then the backup "
            "alone decrypts victim identity: keep it as safe as the server).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir = Path(options["data_dir"]) if options["data_dir"] else None
        try:
            manifest = create_backup(
                Path(options["target"]), data_dir=data_dir, include_keys=options["include_keys"]
            )
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
        keys = ", ".join(sorted(manifest["field_keys"])) or "none"
        if manifest["field_keys_included"]:
            self.stdout.write(
                f"The backup includes the field-key file (keys {keys}): it alone decrypts "
                "victim identity, so store it as safely as the server itself."
            )
        else:
            self.stdout.write(
                f"Field keys are NOT in the backup (keys {keys}); keep them separately for as "
                "long as the backup is kept."
            )
