"""The matching API triage codes against: files and bank directories in, matches out."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from muhafiz.banks.bankdir import append_to_bank_dir, compact_bank_dir, create_bank_dir
from muhafiz.banks.match import Match, Matcher
from muhafiz.banks.model import BankKind, HashEntry, HashKind, HashListError
from muhafiz.banks.tests.conftest import digests, flip_bits, random_pdq, write


def test_matcher_loads_plain_files_and_matches_exactly_and_near(tmp_path: Path) -> None:
    rng = random.Random(4)
    bad_data = b"known bad synthetic bytes"
    good_data = b"operating system file"
    pdq = random_pdq(rng)
    bad = write(tmp_path, "partner.md5", f"{digests(bad_data)['md5']}  x.jpg\n")
    pdqs = write(tmp_path, "partner-pdq.pdq", f"{pdq},90,series-7\n")
    good = write(tmp_path, "nsrl-sample.txt", digests(good_data)["sha1"] + "\n")
    matcher = Matcher.from_paths([bad, pdqs], known_good=[good])

    assert [(b.name, b.kind, b.entries, b.format) for b in matcher.banks] == [
        ("partner", BankKind.KNOWN_BAD, 1, "checksum"),
        ("partner-pdq", BankKind.KNOWN_BAD, 1, "pdq"),
        ("nsrl-sample", BankKind.KNOWN_GOOD, 1, "plain"),
    ]
    assert len(matcher.banks[0].sha256) == 64

    exact = matcher.match(md5=digests(bad_data)["md5"].upper())
    assert [(m.bank, m.kind, m.distance, m.entry.note) for m in exact] == [
        ("partner", HashKind.MD5, 0, "x.jpg")
    ]
    near = matcher.match(pdq=flip_bits(pdq, 31, rng), pdq_quality=80)
    assert [(m.bank, m.kind, m.distance, m.entry.note) for m in near] == [
        ("partner-pdq", HashKind.PDQ, 31, "series-7")
    ]
    assert matcher.match(pdq=flip_bits(pdq, 32, rng)) == []
    assert matcher.match(pdq=pdq, pdq_quality=49) == []  # too little information to match
    good_match = matcher.match(sha1=digests(good_data)["sha1"])
    assert good_match == [
        Match(
            "nsrl-sample",
            BankKind.KNOWN_GOOD,
            HashKind.SHA1,
            0,
            HashEntry(sha1=digests(good_data)["sha1"]),
        )
    ]


def test_a_bad_line_names_it_and_loads_nothing(tmp_path: Path) -> None:
    good = write(tmp_path, "a.md5", "0" * 32 + "  ok\n")
    bad = write(tmp_path, "b.md5", "0" * 32 + "  ok\n" + "0" * 31 + "x  broken\n")
    with pytest.raises(HashListError) as error:
        Matcher.from_paths([good, bad])
    assert error.value.line == 2
    assert "b.md5, line 2" in str(error.value)


def test_two_banks_with_one_name_are_refused(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    first = write(tmp_path, "list.md5", "0" * 32 + "  a\n")
    second = write(tmp_path / "x", "list.md5", "1" * 32 + "  b\n")
    with pytest.raises(HashListError, match="already used"):
        Matcher.from_paths([first, second])


def test_two_lists_sharing_a_stem_are_named_by_their_file_names(tmp_path: Path) -> None:
    md5_list = write(tmp_path, "known.md5", "0" * 32 + "  a\n")
    sha256_list = write(tmp_path, "known.sha256", "1" * 64 + "  b\n")
    matcher = Matcher.from_paths([md5_list, sha256_list])
    assert [bank.name for bank in matcher.banks] == ["known.md5", "known.sha256"]
    assert [m.bank for m in matcher.match(md5="0" * 32, sha256="1" * 64)] == [
        "known.md5",
        "known.sha256",
    ]


def test_exported_bank_directory_matches_like_the_file_and_takes_deltas(tmp_path: Path) -> None:
    rng = random.Random(9)
    pdqs = [random_pdq(rng) for _ in range(50)]
    entries = [
        HashEntry(
            md5=digests(str(i).encode())["md5"],
            pdq=pdqs[i],
            pdq_quality=100,
            category=1,
            series="S-1",
            victim_identified=True,
            line=i + 1,
        )
        for i in range(50)
    ]
    directory = tmp_path / "banks" / "hotline-2026"
    create_bank_dir(
        directory,
        name="hotline-2026",
        kind=BankKind.WATCH,
        entries=entries,
        provenance={"source": "hotline.json", "format": "vics"},
    )
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["counts"]["entries"] == 50
    assert manifest["provenance"][0]["source"] == "hotline.json"

    matcher = Matcher.from_paths([tmp_path / "banks"])
    assert [(b.name, b.kind, b.entries) for b in matcher.banks] == [
        ("hotline-2026", BankKind.WATCH, 50)
    ]
    found = matcher.match(pdq=flip_bits(pdqs[7], 20, rng))
    assert [(m.bank, m.distance, m.entry.series, m.entry.line) for m in found] == [
        ("hotline-2026", 20, "S-1", 8)
    ]
    assert found[0].entry == entries[7]

    new_pdq = random_pdq(rng)
    append_to_bank_dir(directory, [HashEntry(pdq=new_pdq, category=2)])
    matcher = Matcher.from_paths([directory])
    assert matcher.banks[0].entries == 51
    assert [m.entry.category for m in matcher.match(pdq=new_pdq)] == [2]

    compact_bank_dir(directory)
    assert len(json.loads((directory / "manifest.json").read_text())["segments"]) == 1
    matcher = Matcher.from_paths([directory])
    assert [m.entry.category for m in matcher.match(pdq=new_pdq)] == [2]
    assert matcher.match(md5=digests(b"3")["md5"])[0].entry == entries[3]


def test_a_known_good_bank_directory_cannot_be_given_as_bad(tmp_path: Path) -> None:
    directory = tmp_path / "nsrl"
    create_bank_dir(
        directory, name="nsrl", kind=BankKind.KNOWN_GOOD, entries=[HashEntry(md5="0" * 32)]
    )
    with pytest.raises(HashListError, match="known-good"):
        Matcher.from_paths([directory])
    assert Matcher.from_paths([], known_good=[directory]).banks[0].name == "nsrl"


def test_failed_bank_export_leaves_no_directory(tmp_path: Path) -> None:
    def entries() -> object:
        yield HashEntry(md5="0" * 32, category=1)
        raise HashListError("src", 2, "broken")

    with pytest.raises(HashListError):
        create_bank_dir(
            tmp_path / "b",
            name="b",
            kind=BankKind.KNOWN_BAD,
            entries=entries(),  # type: ignore[arg-type]
        )
    assert not (tmp_path / "b").exists()


def test_lookup_command_writes_one_json_line_per_hash(tmp_path: Path) -> None:
    rng = random.Random(2)
    pdq = random_pdq(rng)
    md5 = digests(b"lookup")["md5"]
    create_bank_dir(
        tmp_path / "banks" / "b1",
        name="b1",
        kind=BankKind.KNOWN_BAD,
        entries=[HashEntry(md5=md5, category=1), HashEntry(pdq=pdq)],
    )
    query = f"{md5.upper()}\nnot-a-hash\n{flip_bits(pdq, 5, rng)}\n{'0' * 40}\n"
    result = subprocess.run(
        [sys.executable, "-m", "muhafiz.banks", "lookup", "--bank-dir", str(tmp_path / "banks")],
        input=query,
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert result.returncode == 1  # one input line was not a hash
    assert [len(line.get("matches", [])) for line in lines] == [1, 0, 1, 0]
    assert lines[0]["matches"][0]["entry"]["category"] == 1
    assert lines[1]["error"]
    assert lines[2]["kinds"] == ["sha256", "pdq"]
    assert lines[2]["matches"][0]["distance"] == 5


SHARED_BRIDGE = Path(__file__).resolve().parents[5] / "shared" / "testdata" / "pdq-bridge-mods"


@pytest.mark.skipif(not SHARED_BRIDGE.exists(), reason="shared reference images not present")
def test_modified_bridge_photos_match_the_original_within_31_bits(tmp_path: Path) -> None:
    # Reference hashes published with the benign bridge photographs (README table).
    rows = [
        line.split("|")[1:4]
        for line in (SHARED_BRIDGE / "README.md").read_text().splitlines()
        if line.startswith("| ") and ".jpg" in line
    ]
    hashes = {name.strip(): value.strip() for name, value, _ in rows}
    original = hashes.pop("aaa-orig.jpg")
    bank = write(tmp_path, "bridge.pdq", f"{original},100,original\n")
    matcher = Matcher.from_paths([bank])
    for name, value in hashes.items():
        found = matcher.match(pdq=value, pdq_quality=100)
        expected = bin(int(value, 16) ^ int(original, 16)).count("1")
        assert [(m.entry.note, m.distance) for m in found] == [("original", expected)], name


def test_bank_pdq_entries_below_the_quality_floor_do_not_match(tmp_path: Path) -> None:
    rng = random.Random(11)
    weak, strong = random_pdq(rng), random_pdq(rng)
    bank = write(tmp_path, "q.pdq", f"{weak},20,dark frame\n{strong},90\n")
    matcher = Matcher.from_paths([bank])
    assert matcher.match(pdq=weak) == []
    assert [m.entry.pdq for m in matcher.match(pdq=weak, min_quality=10)] == [weak]
    assert [m.entry.pdq for m in matcher.match(pdq=strong)] == [strong]
