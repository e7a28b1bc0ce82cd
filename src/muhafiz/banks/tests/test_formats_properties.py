"""Property tests: any input gives entries or a HashListError naming the place, never a crash,
and reading is all or nothing."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muhafiz.banks.formats import formats, read_hash_list
from muhafiz.banks.formats.vics import VICS_20_MEDIA
from muhafiz.banks.match import Matcher
from muhafiz.banks.model import HashEntry, HashListError

HEX = "0123456789abcdefABCDEF"
hex_text = st.text(alphabet=HEX, min_size=0, max_size=70)
line = st.one_of(
    hex_text,
    st.builds(lambda h, n: f"{h}  {n}", hex_text, st.text(max_size=10)),
    st.builds(lambda h, q, n: f"{h},{q},{n}", hex_text, st.integers(-5, 200), st.text(max_size=5)),
    st.builds(
        lambda f, q, h, t: f"{f},{q},{h},{t}",
        st.integers(0, 9),
        st.integers(0, 120),
        hex_text,
        st.floats(0, 100, allow_nan=False),
    ),
    st.text(max_size=30),
    st.just("%%%% HASHDEEP-1.0"),
    st.just("%%%% size,md5,sha256,filename"),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(path: Path, fmt: str | None) -> None:
    try:
        hash_list = read_hash_list(path, fmt)
    except HashListError as error:
        assert str(path) in str(error) or (fmt is not None and fmt in str(error))
        return
    for entry in hash_list.entries:
        assert isinstance(entry, HashEntry)
        for value in (entry.md5, entry.sha1, entry.sha256, entry.pdq):
            assert value is None or value == value.lower()


@SETTINGS
@given(st.lists(line, max_size=8), st.sampled_from([None, *[f.name for f in formats()]]))
def test_text_lists_never_crash(lines: list[str], fmt: str | None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "list.txt"
        try:
            path.write_text("\n".join(lines), encoding="utf-8")
        except UnicodeEncodeError:
            return
        _check(path, fmt)


@SETTINGS
@given(st.binary(max_size=300), st.sampled_from([None, *[f.name for f in formats()]]))
def test_arbitrary_bytes_never_crash(data: bytes, fmt: str | None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "blob.bin"
        path.write_bytes(data)
        _check(path, fmt)


media = st.fixed_dictionaries(
    {"MediaID": st.integers(0, 10**6), "MD5": st.text(alphabet=HEX, min_size=32, max_size=32)},
    optional={
        "Category": st.one_of(st.none(), st.integers(0, 5), st.text(max_size=3)),
        "SHA1": st.one_of(st.none(), hex_text),
        "VictimIdentified": st.one_of(st.booleans(), st.sampled_from(["true", "false", "x"])),
        "Tags": st.one_of(st.lists(st.text(max_size=5), max_size=3), st.text(max_size=8)),
        "PhotoDNA": st.text(max_size=20),
    },
)


@SETTINGS
@given(st.lists(media, max_size=6), st.integers(0, 10_000))
def test_truncated_or_mutated_vics_is_all_or_nothing(items: list[object], cut: int) -> None:
    document = json.dumps({"@odata.context": VICS_20_MEDIA, "value": items})
    with tempfile.TemporaryDirectory() as directory:
        whole = Path(directory) / "whole.json"
        whole.write_text(document)
        _check(whole, "vics")
        part = Path(directory) / "part.json"
        part.write_text(document[: cut % (len(document) + 1)])
        if cut % (len(document) + 1) < len(document):
            try:
                read_hash_list(part, "vics")
            except HashListError:
                pass
            else:  # pragma: no cover - a cut document must never read as complete
                raise AssertionError("a truncated VICS document was accepted")


@SETTINGS
@given(st.lists(line, min_size=1, max_size=6))
def test_matcher_loads_all_or_raises(lines: list[str]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "list.txt"
        try:
            path.write_text("\n".join(lines), encoding="utf-8")
        except UnicodeEncodeError:
            return
        try:
            matcher = Matcher.from_paths([path])
        except HashListError:
            return
        # All: the matcher holds every entry a complete read gives (duplicates merged or not).
        complete = read_hash_list(path)
        assert matcher.banks[0].entries == len(complete.entries) + complete.duplicates
