"""`muhafiz keys rotate`: re-encrypt every encrypted field with the newest key of the ring."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from muhafiz.core import crypto
from muhafiz.ops.keys import reencrypt_all


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field and recompute every blind index with the first key "
        "of the key ring. To rotate, put a new key first in MUHAFIZ_FIELD_KEYS (keep the old "
        "ones after it until this has run), or use --new-key on a laptop installation."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new-key",
            action="store_true",
            help="Generate a new key first in the data directory's key file, then re-encrypt.",
        )
        parser.add_argument(
            "--print-new-key",
            action="store_true",
            help="Print a new id:base64key entry for MUHAFIZ_FIELD_KEYS and exit.",
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["print_new_key"]:
            self.stdout.write(crypto.new_key_entry())
            return
        try:
            if options["new_key"]:
                self._add_key_to_file()
            ring = crypto.key_ring()
            report = reencrypt_all(batch_size=options["batch_size"])
        except (crypto.FieldKeyError, crypto.DecryptionError) as exc:
            raise CommandError(str(exc)) from exc
        for label, count in report.rows.items():
            self.stdout.write(f"{label}: {count} rows re-encrypted")
        self.stdout.write(
            self.style.SUCCESS(
                f"Every encrypted value now uses key {report.key_id!r} "
                f"({report.total} rows changed). Keys in the ring: "
                f"{', '.join(k.key_id for k in ring.keys)}; older keys can be removed once "
                "every backup that needs them has expired."
            )
        )

    def _add_key_to_file(self) -> None:
        if settings.MUHAFIZ_FIELD_KEYS:
            raise CommandError(
                "the key ring comes from MUHAFIZ_FIELD_KEYS: put a new key first there "
                "(generate one with --print-new-key) and run this again without --new-key"
            )
        path = settings.MUHAFIZ_FIELD_KEYS_PATH
        crypto.key_ring()  # creates the file on a fresh installation
        entry = crypto.new_key_entry()
        crypto.prepend_key_file(path, entry)
        crypto.reset_key_ring()
        self.stdout.write(f"Added key {entry.split(':', 1)[0]!r} first in {path}")
