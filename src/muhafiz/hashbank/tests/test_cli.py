"""`muhafiz bank …` on the server: import, export, list, stats, remove; lookup stays Django-free."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from muhafiz.audit.models import AuditEvent
from muhafiz.cli import main
from muhafiz.hashbank.models import Bank, BankEntry
from muhafiz.hashbank.tests.conftest import digests

pytestmark = pytest.mark.django_db


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["bank", *args], catch_exceptions=False)
    return result.exit_code, result.output


def _md5sums(tmp_path: Path, files: list[Path], name: str = "md5sums.txt") -> Path:
    path = tmp_path / name
    path.write_text("".join(f"{digests(p.read_bytes())['md5']}  {p.name}\n" for p in files))
    return path


def test_import_list_stats_and_reimport(tmp_path: Path, sample_files: list[Path]) -> None:
    source = _md5sums(tmp_path, sample_files)

    code, out = _run("import", str(source), "--name", "Hotline", "--kind", "known-bad")
    assert code == 0, out
    assert "5 added" in out and "Created bank 'Hotline'" in out

    code, out = _run("import", str(source), "--name", "Hotline")
    assert code == 0 and "already imported" in out
    assert BankEntry.objects.count() == 5

    code, out = _run("list")
    assert code == 0 and "Hotline" in out and "known-bad" in out and " 5" in out

    code, out = _run("stats", "Hotline")
    assert code == 0 and "5 active" in out and "md5 5" in out and "completed" in out
    assert "already-imported" in out


def test_import_errors_are_clear_and_exit_non_zero(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    source = _md5sums(tmp_path, sample_files)
    bad = tmp_path / "bad.txt"
    bad.write_text(source.read_text() + "nothex  x.png\n" + "12  y.png\n")

    code, out = _run("import", str(source), "--name", "New")
    assert code != 0 and "--kind" in out

    code, out = _run("import", str(bad), "--name", "Hotline", "--kind", "known-bad")
    assert code == 1
    assert "line 6" in out and "line 7" in out and "nothing imported" in out
    assert not BankEntry.objects.exists()
    assert not Bank.objects.exists()  # a failed first import keeps no empty bank

    code, out = _run("import", str(source), "--name", "Hotline", "--kind", "known-bad", "--create")
    assert code == 0, out
    code, out = _run("import", str(source), "--name", "Hotline", "--kind", "known-bad", "--create")
    assert code != 0 and "already exists" in out
    assert Bank.objects.count() == 1

    code, out = _run("import", str(source), "--name", "Hotline", "--kind", "watch")
    assert code != 0 and "is known-bad" in out

    code, out = _run("import", str(source), "--name", "X", "--kind", "watch", "--agency", "NOPE")
    assert code != 0 and "no agency" in out


def test_export_each_format_and_look_up_offline(tmp_path: Path, sample_files: list[Path]) -> None:
    _run(
        "import", str(_md5sums(tmp_path, sample_files)), "--name", "Hotline", "--kind", "known-bad"
    )

    code, out = _run("export", "Hotline", "--format", "vics", "--out", str(tmp_path / "b.json"))
    assert code == 0, out
    assert json.loads((tmp_path / "b.json").read_text())["value"][0]["MD5"]
    code, out = _run("export", "Hotline", "--format", "pdq", "--out", str(tmp_path / "b.pdq"))
    assert code == 0 and "0 entries" in out  # an md5-only bank has no PDQ hashes
    code, out = _run("export", "Hotline", "--format", "dir", "--out", str(tmp_path / "bankdir"))
    assert code == 0 and "5 entries" in out

    queries = tmp_path / "queries.txt"
    queries.write_text(digests(sample_files[0].read_bytes())["md5"] + "\n" + "0" * 32 + "\n")
    code, out = _run("lookup", "--bank-dir", str(tmp_path / "bankdir"), str(queries))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert lines[0]["matches"][0]["bank"] == "Hotline" and lines[1]["matches"] == []

    code, out = _run("export", "Nope", "--format", "vics", "--out", str(tmp_path / "x.json"))
    assert code != 0 and "no bank named 'Nope'" in out


def test_an_operator_without_bank_rights_cannot_export_a_bank(
    tmp_path: Path, sample_files: list[Path], people: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Before: the export wrote the whole list out (and audited it) for whoever ran it.
    _run(
        "import", str(_md5sums(tmp_path, sample_files)), "--name", "Hotline", "--kind", "known-bad"
    )
    monkeypatch.setenv("MUHAFIZ_OPERATOR", people.lahore_investigator.username)
    for fmt in ("vics", "dir"):
        code, out = _run("export", "Hotline", "--format", fmt, "--out", str(tmp_path / f"x-{fmt}"))
        assert code == 1 and "may not do this" in out and "bank.manage" in out
        assert not (tmp_path / f"x-{fmt}").exists()
    code, out = _run("export-all", "--out", str(tmp_path / "all"))
    assert code == 1 and "may not do this" in out
    assert not AuditEvent.objects.filter(action="bank.export").exists()


def test_remove_an_entry_with_a_reason(tmp_path: Path, sample_files: list[Path]) -> None:
    _run(
        "import", str(_md5sums(tmp_path, sample_files)), "--name", "Hotline", "--kind", "known-bad"
    )
    md5 = digests(sample_files[0].read_bytes())["md5"]

    code, out = _run("remove", "Hotline", md5.upper(), "--reason", "benign")

    assert code == 0 and "Removed entry" in out
    assert BankEntry.objects.get(md5=md5).removal_reason == "benign"
    code, out = _run("remove", "Hotline", md5, "--reason", "again")
    assert code != 0 and "no active entry" in out


def test_rebuild_index_command(tmp_path: Path, sample_files: list[Path]) -> None:
    _run(
        "import", str(_md5sums(tmp_path, sample_files)), "--name", "Hotline", "--kind", "known-bad"
    )
    code, out = _run("rebuild-index")
    assert code == 0 and "1 banks, 5 entries" in out


def test_bank_lookup_needs_no_django() -> None:
    code = (
        "import sys, muhafiz.cli as c; "
        "cmd = c.main.get_command(None, 'bank'); "
        "assert 'lookup' in cmd.commands and 'import' in cmd.commands; "
        "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), "
        "sorted(m for m in sys.modules if m.startswith('django'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_disable_and_enable_a_bank(tmp_path: Path, sample_files: list[Path]) -> None:
    _run(
        "import", str(_md5sums(tmp_path, sample_files)), "--name", "Hotline", "--kind", "known-bad"
    )

    code, out = _run("disable", "Hotline", "--reason", "partner withdrew the list")
    assert code == 0 and not Bank.objects.get(name="Hotline").enabled
    code, out = _run("enable", "Hotline")
    assert code == 0 and Bank.objects.get(name="Hotline").enabled
    code, out = _run("enable", "Nope")
    assert code != 0 and "no bank named" in out


def test_export_all_gives_a_laptop_folder_of_every_enabled_bank(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    _run(
        "import", str(_md5sums(tmp_path, sample_files[:2])), "--name", "Bad", "--kind", "known-bad"
    )
    _run(
        "import",
        str(_md5sums(tmp_path, sample_files[2:4], "good.txt")),
        "--name",
        "Good",
        "--kind",
        "known-good",
    )
    _run(
        "import",
        str(_md5sums(tmp_path, sample_files[4:], "off.txt")),
        "--name",
        "Off",
        "--kind",
        "watch",
    )
    _run("disable", "Off", "--reason", "stale")

    code, out = _run("export-all", "--out", str(tmp_path / "laptop"))
    assert code == 0 and "Exported 2 banks" in out

    queries = tmp_path / "q.txt"
    queries.write_text("\n".join(digests(p.read_bytes())["md5"] for p in sample_files) + "\n")
    code, out = _run("lookup", "--bank-dir", str(tmp_path / "laptop"), str(queries))
    found = [[m["bank"] for m in json.loads(line)["matches"]] for line in out.splitlines()]
    assert found == [["Bad"], ["Bad"], ["Good"], ["Good"], []]


def test_lookup_without_a_bank_dir_asks_the_servers_banks(
    tmp_path: Path, sample_files: list[Path]
) -> None:
    from muhafiz.audit.models import AuditEvent

    _run(
        "import", str(_md5sums(tmp_path, sample_files)), "--name", "Hotline", "--kind", "known-bad"
    )
    queries = tmp_path / "queries.txt"
    queries.write_text(
        digests(sample_files[0].read_bytes())["md5"] + "\n" + "0" * 32 + "\nnot-a-hash\n"
    )
    code, out = _run("lookup", str(queries))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1  # the line that is not a hash
    assert lines[0]["matches"][0]["bank"] == "Hotline"
    assert lines[0]["matches"][0]["kind"] == "md5"
    assert lines[1]["matches"] == []
    assert "error" in lines[2]
    audit = AuditEvent.objects.get(action="bank.match")
    assert audit.details["endpoint"] == "cli.lookup"
    assert audit.details["matched"] == 1
    code, out = _run("lookup", "--bank", "Nope", str(queries))
    assert code != 0 and "no bank named Nope" in out


@pytest.mark.slow
def test_a_bank_command_on_an_unmigrated_database_says_to_migrate(tmp_path: Path) -> None:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("MUHAFIZ_", "DATABASE_URL"))}
    env.update(MUHAFIZ_PROFILE="development", MUHAFIZ_DATA_DIR=str(tmp_path / "fresh"))
    result = subprocess.run(
        [sys.executable, "-m", "muhafiz", "bank", "list"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert "run `muhafiz manage migrate` first" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_overlong_bank_name_is_refused_naming_the_field(tmp_path: Path) -> None:
    # Before: a 300-character name was stored (SQLite) or failed in the database (PostgreSQL).
    source = tmp_path / "list.txt"
    source.write_text("d41d8cd98f00b204e9800998ecf8427e\n")
    code, out = _run("import", str(source), "--name", "N" * 101, "--kind", "watch")
    assert code == 1 and "name: Keep it under 100 characters" in out
    assert not Bank.objects.exists()
