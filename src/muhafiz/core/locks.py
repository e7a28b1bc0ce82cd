"""Named locks held by a running process and released by the operating system when it dies.

A long command (a bank import from the shell) marks its work in the database as it goes; when
the process is killed with `kill -9` those marks stay, and nothing in the database says whether
their owner still runs. A lock the kernel or the database server releases with the process
answers that: while the lock is free, nobody is doing that work.

- SQLite (one machine): `flock` on a file in the data directory's `locks/` folder; the kernel
  releases it when the process ends, however it ends.
- PostgreSQL (many machines): a session advisory lock on the process's connection; the server
  releases it when the connection drops.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connections

from muhafiz.core.datadir import secure_directory


class LockHeldError(Exception):
    """Another live process holds the lock."""


def _key(name: str) -> tuple[str, int]:
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    # A signed 64-bit advisory-lock key, and a file name that is safe whatever `name` holds.
    return digest.hex()[:32], int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def process_lock(name: str, *, using: str = "default") -> Iterator[None]:
    """Hold the lock `name` for the block; `LockHeldError` at once if a live process holds it."""
    file_name, key = _key(name)
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            (got,) = cursor.fetchone()
        if not got:
            raise LockHeldError(name)
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    folder = secure_directory(Path(settings.DATA_DIR) / "locks")
    with (folder / f"{file_name}.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LockHeldError(name) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
