"""The contract every registered hash-list format keeps, run on each of them.

For every format in `muhafiz.banks.formats.formats()`: its own output (written by its writer, or
its sample in `format_samples.py`) is recognised as that format; reading gives back exactly the
hashes of the test's own bytes; formats that write survive write -> read; and a bad record is
refused with an error that names the file and the line (or record). A format registered without
a sample fails here: copy a sibling's sample and register it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from muhafiz.banks.formats import detect_format, formats, get_format, read_hash_list
from muhafiz.banks.formats.base import HashListFormat
from muhafiz.banks.model import HashEntry, HashListError
from muhafiz.banks.tests.format_samples import PDQ, SAMPLES, FormatSample, digest

FORMAT_NAMES = [fmt.name for fmt in formats()]

FILES = {f"file-{i}.bin": f"synthetic content {i} ".encode() * (i + 3) for i in range(4)}


def _sample(name: str) -> FormatSample:
    if name not in SAMPLES:
        pytest.fail(
            f"hash-list format {name!r} is registered but has no contract sample: add one to "
            "muhafiz/banks/tests/format_samples.py (copy a sibling's)"
        )
    return SAMPLES[name]


def _entries(carries: tuple[str, ...]) -> list[HashEntry]:
    entries = []
    for data in FILES.values():
        fields: dict[str, Any] = {kind: digest(kind, data) for kind in carries}
        if PDQ in carries:
            fields["pdq_quality"] = 100
        entries.append(HashEntry(**fields))
    return entries


def _own_output(fmt: HashListFormat, sample: FormatSample, tmp_path: Path) -> Path:
    if sample.valid is not None:
        return sample.valid(tmp_path, FILES)
    assert fmt.can_write, f"{fmt.name} cannot write: its sample must build a valid file"
    out = io.StringIO()
    assert fmt.write(_entries(sample.carries), out) == len(FILES)
    path = tmp_path / f"written.{fmt.name}"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _hashes(entries: list[HashEntry], carries: tuple[str, ...]) -> list[dict[str, str | None]]:
    return [{kind: getattr(entry, kind) for kind in carries} for entry in entries]


def test_every_registered_format_has_a_contract_sample() -> None:
    missing = sorted(set(FORMAT_NAMES) - set(SAMPLES))
    assert missing == [], f"add samples to banks/tests/format_samples.py for {missing}"
    assert sorted(SAMPLES) == sorted(FORMAT_NAMES)


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_a_format_recognises_its_own_output(name: str, tmp_path: Path) -> None:
    fmt = get_format(name)
    path = _own_output(fmt, _sample(name), tmp_path)
    assert detect_format(path).name == name


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_reading_gives_back_the_hashes_of_the_bytes(name: str, tmp_path: Path) -> None:
    fmt = get_format(name)
    sample = _sample(name)
    path = _own_output(fmt, sample, tmp_path)
    read = list(fmt.read(path))
    assert _hashes(read, sample.carries) == _hashes(_entries(sample.carries), sample.carries)
    assert all(entry.line > 0 for entry in read)
    # The registry's reader (bulk paths included) agrees with the format's own.
    via_registry = list(read_hash_list(path, name).entries)
    assert sorted(map(str, _hashes(via_registry, sample.carries))) == sorted(
        map(str, _hashes(read, sample.carries))
    )


@pytest.mark.parametrize("name", [fmt.name for fmt in formats() if fmt.can_write])
def test_a_written_list_reads_back_the_same(name: str, tmp_path: Path) -> None:
    fmt = get_format(name)
    sample = _sample(name)
    entries = _entries(sample.carries)
    first = io.StringIO()
    fmt.write(entries, first)
    path = tmp_path / f"first.{name}"
    path.write_text(first.getvalue(), encoding="utf-8")
    read = list(fmt.read(path))
    assert _hashes(read, sample.carries) == _hashes(entries, sample.carries)
    # Writing what was read gives the same text: nothing is lost or invented on the way.
    second = io.StringIO()
    fmt.write(read, second)
    assert second.getvalue() == first.getvalue()


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_a_bad_record_is_refused_naming_the_file_and_line(name: str, tmp_path: Path) -> None:
    fmt = get_format(name)
    path, line = _sample(name).broken(tmp_path, FILES)
    with pytest.raises(HashListError) as error:
        list(fmt.read(path))
    assert error.value.line == line
    assert str(error.value).startswith(f"{path}, line {line}: ")
    assert error.value.message.strip()
