"""Stored messages put into words: values keep their order inside a right-to-left sentence."""

from __future__ import annotations

import datetime

import pytest
from django.template import Context, Template
from django.utils.translation import override

from muhafiz.core.words import FSI, PDI, in_words, moment, names, phrase

DEADLINE = "Deadline missed: in case %(case)s the %(deadline)s was due %(due)s."
WHEN = datetime.datetime(2024, 9, 27, 18, 59, tzinfo=datetime.UTC)


def _params() -> dict[str, object]:
    return {
        "case": "LHR-2023-0001",
        "deadline": names("appeal decision", "اپیل کا فیصلہ"),
        "due": moment(WHEN),
    }


def test_english_values_are_written_as_they_are() -> None:
    with override("en"):
        text = in_words(DEADLINE, _params())
    assert FSI not in text and PDI not in text
    assert "LHR-2023-0001" in text and "2024-09-27 23:59" in text  # Asia/Karachi


def test_in_urdu_every_value_is_isolated_so_a_date_keeps_its_order() -> None:
    with override("ur"):
        text = in_words(DEADLINE, _params())
    assert f"{FSI}2024-09-27 23:59{PDI}" in text
    assert f"{FSI}LHR-2023-0001{PDI}" in text
    assert f"{FSI}اپیل کا فیصلہ{PDI}" in text


def test_nested_messages_and_numbers() -> None:
    message = "%(what)s, %(count)d more"
    with override("ur"):
        text = in_words(
            message, {"what": phrase("Case %(case)s", case="KSR-2026-0001"), "count": 3}
        )
    assert text.count(FSI) == 2 and text.count(PDI) == 2
    assert text.endswith("3 more")  # a number is not a string: `%d` still takes it


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "2026-12-07 16:24"), ("ur", f"{FSI}2026-12-07 16:24{PDI}")]
)
def test_the_isolated_filter(language: str, expected: str) -> None:
    template = Template("{% load shell %}{{ when|isolated }}")
    with override(language):
        assert template.render(Context({"when": "2026-12-07 16:24"})) == expected
