"""Every reason a reader gives has a stable code and its values beside the English sentence, so
that a server can say it in its reader's language (`muhafiz.hashbank.reasons`); the English the
command line prints is what it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from muhafiz.banks.formats import read_hash_list
from muhafiz.banks.model import HashListError
from muhafiz.banks.reasons import ENGLISH, JSON_PLACES, PLACES, Reason, fields, reason

MD5 = "0" * 32


def sample(template: str) -> dict[str, str | int]:
    """A value for every field of `template`: a number where the sentence groups digits."""
    return {name: 12345 if "," in spec else f"<{name}>" for name, spec, _ in fields(template)}


@pytest.mark.parametrize("code", sorted(ENGLISH))
def test_every_reason_says_its_values_in_english(code: str) -> None:
    values = sample(ENGLISH[code])
    why = Reason(code, values)
    assert why.message == ENGLISH[code].format(**values)
    assert json.loads(json.dumps(why.as_json())) == {"code": code, "place": "", "params": values}


def test_a_reason_needs_a_known_code_and_all_its_values() -> None:
    with pytest.raises(KeyError, match="no reason"):
        reason("not_a_code")
    with pytest.raises(KeyError, match="needs"):
        reason("not_hex", kind="md5")


def _error(path: Path, text: str) -> HashListError:
    path.write_text(text, encoding="utf-8")
    with pytest.raises(HashListError) as error:
        read_hash_list(path)
    return error.value


def test_a_bad_line_names_its_code_and_the_value_as_found(tmp_path: Path) -> None:
    error = _error(tmp_path / "list.txt", f"{MD5}\nnot-a-hash\n")
    assert error.line == 2
    assert error.reason.as_json() == {
        "code": "plain_not_hex",
        "place": "",
        "params": {"value": "not-a-hash"},
    }
    assert error.message == "'not-a-hash' is not a hexadecimal hash"  # as the CLI said it


def test_a_vics_record_names_its_place_and_the_hash_reason_inside_it(tmp_path: Path) -> None:
    document = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/"
        "Default/$metadata#Media",
        "value": [{"MediaID": 7, "MD5": "abc"}],
    }
    error = _error(tmp_path / "list.json", json.dumps(document))
    assert error.reason.code == "wrong_hex_length"
    assert error.reason.place == "record_media"
    assert dict(error.reason.params) == {
        "kind": "md5",
        "value": "abc",
        "length": 3,
        "expected": 32,
        "record": 1,
        "media_id": "7",
    }
    assert error.message == "record 1 (MediaID 7): md5 'abc' has 3 hex characters, expected 32"


def test_a_broken_json_document_names_a_known_place(tmp_path: Path) -> None:
    error = _error(tmp_path / "list.json", '{"value": [{"MD5": "' + MD5 + '"} {}]}')
    assert error.reason.code == "json_separator"
    assert error.reason.params["what"] == "'value'"
    places = {p.replace("{line}", "") for p in JSON_PLACES}
    assert str(error.reason.params["what"]) in places


def test_a_reason_given_as_text_has_no_code() -> None:
    error = HashListError("list.txt", 3, "a reader's own words")
    assert error.reason.code == "" and error.message == "a reader's own words"
    assert str(error) == "list.txt, line 3: a reader's own words"
    assert set(PLACES) == {"", "record", "record_media"}
