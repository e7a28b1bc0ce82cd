"""`create_administrator`: the first administrator of an installation, made at the command line.

Everyone else is created by an administrator on the People pages. This command is for the first
one (and for an installation where no administrator can sign in any more). The account is
national, belongs to the given agency or to the catalogue's platform-operator agency, gets a
one-time password printed once, and must choose its own password and enrol an authenticator app
at its first sign-in. The creation is audited as the system.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from muhafiz.accounts.actions import create_administrator_as_system
from muhafiz.catalogue.models import Agency, AgencyKind
from muhafiz.core.permissions import SYSTEM


def _agency(code: str | None) -> Agency:
    if code:
        agency = Agency.objects.filter(code=code).first()
        if agency is None:
            raise CommandError(f"there is no agency {code!r} in the catalogue")
        if not agency.active:
            raise CommandError(f"agency {code!r} is deactivated in the catalogue")
        return agency
    agency = Agency.objects.filter(kind=AgencyKind.PLATFORM, active=True).order_by("code").first()
    if agency is None:
        raise CommandError(
            "the catalogue has no platform-operator agency: run `muhafiz manage migrate` "
            "(it installs the shipped catalogue) or name one with --agency CODE"
        )
    return agency


class Command(BaseCommand):
    help = (
        "Create an administrator (national) with a one-time password shown once; "
        "refuses an existing username."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--agency",
            default=None,
            help="Catalogue agency code (default: the platform operator, e.g. MUHAFIZ).",
        )
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--reason",
            default="first administrator of the installation",
            help="Kept in the audit log.",
        )

    def handle(self, *args: Any, username: str, **options: Any) -> None:
        agency = _agency(options["agency"])
        try:
            user, password = create_administrator_as_system(
                SYSTEM,
                username=username,
                agency=agency,
                first_name=options["first_name"],
                last_name=options["last_name"],
                email=options["email"],
                reason=options["reason"],
            )
        except ValidationError as exc:
            messages = [
                f"{name}: {message}" if name != "__all__" else message
                for name, errors in exc.message_dict.items()
                for message in errors
            ]
            raise CommandError("; ".join(messages)) from None
        self.stdout.write(f"Administrator {user.username} created ({agency.code}, national).")
        self.stdout.write(f"One-time password (shown only now): {password}")
        self.stdout.write(
            "Hand it over in person. At the first sign-in they choose their own password and "
            "link an authenticator app (two-factor is required)."
        )
