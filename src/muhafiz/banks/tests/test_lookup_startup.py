"""`muhafiz bank lookup --bank-dir …` answers before click and the command tree load, writes
what the click command writes, and leaves every other form of the command to click."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from muhafiz.banks.cli import bank
from muhafiz.banks.entries import entry_from_json, entry_to_json
from muhafiz.banks.lookup import plain_lookup
from muhafiz.banks.model import HashEntry
from muhafiz.banks.tests.conftest import digests, flip_bits, random_pdq, write

# Modules a plain lookup must not load: each cost start-up time it did not need (decision 0105).
HEAVY = (
    "click",
    "django",
    "PIL",
    "av",
    "muhafiz.cli",
    "muhafiz.hashbank",
    "muhafiz.triage",
    "muhafiz.banks.cli",
    "muhafiz.banks.formats",
    "muhafiz.banks.export",
    "shutil",
    "_hashlib",  # OpenSSL, for one digest of each manifest
)

LOOKUP_IN_A_FRESH_PROCESS = """
import sys
sys.argv = ["muhafiz", "bank", "lookup", *sys.argv[1:]]
from muhafiz.command import main
try:
    main()
except SystemExit as exc:
    status = exc.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY_TOP} or m in {HEAVY})
print(status, heavy, file=sys.stderr)
import gc
print(gc.isenabled(), gc.get_freeze_count(), file=sys.stderr)
"""


@pytest.fixture
def banks(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """Two bank directories (one with records, one of bare PDQ hashes) and a query file of
    near-duplicates, exact digests, unrelated hashes, a comment and lines that are not hashes."""
    rng = random.Random(14)
    pdqs = [random_pdq(rng) for _ in range(30)]
    files = [digests(f"synthetic file {i}".encode()) for i in range(5)]
    listing = "".join(f"{d['md5']}  file-{i}\n" for i, d in enumerate(files))
    runner = CliRunner()
    for name, source, kind in (
        ("records", write(tmp_path, "records.md5", listing), "known-bad"),
        ("bare", write(tmp_path, "bare.pdq", "".join(f"{p}\n" for p in pdqs)), "watch"),
    ):
        target = str(tmp_path / "banks" / name)
        built = runner.invoke(
            bank, ["build-dir", target, str(source), "--name", name, "--kind", kind]
        )
        assert built.exit_code == 0, built.output
    lines = ["# queries", ""]
    lines += [flip_bits(p, rng.randint(0, 40), rng) for p in pdqs[:12]]
    lines += [files[0]["md5"].upper(), files[1]["md5"], random_pdq(rng), "zz", "0" * 40]
    queries = write(tmp_path, "queries.txt", "\n".join(lines) + "\n")
    return tmp_path / "banks", queries, lines


def test_a_plain_lookup_loads_neither_click_nor_the_command_tree(
    banks: tuple[Path, Path, list[str]],
) -> None:
    folder, queries, _ = banks
    tops = sorted({m.split(".")[0] for m in HEAVY if "." not in m})
    code = LOOKUP_IN_A_FRESH_PROCESS.replace("{HEAVY_TOP}", repr(set(tops))).replace(
        "{HEAVY}", repr(set(HEAVY))
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "--bank-dir", str(folder), str(queries)],
        capture_output=True,
        text=True,
        check=True,
    )
    *_, loaded, collector = done.stderr.strip().splitlines()
    assert loaded == "1 []"  # 1: two lines are not hashes
    assert len(done.stdout.splitlines()) == 17
    # What the imports loaded was set aside, not collected again and again (decision 0105),
    # and the lookup's own objects are collected as usual.
    enabled, frozen = collector.split()
    assert enabled == "True"
    assert int(frozen) > 20_000


PLAIN_FORMS = [
    ["--bank-dir", "{banks}", "{queries}"],
    ["{queries}", "--bank-dir", "{banks}/bare", "--bank-dir={banks}/records"],
    ["--bank-dir", "{banks}", "--max-distance", "10", "--bank", "bare", "{queries}"],
    ["--bank-dir", "{banks}", "--max-distance=40", "{queries}"],
    ["--bank-dir", "{banks}", "--bank=nope", "{queries}"],
    ["--bank-dir", "{queries}", "{queries}"],
]


@pytest.mark.parametrize("form", PLAIN_FORMS, ids=range(len(PLAIN_FORMS)))
def test_a_plain_lookup_writes_what_the_click_command_writes(
    banks: tuple[Path, Path, list[str]], form: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, queries, _ = banks
    args = [a.replace("{banks}", str(folder)).replace("{queries}", str(queries)) for a in form]
    through_click = CliRunner().invoke(bank, ["lookup", *args])
    status = plain_lookup(args)
    plain = capsys.readouterr()
    assert status == through_click.exit_code
    assert plain.out == through_click.stdout
    assert plain.err == through_click.stderr


def test_the_lookup_answers_every_line(banks: tuple[Path, Path, list[str]]) -> None:
    folder, queries, lines = banks
    done = subprocess.run(
        [sys.executable, "-m", "muhafiz", "bank", "lookup", "--bank-dir", str(folder)],
        input=queries.read_text(),
        capture_output=True,
        text=True,
        check=False,
    )
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 1
    # Each line is exactly what json.dumps writes, though the lookup puts most of it together.
    assert done.stdout == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    assert [r["line"] for r in records] == list(range(3, len(lines) + 1))
    assert sum(1 for r in records if r.get("kinds") == ["md5"] and r["matches"]) == 2
    assert all(m["distance"] <= 31 for r in records for m in r.get("matches", []))
    assert [r["error"] for r in records if "error" in r] == [
        "not a hex MD5 (32), SHA-1 (40), SHA-256 or PDQ (64) value"
    ]


@pytest.mark.parametrize(
    "form",
    [
        ["--help"],
        ["--bank-dir", "{banks}", "-h"],
        ["--bank-dir", "{banks}", "--", "{queries}"],
        ["--bank-dir", "{banks}", "--frob", "{queries}"],
        ["--bank-dir", "{banks}/missing", "{queries}"],
        ["--bank-dir", "{banks}", "{banks}/missing.txt"],
        ["--bank-dir", "{banks}", "--max-distance", "257", "{queries}"],
        ["--bank-dir", "{banks}", "--max-distance", "-1", "{queries}"],
        ["--bank-dir", "{banks}", "--max-distance", "1_0", "{queries}"],
        ["--bank-dir", "{banks}", "{queries}", "{queries}"],
        ["--bank-dir"],
        ["{queries}"],
    ],
)
def test_every_other_form_is_left_to_click(
    banks: tuple[Path, Path, list[str]], form: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder, queries, _ = banks
    args = [a.replace("{banks}", str(folder)).replace("{queries}", str(queries)) for a in form]
    assert plain_lookup(args) is None
    assert capsys.readouterr() == ("", "")


def test_an_entry_reads_as_it_always_has() -> None:
    """entry_to_json (each match's "entry") leaves out what is unset and line 0, keeps a 0 that
    is a value, and puts the fields in one order."""
    full = HashEntry(
        md5="a" * 32,
        pdq="b" * 64,
        pdq_quality=0,
        category=0,
        series="s",
        victim_identified=False,
        tags=("x", "y"),
        note="n",
        line=7,
    )
    assert json.dumps(entry_to_json(full)) == (
        '{"md5": "' + "a" * 32 + '", "pdq": "' + "b" * 64 + '", "pdq_quality": 0, '
        '"category": 0, "series": "s", "victim_identified": false, "note": "n", "line": 7, '
        '"tags": ["x", "y"]}'
    )
    assert entry_to_json(HashEntry(pdq="c" * 64)) == {"pdq": "c" * 64}
    assert entry_from_json(entry_to_json(full)) == full
