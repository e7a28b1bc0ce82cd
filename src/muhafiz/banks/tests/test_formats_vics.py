"""Contract tests of VICS 1.3 / 2.0 hash sets and case exports: streamed, strict on errors."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from muhafiz.banks.formats import detect_format, get_format, jsonstream, read_hash_list
from muhafiz.banks.model import HashEntry, HashListError
from muhafiz.banks.tests.conftest import digests, write

V20 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media"
V20_CASES = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"
V13 = "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media"
PDQ = "d8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22"
PHOTODNA = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=" * 3  # opaque, kept as given


def _media(i: int, **extra: Any) -> dict[str, Any]:
    d = digests(f"media {i}".encode())
    return {"MediaID": i, "Category": 1, "MD5": d["md5"].upper(), "SHA1": d["sha1"], **extra}


def _doc(context: str, items: list[Any], key: str = "@odata.context") -> str:
    return json.dumps({key: context, "value": items}, indent=1)


def test_vics_20_hash_set_reads_every_field(tmp_path: Path) -> None:
    media = _media(
        7,
        PhotoDNA=PHOTODNA,
        VictimIdentified="true",
        OffenderIdentified=False,
        Series="S-12",
        Tags=["tag-a", "tag-b"],
        Comments="synthetic",
        AlternativeHashes=[{"HashName": "PDQ", "HashValue": PDQ.upper()}],
    )
    path = write(tmp_path, "set.json", _doc(V20, [media]))
    assert detect_format(path).name == "vics"
    [entry] = read_hash_list(path).entries
    d = digests(b"media 7")
    assert entry == HashEntry(
        md5=d["md5"],
        sha1=d["sha1"],
        pdq=PDQ,
        photodna=PHOTODNA,
        category=1,
        series="S-12",
        victim_identified=True,
        offender_identified=False,
        tags=("tag-a", "tag-b"),
        note="synthetic",
        line=entry.line,
    )
    assert entry.line == 4  # the line where the media object opens


def test_vics_13_hash_set_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "v13.json", _doc(V13, [_media(1), _media(2)], key="odata.metadata"))
    assert [e.category for e in read_hash_list(path).entries] == [1, 1]


def test_case_export_streams_media_of_every_case(tmp_path: Path) -> None:
    cases = [
        {
            "CaseID": 1,
            "CaseNumber": "C-1",
            "SourceApplicationName": "synthetic",
            "Media": [_media(1, MediaFiles=[{"FileName": "a.jpg"}]), _media(2)],
        },
        {"CaseID": 2, "Media": [_media(3)]},
    ]
    path = write(tmp_path, "cases.json", _doc(V20_CASES, cases))
    assert len(read_hash_list(path).entries) == 3


def test_large_documents_are_read_in_small_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jsonstream, "_CHUNK", 64)  # force many refills mid-record
    items = [_media(i, Comments="ü" * (i % 7)) for i in range(300)]
    path = write(tmp_path, "big.json", _doc(V20, items))
    entries = read_hash_list(path).entries
    assert [e.md5 for e in entries] == [digests(f"media {i}".encode())["md5"] for i in range(300)]
    assert entries[-1].note == "ü" * (299 % 7) or entries[-1].note is None


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        (_doc(V20, [_media(1)])[:-30], "truncated", None),
        ('{"@odata.context": "' + V20 + '", "value": [{"MD5": }]}', "malformed JSON", 1),
        (_doc("http://example.org/3.1.xml#Media", [_media(1)]), "unknown VICS version", 2),
        (json.dumps({"value": [_media(1)]}), "unknown VICS version", None),
        (_doc(V20, [_media(1), _media(2, MD5="abc")]), "MediaID 2", None),
        (_doc(V20, [_media(1), _media(2, SHA1="z" * 40)]), "not hexadecimal", None),
        (_doc(V20, [{"MediaID": 3, "Category": 1}]), "no MD5", None),
        (_doc(V20, [_media(1, VictimIdentified="maybe")]), "VictimIdentified", None),
        (_doc(V20, [_media(1, Category="first")]), "Category", None),
        (_doc(V20, [_media(1)]) + "\n{}", "after the end", None),
        (_doc(V20, [_media(1), _media(1, Category=2)]), "different details", None),
    ],
)
def test_bad_vics_is_refused_with_the_place(
    tmp_path: Path, text: str, message: str, line: int | None
) -> None:
    path = write(tmp_path, "bad.json", text)
    with pytest.raises(HashListError, match=message) as error:
        read_hash_list(path, "vics")
    if line is not None:
        assert error.value.line == line
    if "MediaID" in message:
        assert error.value.line is not None and error.value.line > 3


def test_vics_export_round_trips(tmp_path: Path) -> None:
    entries = [
        HashEntry(
            md5=digests(b"a")["md5"],
            sha256=digests(b"a")["sha256"],
            pdq=PDQ,
            pdq_quality=90,
            photodna=PHOTODNA,
            category=2,
            series="S",
            victim_identified=False,
            tags=("x",),
            note="n",
        ),
        HashEntry(sha1=digests(b"b")["sha1"]),
    ]
    out = io.StringIO()
    assert get_format("vics").write(entries, out) == 2
    document = json.loads(out.getvalue())
    assert document["@odata.context"] == V20
    assert document["value"][0]["PhotoDNA"] == PHOTODNA
    path = write(tmp_path, "export.json", out.getvalue())
    back = read_hash_list(path).entries
    assert [(e.md5, e.sha1, e.sha256, e.pdq, e.pdq_quality, e.photodna) for e in back] == [
        (e.md5, e.sha1, e.sha256, e.pdq, e.pdq_quality, e.photodna) for e in entries
    ]
    assert [(e.category, e.series, e.victim_identified, e.tags, e.note) for e in back] == [
        (e.category, e.series, e.victim_identified, e.tags, e.note) for e in entries
    ]


def test_any_chunk_boundary_inside_literals_and_numbers_is_read_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = [
        _media(
            i,
            Series=None,
            VictimIdentified=bool(i % 2),
            OffenderIdentified=False,
            MediaSize=-12345.5e3,
            Exifs=[],
        )
        for i in range(12)
    ]
    path = write(tmp_path, "literals.json", _doc(V20, items))
    expected = [e.md5 for e in read_hash_list(path).entries]
    for chunk in range(7, 120):  # every cut position within a record
        monkeypatch.setattr(jsonstream, "_CHUNK", chunk)
        assert [e.md5 for e in read_hash_list(path).entries] == expected, chunk


def test_a_file_cut_inside_a_literal_is_called_truncated(tmp_path: Path) -> None:
    text = _doc(V20, [_media(1, Series=None)])
    cut = text[: text.index("null") + 2]
    with pytest.raises(HashListError, match="truncated"):
        read_hash_list(write(tmp_path, "cut.json", cut), "vics")
