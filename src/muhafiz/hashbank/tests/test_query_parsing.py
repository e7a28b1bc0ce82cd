"""Query hashes from callers: anything that is not a hash is refused with a named reason."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from muhafiz.banks.model import HashKind
from muhafiz.hashbank.matching import QueryError, parse_query


@settings(deadline=None)  # a loaded CI machine must not turn slowness into a failure
@given(st.text(max_size=80), st.sampled_from([None, "md5", "sha1", "sha256", "pdq", "tmk", ""]))
def test_any_input_parses_or_is_refused_with_a_query_error(value: str, kind: str | None) -> None:
    try:
        queries = parse_query(value, kind)
    except QueryError as exc:
        assert str(exc)
        return
    for query in queries:
        assert query.value == query.value.lower()
        assert all(c in "0123456789abcdef" for c in query.value)


def test_kinds_are_told_by_length_and_64_is_ambiguous() -> None:
    assert [q.kind for q in parse_query("A" * 32)] == [HashKind.MD5]
    assert [q.kind for q in parse_query("a" * 40)] == [HashKind.SHA1]
    assert [q.kind for q in parse_query("a" * 64)] == [HashKind.SHA256, HashKind.PDQ]
    assert [q.kind for q in parse_query("a" * 64, "pdq")] == [HashKind.PDQ]


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("a" * 33, None, "33 hex characters"),
        ("g" * 32, None, "not a hexadecimal hash"),
        ("a" * 40, "md5", "expected 32"),
        ("a" * 32, "photodna", "cannot be matched"),
        ("a" * 32, "tmk", "unknown hash type"),
    ],
)
def test_refusals_say_why(value: str, kind: str | None, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse_query(value, kind)
