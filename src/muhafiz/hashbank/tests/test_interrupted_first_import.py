"""A new bank whose first import was killed with `kill -9` does not block its own name (issue 8).

Before: `muhafiz bank import --create` made the bank (disabled, out of matching) and then
imported; killed in between, the command left an empty, disabled bank under the name, and the
next `--create` was refused ("already exists"), while a killed import's `running` record
refused every import into the bank for ten minutes. Now the command holds a lock the operating
system (or PostgreSQL) releases with the process, the next run finds the lock free and starts
the bank again, and an import holding the bank's lock knows a `running` record is dead.

The commands run as real processes on the test database, and are really killed.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections

from muhafiz.core.locks import LockHeldError, process_lock
from muhafiz.core.permissions import SYSTEM
from muhafiz.hashbank import actions
from muhafiz.hashbank.models import Bank, BankEntry, BankImport, ImportStatus
from muhafiz.hashbank.tests.conftest import random_hex

pytestmark = pytest.mark.usefixtures("flushable_audit")


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=_database_url(),
        MUHAFIZ_DATA_DIR=str(settings.DATA_DIR),
        MUHAFIZ_PROFILE="development",
    )
    env.pop("MUHAFIZ_OPERATOR", None)
    return env


def _bank_import(*args: str) -> list[str]:
    return [sys.executable, "-m", "muhafiz", "bank", "import", *args]


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], what: str) -> None:
    deadline = time.monotonic() + 120
    while not condition():
        if process.poll() is not None:
            out = process.stdout.read() if process.stdout else ""
            pytest.fail(f"the import ended (exit {process.returncode}) before {what}: {out}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    if connection.vendor == "postgresql":
        # PostgreSQL ends a dead client's session (and frees its advisory locks) a moment after
        # the process is gone, not at once: wait for that, as an operator's retry would.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                (others,) = cursor.fetchone()
            if others == 0:
                return
            time.sleep(0.05)


def _hash_list(path: Path, count: int, seed: int) -> Path:
    rng = random.Random(seed)
    path.write_text("".join(f"{random_hex(rng, 32)}\n" for _ in range(count)))
    return path


def _reading() -> bool:
    """An import has begun reading its file (into a temporary table only it sees)."""
    return BankImport.objects.filter(status=ImportStatus.RUNNING).exists()


def _start(source: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _bank_import(str(source), "--name", "Hotline", "--kind", "known-bad", "--create"),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _create_again(small: Path) -> str:
    result = subprocess.run(
        _bank_import(str(small), "--name", "Hotline", "--kind", "known-bad", "--create"),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_new_bank_killed_before_its_import_started_can_be_created_again(
    tmp_path: Path,
) -> None:
    # The killed run waits on a pipe that nobody writes: it made the bank and is reading the
    # file when it is killed, before any import record exists.
    pipe = tmp_path / "slow.txt"
    os.mkfifo(pipe)
    process = _start(pipe)
    _wait_for(lambda: Bank.objects.filter(name="Hotline").exists(), process, "the bank existed")
    _kill(process)
    left = Bank.objects.get(name="Hotline")
    assert not left.enabled and not BankImport.objects.filter(bank=left).exists()

    out = _create_again(_hash_list(tmp_path / "small.txt", 5, seed=1))
    assert "left unfinished by an interrupted import" in out and "5 added" in out
    bank = Bank.objects.get(name="Hotline")
    assert bank.pk != left.pk and bank.enabled
    assert BankEntry.objects.filter(bank=bank).count() == 5


def test_a_new_bank_killed_while_staging_its_entries_can_be_created_again(tmp_path: Path) -> None:
    process = _start(_hash_list(tmp_path / "large.txt", 300_000, seed=2))
    _wait_for(_reading, process, "the import was reading its file")
    _kill(process)
    left = Bank.objects.get(name="Hotline")
    running = BankImport.objects.get(bank=left)
    assert running.status == ImportStatus.RUNNING and not BankEntry.objects.exists()

    out = _create_again(_hash_list(tmp_path / "small.txt", 5, seed=3))
    assert "5 added" in out, out
    bank = Bank.objects.get(name="Hotline")
    assert bank.enabled and BankEntry.objects.filter(bank=bank).count() == 5
    assert not Bank.objects.filter(pk=left.pk).exists()


def test_an_import_killed_into_an_existing_bank_does_not_block_the_next_for_ten_minutes(
    tmp_path: Path,
) -> None:
    bank = actions.create_bank(SYSTEM, name="Hotline", kind="known-bad")
    actions.import_hash_list(SYSTEM, bank, _hash_list(tmp_path / "first.txt", 3, seed=4))
    process = subprocess.Popen(
        _bank_import(str(_hash_list(tmp_path / "large.txt", 300_000, seed=5)), "--name", "Hotline"),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    _wait_for(_reading, process, "the import was reading its file")
    _kill(process)
    killed = BankImport.objects.get(bank=bank, status=ImportStatus.RUNNING)

    result = actions.import_hash_list(SYSTEM, bank, _hash_list(tmp_path / "next.txt", 4, seed=6))
    assert result.status == ImportStatus.COMPLETED and result.added == 4
    killed.refresh_from_db()
    assert killed.status == ImportStatus.FAILED
    assert BankEntry.objects.filter(bank=bank).count() == 7


@contextlib.contextmanager
def _held_elsewhere(name: str) -> Iterator[None]:
    """The lock held by another holder: a thread, with its own database connection."""
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with process_lock(name):
                held.set()
                done.wait(60)
        finally:
            connections.close_all()

    thread = threading.Thread(target=hold)
    thread.start()
    assert held.wait(30)
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_a_running_import_holding_the_banks_lock_is_never_taken_for_dead(tmp_path: Path) -> None:
    bank = actions.create_bank(SYSTEM, name="Hotline", kind="known-bad", enabled=False)
    source = _hash_list(tmp_path / "list.txt", 3, seed=7)
    with _held_elsewhere(f"hashbank.import.{bank.pk}"):  # as a live import in another process
        with pytest.raises(actions.BankError, match="another import into bank 'Hotline'"):
            actions.import_hash_list(SYSTEM, bank, source)
        with pytest.raises(actions.BankError, match="another import into bank 'Hotline'"):
            actions.abandon_interrupted_imports(SYSTEM, bank)
    assert Bank.objects.filter(pk=bank.pk).exists()


def test_a_second_command_for_the_same_bank_name_is_refused_while_one_runs(
    tmp_path: Path,
) -> None:
    pipe = tmp_path / "slow.txt"
    os.mkfifo(pipe)
    process = _start(pipe)
    try:
        _wait_for(lambda: Bank.objects.filter(name="Hotline").exists(), process, "the bank existed")
        result = subprocess.run(
            _bank_import(str(_hash_list(tmp_path / "s.txt", 2, seed=8)), "--name", "Hotline"),
            env=_env(),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert result.returncode == 1
        assert "another `muhafiz bank import` into bank 'Hotline' is running" in result.stderr
        assert Bank.objects.get(name="Hotline").pk  # the live run's bank is left alone
    finally:
        _kill(process)


def test_process_lock_is_refused_to_a_second_holder_and_free_after() -> None:
    with _held_elsewhere("x"), pytest.raises(LockHeldError), process_lock("x"):
        pass  # pragma: no cover - never reached
    with process_lock("x"):
        pass
