"""Contract tests of the plain formats: md5sum-style, hashdeep, one hash a line, PDQ list, vPDQ."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from muhafiz.banks.formats import detect_format, get_format, read_hash_list
from muhafiz.banks.model import HashEntry, HashListError
from muhafiz.banks.tests.conftest import digests, write

PDQ_A = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
PDQ_B = "d0f8f1cec0f4a8470a370a32238f67f0b36e2ef597231e1d72a6a39c4e9c9b22"


@pytest.mark.parametrize("algo", ["md5", "sha1", "sha256"])
def test_checksum_output_of_each_tool_reads_hash_and_file_name(
    tmp_path: Path, sample_files: list[tuple[str, bytes]], algo: str
) -> None:
    lines = [f"{digests(data)[algo]}  {name}" for name, data in sample_files]
    lines[1] = lines[1].replace("  ", " *", 1)  # binary-mode marker
    path = write(tmp_path, f"list.{algo}", "\n".join(lines) + "\n")
    hash_list = read_hash_list(path)
    assert hash_list.format == "checksum"
    assert [getattr(e, algo) for e in hash_list.entries] == [
        digests(data)[algo] for _, data in sample_files
    ]
    assert [e.note for e in hash_list.entries] == [name for name, _ in sample_files]
    assert hash_list.entries[0].line == 1


def test_bsd_tagged_checksums_are_read(tmp_path: Path) -> None:
    value = digests(b"x")["sha256"]
    path = write(tmp_path, "tags.txt", f"SHA256 (a b.txt) = {value.upper()}\n")
    entries = read_hash_list(path).entries
    assert entries == [HashEntry(sha256=value, note="a b.txt", line=1)]


def test_checksum_list_mixing_algorithms_names_the_line(tmp_path: Path) -> None:
    d = digests(b"x")
    path = write(tmp_path, "mixed.txt", f"{d['md5']}  a\n{d['sha1']}  b\n")
    with pytest.raises(HashListError) as error:
        read_hash_list(path)
    assert error.value.line == 2


def test_hashdeep_csv_reads_all_hash_columns_and_commas_in_names(
    tmp_path: Path, sample_files: list[tuple[str, bytes]]
) -> None:
    rows = [
        f"{len(data)},{digests(data)['md5']},{digests(data)['sha256']},/evidence/{name},copy"
        for name, data in sample_files
    ]
    text = (
        "%%%% HASHDEEP-1.0\n%%%% size,md5,sha256,filename\n"
        "## Invoked from: /home\n## $ hashdeep -r .\n##\n" + "\n".join(rows) + "\n"
    )
    path = write(tmp_path, "hashdeep.csv", text)
    hash_list = read_hash_list(path)
    assert hash_list.format == "hashdeep"
    first = hash_list.entries[0]
    name, data = sample_files[0]
    assert (first.md5, first.sha256) == (digests(data)["md5"], digests(data)["sha256"])
    assert first.note == f"/evidence/{name},copy"
    assert first.line == 6


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("%%%% HASHDEEP-1.0\nabc,def\n", 2),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,filename\nx," + "0" * 32 + ",a\n", 3),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n1," + "0" * 31 + ",a\n", 3),
        ("%%%% HASHDEEP-1.0\n%%%% size,crc,filename\n", 2),
        ("%%%% HASHDEEP-1.0\n%%%% size,md5,filename\n12\n", 3),
    ],
)
def test_bad_hashdeep_names_the_line(tmp_path: Path, text: str, line: int) -> None:
    path = write(tmp_path, "bad.csv", text)
    with pytest.raises(HashListError) as error:
        read_hash_list(path, "hashdeep")
    assert error.value.line == line


def test_one_hash_a_line_tells_kinds_apart_by_length_and_lowercases(tmp_path: Path) -> None:
    d = digests(b"plain")
    path = write(
        tmp_path, "hashes.txt", f"# comment\n{d['md5'].upper()}\n\n{d['sha1']}\n{d['sha256']}\n"
    )
    entries = read_hash_list(path).entries
    assert entries == [
        HashEntry(md5=d["md5"], line=2),
        HashEntry(sha1=d["sha1"], line=4),
        HashEntry(sha256=d["sha256"], line=5),
    ]


def test_one_hash_a_line_with_pdq_header_reads_pdq(tmp_path: Path) -> None:
    path = write(tmp_path, "hashes.txt", f"pdq\n{PDQ_A}\n")
    assert read_hash_list(path).entries == [HashEntry(pdq=PDQ_A, line=2)]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("0" * 31, "31 hex characters"),
        ("g" * 32, "not a hexadecimal"),
        ("0" * 33, "33 hex characters"),
    ],
)
def test_one_hash_a_line_rejects_bad_values_naming_the_line(
    tmp_path: Path, body: str, message: str
) -> None:
    good = "0" * 32
    path = write(tmp_path, "hashes.txt", f"{good}\n{body}\n")
    with pytest.raises(HashListError, match=message) as error:
        read_hash_list(path, "plain")
    assert error.value.line == 2
    assert str(path) in str(error.value)


def test_pdq_list_reads_quality_and_note(tmp_path: Path) -> None:
    path = write(tmp_path, "x.txt", f"{PDQ_A},100,bridge, original\n{PDQ_B.upper()},80\n")
    hash_list = read_hash_list(path)
    assert hash_list.format == "pdq"
    assert hash_list.entries == [
        HashEntry(pdq=PDQ_A, pdq_quality=100, note="bridge, original", line=1),
        HashEntry(pdq=PDQ_B, pdq_quality=80, line=2),
    ]


def test_bare_64_hex_is_sha256_unless_the_file_is_named_pdq(tmp_path: Path) -> None:
    assert detect_format(write(tmp_path, "list.txt", PDQ_A + "\n")).name == "plain"
    assert detect_format(write(tmp_path, "list.pdq", PDQ_A + "\n")).name == "pdq"


@pytest.mark.parametrize("bad", [f"{PDQ_A},101", f"{PDQ_A},high", PDQ_A[:-1] + ",50"])
def test_pdq_list_rejects_bad_quality_and_length(tmp_path: Path, bad: str) -> None:
    path = write(tmp_path, "x.pdq", f"{PDQ_A}\n{bad}\n")
    with pytest.raises(HashListError) as error:
        read_hash_list(path)
    assert error.value.line == 2


def test_pdq_list_round_trips_through_its_writer(tmp_path: Path) -> None:
    entries = [
        HashEntry(pdq=PDQ_A, pdq_quality=90, note="a"),
        HashEntry(pdq=PDQ_B),
        HashEntry(md5="0" * 32),  # not PDQ: skipped
    ]
    out = io.StringIO()
    assert get_format("pdq").write(entries, out) == 2
    path = write(tmp_path, "out.pdq", out.getvalue())
    read = list(read_hash_list(path).entries)
    assert [(e.pdq, e.pdq_quality, e.note) for e in read] == [
        (PDQ_A, 90, "a"),
        (PDQ_B, None, None),
    ]


def test_vpdq_frames_become_pdq_entries_with_frame_and_time(tmp_path: Path) -> None:
    path = write(tmp_path, "video.txt", f"0,100,{PDQ_A},0.000\n30,60,{PDQ_B},1.001\n")
    hash_list = read_hash_list(path)
    assert hash_list.format == "vpdq"
    assert hash_list.entries[1].pdq == PDQ_B
    assert hash_list.entries[1].pdq_quality == 60
    assert hash_list.entries[1].note == "frame 30 at 1.001 s"


@pytest.mark.parametrize(
    "bad", [f"x,100,{PDQ_A},0.0", f"1,100,{PDQ_A}", f"1,100,{PDQ_A},soon", f"1,999,{PDQ_A},1.0"]
)
def test_bad_vpdq_line_is_named(tmp_path: Path, bad: str) -> None:
    path = write(tmp_path, "video.txt", f"0,100,{PDQ_A},0.000\n{bad}\n")
    with pytest.raises(HashListError) as error:
        read_hash_list(path, "vpdq")
    assert error.value.line == 2


def test_exact_duplicates_merge_and_conflicting_ones_fail(tmp_path: Path) -> None:
    d = digests(b"dup")
    same = write(tmp_path, "same.md5", f"{d['md5']}  a\n{d['md5'].upper()}  b\n")
    hash_list = read_hash_list(same)
    assert len(hash_list.entries) == 1
    assert hash_list.duplicates == 1
    conflict = write(tmp_path, "conflict.pdq", f"{PDQ_A},100,a\n{PDQ_B}\n")
    assert len(read_hash_list(conflict).entries) == 2


def test_non_utf8_and_binary_input_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "latin.txt", b"0" * 32 + b"\n\xff\xfe\n")
    with pytest.raises(HashListError) as error:
        read_hash_list(path, "plain")
    assert error.value.line == 2


def test_unknown_or_empty_files_are_rejected(tmp_path: Path) -> None:
    with pytest.raises(HashListError, match="empty"):
        detect_format(write(tmp_path, "empty.txt", ""))
    with pytest.raises(HashListError, match="known format"):
        detect_format(write(tmp_path, "prose.txt", "hello world\n"))
    with pytest.raises(HashListError, match="unknown hash-list format"):
        get_format("nope")


def test_pdq_list_bulk_reading_agrees_with_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import random

    from muhafiz.banks.formats import pdqlist
    from muhafiz.banks.match import Matcher
    from muhafiz.banks.tests.conftest import random_pdq

    monkeypatch.setattr(pdqlist, "_BULK_LINES", 7)  # several batches, some mixed
    rng = random.Random(3)
    values = [random_pdq(rng) for _ in range(40)]
    lines = [v.upper() if i % 3 else v for i, v in enumerate(values)]
    lines[10] += ",80,with a note"
    lines[20] = "# a comment"
    path = write(tmp_path, "big.pdq", "\n".join(lines) + "\n\n")
    matcher = Matcher.from_paths([path])
    assert matcher.banks[0].entries == 39
    assert [m.entry.note for m in matcher.match(pdq=values[10])] == ["with a note"]
    assert [m.distance for m in matcher.match(pdq=values[33])] == [0]
    bad = write(tmp_path, "bad.pdq", "\n".join([*values[:15], "z" * 64, *values[15:]]) + "\n")
    with pytest.raises(HashListError) as error:
        Matcher.from_paths([bad])
    assert error.value.line == 16


def test_plain_list_bulk_reading_agrees_with_line_by_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from muhafiz.banks.formats import plain
    from muhafiz.banks.match import Matcher

    monkeypatch.setattr(plain, "_BULK_LINES", 5)
    values = [digests(f"f{i}".encode())[("md5", "sha1", "sha256")[i % 3]] for i in range(30)]
    path = write(tmp_path, "mixed.txt", "\n".join(v.upper() for v in values) + "\n")
    matcher = Matcher.from_paths([path])
    assert matcher.banks[0].entries == 30
    assert [m.kind.value for m in matcher.match(sha1=values[4])] == ["sha1"]
    assert [m.kind.value for m in matcher.match(sha256=values[29])] == ["sha256"]

    pdqs = write(tmp_path, "pdqs.txt", "pdq\n" + "\n".join([PDQ_A, PDQ_B]) + "\n")
    assert [m.distance for m in Matcher.from_paths([pdqs]).match(pdq=PDQ_A)] == [0, 18]

    bad = write(tmp_path, "bad.txt", "\n".join([*values[:12], "0" * 39, *values[12:]]) + "\n")
    with pytest.raises(HashListError) as error:
        Matcher.from_paths([bad])
    assert error.value.line == 13
    late_header = write(tmp_path, "late.txt", "\n".join([*values[:3], "md5"]) + "\n")
    with pytest.raises(HashListError, match="header") as error:
        Matcher.from_paths([late_header])
    assert error.value.line == 4
