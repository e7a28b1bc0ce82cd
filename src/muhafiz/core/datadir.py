"""The data directory's protection: owner-only permissions and no upload left half-written.

The data directory holds the SQLite database (case summaries and accused names are plaintext
there), stored scan files and upload temporaries: only the account that runs Muhafiz may read
them. Every entry point (settings, so every Django process; the `muhafiz` command) sets the
umask first, and the places that create files also set their mode explicitly, because the
process umask is not under our control when Muhafiz runs inside another program.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable
from pathlib import Path

PRIVATE_UMASK = 0o077
DIR_MODE = 0o700
FILE_MODE = 0o600
# Upload temporaries older than this are left over from a killed process: an upload in
# progress in another worker is younger (an upload is limited in size, not in time, but no
# upload takes hours).
STALE_UPLOAD_SECONDS = 3600


def private_umask() -> None:
    """New files and folders are the owner's only (0600 / 0700)."""
    os.umask(PRIVATE_UMASK)


def secure_directory(path: Path) -> Path:
    """Create `path` (and parents) if needed, owner-only; tighten an existing one we own."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    with contextlib.suppress(PermissionError):  # not ours (a shared mount): leave it be
        if path.stat().st_mode & 0o777 != DIR_MODE:
            path.chmod(DIR_MODE)
    return path


def secure_file(path: Path) -> Path:
    """Make an existing file owner-only (0600)."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        if path.stat().st_mode & 0o777 != FILE_MODE:
            path.chmod(FILE_MODE)
    return path


def secure_database_files(database: Path) -> None:
    """The SQLite database and its journal files, as SQLite may have made them before."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        secure_file(database.with_name(database.name + suffix))


def remove_stale_uploads(
    places: Iterable[tuple[Path, str]],
    *,
    older_than: float = STALE_UPLOAD_SECONDS,
    now: float | None = None,
) -> list[Path]:
    """Delete upload temporaries a killed process left behind (a kill -9 mid-upload), and only
    those: files matching each (folder, glob pattern) older than `older_than` seconds."""
    moment = time.time() if now is None else now
    removed: list[Path] = []
    for folder, pattern in places:
        if not folder.is_dir():
            continue
        for path in folder.glob(pattern):
            if path.is_symlink() or not path.is_file():
                continue
            with contextlib.suppress(FileNotFoundError):
                if moment - path.stat().st_mtime > older_than:
                    path.unlink()
                    removed.append(path)
    return removed
