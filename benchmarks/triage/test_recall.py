"""Triage never misses a near-duplicate the reference finds in a bank of reference hashes (#10).

A small subset of the fidelity corpus (a few textures and scenery pictures at 1024 × 768, each
with its five variants, generated in a temporary folder; no pictures of people) is hashed the
reference way (`pdqhash.compute` on the full decode) and the way `muhafiz scan` does
(`analyze_image`). The bank holds the originals' reference hashes. Every pair the reference
matches, triage matches; nothing matches a bank entry of another picture. The same check run on
a deliberately coarser hash (a 1/8 decode hashed by pdqhash, what triage did before issue 10)
fails, so the test can tell a hash that agrees with the reference from one that does not.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
import pdqhash
import pytest
from PIL import Image

from benchmarks.triage.fidelity import Picture, build
from benchmarks.triage.recall import Hashed, hamming, recall
from muhafiz.triage.imaging import analyze_image
from muhafiz.triage.records import FileRecord
from muhafiz.triage.settings import ScanSettings

SIZE = (1024, 768)  # originals decode at 1/2 in triage, so triage's hash is not the reference's
# Textures and scenery on which a coarser hash loses matches the reference makes (text, foliage,
# brick) and one on which it does not (stripes).
BASES = ("stripes-45", "text-small", "foliage-fine", "scene-brick")

Hasher = Callable[[bytes], tuple[str, int]]


def _pdq(pixels: Image.Image) -> tuple[str, int]:
    bits, quality = pdqhash.compute(np.asarray(pixels.convert("RGB")))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)


def _reference(data: bytes) -> tuple[str, int]:
    return _pdq(Image.open(io.BytesIO(data)))


def _triage(data: bytes) -> tuple[str, int]:
    record = FileRecord(1, "picture.jpg", None, 0)
    analyze_image(data, record, ScanSettings())
    assert record.pdq is not None and record.pdq_quality is not None
    return record.pdq, record.pdq_quality


def _coarse(data: bytes) -> tuple[str, int]:
    """A deliberately coarser hash: libjpeg's 1/8 decode, hashed by pdqhash."""
    image = Image.open(io.BytesIO(data))
    image.draft("RGB", (image.width // 8, image.height // 8))
    return _pdq(image)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Picture, bytes, str, int]]:
    pictures = build(tmp_path_factory.mktemp("recall"), SIZE, only=BASES)
    assert {p.name for p in pictures} == set(BASES), "scikit-image is a dev dependency"
    return [(p, data, *_reference(data)) for p in pictures for data in [p.path.read_bytes()]]


def _hashed(corpus: list[tuple[Picture, bytes, str, int]], hasher: Hasher) -> list[Hashed]:
    return [
        Hashed(p.name, p.kind, p.variant, ref, quality, *hasher(data))
        for p, data, ref, quality in corpus
    ]


def test_triage_matches_every_pair_the_reference_matches_and_nothing_unrelated(
    corpus: list[tuple[Picture, bytes, str, int]],
) -> None:
    hashed = _hashed(corpus, _triage)
    result = recall(hashed)
    # Not vacuous: the reference matches most near-duplicates of the subset, of both kinds.
    assert result.overall.reference >= result.overall.pairs // 2, result.overall
    assert {p.kind for p in result.pairs if p.reference_match} >= {"scenery", "stripes"}
    assert result.reference_only == [], result.reference_only
    assert result.overall.relative == 1.0
    assert result.originals.triage == result.originals.pairs == len(BASES)
    assert result.false_matches == {"reference": [], "triage": []}
    assert result.closest_unrelated["triage"][0] > 31
    assert result.floor_disagreements == 0
    # Triage's hashes are not the reference's (the reduced decode is in use at this size).
    assert any(hamming(h.triage, h.reference) for h in hashed)


def test_the_same_check_fails_for_a_hash_coarser_than_the_reference(
    corpus: list[tuple[Picture, bytes, str, int]],
) -> None:
    result = recall(_hashed(corpus, _coarse))
    assert result.reference_only != [], "a 1/8 decode should lose pairs the reference matches"
    assert result.overall.relative is not None and result.overall.relative < 1.0


H0 = "0" * 64


def _flip(bits: int) -> str:
    """A hash `bits` bits away from H0."""
    return f"{(1 << bits) - 1:064x}"


def test_recall_counts_each_side_and_lists_what_one_side_matches_alone() -> None:
    far = "f" * 64  # 256 bits from H0
    rows = [
        Hashed("a", "stripes", "original", H0, 100, _flip(2), 100),
        Hashed("a", "stripes", "half", _flip(10), 100, _flip(12), 100),  # both match
        Hashed("a", "stripes", "crop5", _flip(40), 100, _flip(30), 100),  # triage only
        Hashed("a", "stripes", "label", _flip(30), 100, _flip(33), 100),  # reference only
        Hashed("a", "stripes", "q30", _flip(5), 40, _flip(5), 40),  # below the floor: left out
        Hashed("b", "scenery", "original", far, 100, far, 100),
        Hashed("b", "scenery", "bright", _flip(250), 100, _flip(228), 100),  # both: 6 and 28
    ]
    result = recall(rows)
    assert (result.overall.pairs, result.overall.reference, result.overall.triage) == (4, 3, 3)
    assert result.overall.relative == 2 / 3
    assert [(p.name, p.variant) for p in result.triage_only] == [("a", "crop5")]
    assert [(p.name, p.variant) for p in result.reference_only] == [("a", "label")]
    assert result.low_quality == 1
    assert result.by_kind["all generated textures"].pairs == 3
    assert result.by_kind["scenery"].reference == 1
    assert result.by_variant["crop5"].triage_only == 1
    assert result.false_matches == {"reference": [], "triage": []}
    # A picture of another base within 31 of a's entry is a false match, on its side only.
    rows.append(Hashed("b", "scenery", "label", far, 100, _flip(20), 100))
    result = recall(rows)
    assert result.false_matches == {"reference": [], "triage": [("b", "label", "a", 20)]}
    assert result.closest_unrelated["triage"][:2] == (20, "b")
