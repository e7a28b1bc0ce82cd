"""Whole-video matching with vPDQ frame files."""

from __future__ import annotations

import random
from pathlib import Path

from muhafiz.banks.match import Matcher
from muhafiz.banks.tests.conftest import flip_bits, random_pdq, write
from muhafiz.banks.video import match_video


def _vpdq(frames: list[str]) -> str:
    return "".join(f"{i * 30},100,{pdq},{i:.3f}\n" for i, pdq in enumerate(frames))


def test_a_re_encoded_video_is_accepted_and_a_partial_one_is_not(tmp_path: Path) -> None:
    rng = random.Random(8)
    video = [random_pdq(rng) for _ in range(10)]
    other = [random_pdq(rng) for _ in range(4)] + [video[0]]  # shares one frame with video
    bank_a = write(tmp_path, "known-a.vpdq.txt", _vpdq(video))
    bank_b = write(tmp_path, "known-b.vpdq.txt", _vpdq(other))
    matcher = Matcher.from_paths([bank_a, bank_b])

    reencoded = [(flip_bits(pdq, 12, rng), 90) for pdq in video[:9]]
    reencoded += [(random_pdq(rng), 90), ("0" * 64, 10)]  # one new frame, one black frame
    [best, *rest] = match_video(matcher, reencoded)
    assert (best.bank, best.video, best.accepted) == ("known-a", "known-a", True)
    assert best.query_match_percent == 90.0
    assert best.compared_match_percent == 90.0
    assert [(m.bank, m.accepted) for m in rest] == [("known-b", False)]

    partial = [(pdq, 100) for pdq in video[:5]] + [(random_pdq(rng), 100) for _ in range(5)]
    results = {m.bank: m for m in match_video(matcher, partial)}
    assert results["known-a"].compared_match_percent == 50.0
    assert not results["known-a"].accepted
    assert match_video(matcher, [("0" * 64, 0)]) == []
