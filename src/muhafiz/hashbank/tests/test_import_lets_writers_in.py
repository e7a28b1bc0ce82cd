"""A long bank import does not lock the web application out (issue 8, finding 5, at scale).

Before: the import's final move from the staging table into the bank was one `INSERT … SELECT`
holding SQLite's write lock about 30 µs a row (30 s at a million rows, the busy timeout), so a
case write waited for all of it or failed with "database is locked". Now the rows move a chunk
per short transaction and stay out of sight until the import completes; a writer gets in
between two chunks. The import runs as a real `muhafiz bank import` process on the test
database; the writer is this process, with a 5-second busy timeout.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from muhafiz.core.permissions import SYSTEM
from muhafiz.hashbank import actions
from muhafiz.hashbank.models import Bank, BankEntry, BankImport, ImportStatus, StagedEntry
from muhafiz.hashbank.tests.test_interrupted_first_import import (
    _bank_import,
    _env,
    _hash_list,
    _kill,
    _wait_for,
)

pytestmark = [pytest.mark.usefixtures("flushable_audit"), pytest.mark.slow]

WRITER_BUSY_SECONDS = 5


def _moving(bank: Bank) -> bool:
    """The import is moving its rows into the bank: some are there, none visible yet."""
    return BankEntry.objects.filter(bank=bank, added_by__status=ImportStatus.RUNNING).exists()


def _import_into(bank: Bank, source: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        _bank_import(str(source), "--name", bank.name),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_an_import_killed_while_moving_its_rows_leaves_nothing_visible(tmp_path: Path) -> None:
    bank = actions.create_bank(SYSTEM, name="Hotline", kind="known-bad")
    actions.import_hash_list(SYSTEM, bank, _hash_list(tmp_path / "first.txt", 3, seed=12))
    process = _import_into(bank, _hash_list(tmp_path / "large.txt", 60_000, seed=13))
    _wait_for(lambda: _moving(bank), process, "rows were moving into the bank")
    _kill(process)
    assert BankEntry.objects.active().filter(bank=bank).count() == 3
    assert BankEntry.objects.matchable().filter(bank=bank).count() == 3
    assert BankEntry.objects.filter(bank=bank).count() > 3  # moved, out of sight

    result = actions.import_hash_list(SYSTEM, bank, _hash_list(tmp_path / "next.txt", 4, seed=14))
    assert result.status == ImportStatus.COMPLETED and result.added == 4
    assert BankImport.objects.filter(bank=bank, status=ImportStatus.FAILED).count() == 1
    assert BankEntry.objects.filter(bank=bank).count() == 7
    assert not StagedEntry.objects.exists()
