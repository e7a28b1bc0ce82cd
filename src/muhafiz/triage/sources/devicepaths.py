"""Where a member of a phone dump lived on the phone: Android tar/zip dumps and ADB backups.

A dump of `/sdcard` or `/data` made with `adb pull`, `tar` or a forensic tool keeps the device's
own paths (`sdcard/DCIM/…`, `data/media/0/WhatsApp/…`); an `adb backup` file stores app data under
tokens (`apps/<package>/f/…` is `/data/data/<package>/files/…`, `shared/0/…` is `/sdcard/…`).
Only members of the top-level archive get a device path: an archive found inside a dump was a
file on the phone, its members were not.
"""

from __future__ import annotations

ADB_MIME = "application/x-android-backup"

# adb backup tokens (Android's FullBackup): token -> path under the app's data.
_APP_TOKENS = {
    "a": "/data/app/{pkg}",
    "f": "/data/data/{pkg}/files",
    "db": "/data/data/{pkg}/databases",
    "sp": "/data/data/{pkg}/shared_prefs",
    "r": "/data/data/{pkg}",
    "c": "/data/data/{pkg}/cache",
    "nb": "/data/data/{pkg}/no_backup",
    "d_f": "/data/user_de/0/{pkg}/files",
    "d_db": "/data/user_de/0/{pkg}/databases",
    "d_sp": "/data/user_de/0/{pkg}/shared_prefs",
    "d_r": "/data/user_de/0/{pkg}",
    "ef": "/sdcard/Android/data/{pkg}/files",
    "obb": "/sdcard/Android/obb/{pkg}",
}
_DATA_DIRS = frozenset({"data", "media", "app", "user", "user_de", "system", "misc", "local"})
_ROOTS = frozenset({"sdcard", "storage", "mnt"})


def device_path_of(member: str, container_mime: str | None) -> str | None:
    """The device path of a top-level dump member, or None when the name does not say."""
    name = member.replace("\\", "/")
    while name.startswith(("./", "/")):
        name = name[2:] if name.startswith("./") else name[1:]
    parts = name.split("/")
    if container_mime == ADB_MIME:
        return _adb_path(parts)
    if len(parts) < 2:
        return None
    if parts[0] in _ROOTS or (parts[0] == "data" and parts[1] in _DATA_DIRS):
        return "/" + name
    return None


def _adb_path(parts: list[str]) -> str | None:
    if len(parts) >= 3 and parts[0] == "shared":  # shared/0/DCIM/... = the user's storage
        return "/sdcard/" + "/".join(parts[2:])
    if len(parts) >= 4 and parts[0] == "apps":
        template = _APP_TOKENS.get(parts[2])
        if template is not None:
            return template.format(pkg=parts[1]) + "/" + "/".join(parts[3:])
    return None
