"""A demo person's current TOTP code, so the demo's sign-in works on a machine without an
authenticator app or `oathtool`.

Refused in the production profile, and for anyone whose authenticator is not the demo's fixed
secret for that demo username: it never prints the code of a real person's device.
"""

from __future__ import annotations

from django.conf import settings
from django_otp.oath import totp

from muhafiz.demo.management.commands.seed_demo import DEMO_PEOPLE


class DemoCodeRefusedError(Exception):
    """Why no code is printed."""


def current_demo_code(username: str) -> str:
    if getattr(settings, "PRODUCTION", False):
        raise DemoCodeRefusedError(
            "demo-code prints sign-in codes of the demo's people: not in production"
        )
    person = next((p for p in DEMO_PEOPLE if p.username == username), None)
    if person is None:
        names = ", ".join(p.username for p in DEMO_PEOPLE)
        raise DemoCodeRefusedError(f"{username!r} is not a demo person (one of: {names})")
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(
        user__username=username, confirmed=True, key=person.totp_key_hex
    ).first()
    if device is None:
        raise DemoCodeRefusedError(
            f"{username} has no demo authenticator here: run `muhafiz demo` (or "
            "`muhafiz manage seed_demo`) first"
        )
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{code:0{device.digits}d}"
