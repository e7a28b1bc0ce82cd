"""Near-duplicate recall of triage's PDQ against a bank of reference hashes (issue 10), every form.

The bank holds the reference hashes of the originals (`pdqhash.compute` on the full decode, as
python-threatexchange and HMA compute them). Each picture of the corpus is looked up in it twice:
with the reference hash of the picture itself and with triage's hash of it. A lookup matches a
bank entry at Hamming distance <= MATCH_DISTANCE (31) when the looked-up hash has quality >=
MIN_PDQ_QUALITY (50), as the bank index does. From those lookups:

1. absolute recall: of the near-duplicates (the five variants) whose reference hash has quality
   >= 50, the share whose hash is within 31 of its original's bank entry, for triage's hashes and
   for the reference's own hashes of the variants side by side;
2. relative recall: of the (variant, original) pairs the reference itself matches, the share
   triage matches ("never misses what the reference finds"), and the pairs triage matches and
   the reference does not, listed;
3. both broken down by picture kind (each generated texture kind, all textures, the shipped
   scenery and objects) and by variant, and kind by variant;
4. false matches: every picture (any variant, quality >= 50) against the bank entries of the
   other base pictures, with the closest such distance for each side.

Pure functions on hashes: the benchmark (run.py) and the fast test (test_recall.py) share them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from muhafiz.banks.index.pdq import MATCH_DISTANCE, MIN_PDQ_QUALITY

ORIGINAL = "original"
SCENERY = "scenery"
TEXTURES = "all generated textures"


@dataclass(frozen=True)
class Hashed:
    """One picture of the corpus, hashed both ways (hashes as 64 hex digits)."""

    name: str  # base picture, e.g. "stripes-15"
    kind: str  # texture kind ("stripes", ...) or "scenery"
    variant: str  # "original", "half", "q30", "bright", "crop5", "label"
    reference: str  # pdqhash.compute on the full decode
    reference_quality: int
    triage: str  # muhafiz.triage.imaging.pdq_of_encoded
    triage_quality: int


@dataclass(frozen=True)
class Pair:
    """A variant looked up against its own original's bank entry."""

    name: str
    kind: str
    variant: str
    reference_distance: int  # reference hash of the variant to the bank entry
    triage_distance: int  # triage's hash of the variant to the bank entry
    reference_match: bool
    triage_match: bool


@dataclass
class Tally:
    """Counts over a group of (variant, original) pairs."""

    pairs: int = 0
    reference: int = 0  # pairs the reference hash of the variant matches
    triage: int = 0  # pairs triage's hash matches
    both: int = 0
    triage_only: int = 0
    reference_only: int = 0  # what triage misses of what the reference finds

    def add(self, pair: Pair) -> None:
        self.pairs += 1
        self.reference += pair.reference_match
        self.triage += pair.triage_match
        self.both += pair.reference_match and pair.triage_match
        self.triage_only += pair.triage_match and not pair.reference_match
        self.reference_only += pair.reference_match and not pair.triage_match

    @property
    def relative(self) -> float | None:
        """Of the pairs the reference matches, the share triage matches (None: it matches none)."""
        return self.both / self.reference if self.reference else None


@dataclass
class Recall:
    pairs: list[Pair]  # near-duplicates (the five variants) of quality >= 50
    originals: Tally  # each original against its own bank entry (same file)
    overall: Tally  # over every near-duplicate pair
    by_kind: dict[str, Tally]
    by_variant: dict[str, Tally]
    by_kind_and_variant: dict[tuple[str, str], Tally]
    bank: int  # entries in the bank (the originals)
    low_quality: int  # near-duplicates left out: reference quality < 50
    floor_disagreements: int  # pictures triage and the reference put on either side of 50
    unrelated_lookups: int  # (picture, other base's bank entry) lookups
    false_matches: dict[str, list[tuple[str, str, str, int]]] = field(default_factory=dict)
    closest_unrelated: dict[str, tuple[int, str, str, str]] = field(default_factory=dict)

    @property
    def triage_only(self) -> list[Pair]:
        return [p for p in self.pairs if p.triage_match and not p.reference_match]

    @property
    def reference_only(self) -> list[Pair]:
        return [p for p in self.pairs if p.reference_match and not p.triage_match]

    @property
    def borderline(self) -> int:
        """Pairs the reference matches by a margin of at most 8 bits (of 31): the ones a hash a
        few bits from the reference could lose."""
        edge = MATCH_DISTANCE - 8
        return sum(p.reference_match and p.reference_distance > edge for p in self.pairs)


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _matches(hash_: str, quality: int, entry: str) -> bool:
    return quality >= MIN_PDQ_QUALITY and hamming(hash_, entry) <= MATCH_DISTANCE


def recall(pictures: Iterable[Hashed]) -> Recall:
    rows = list(pictures)
    bank = {r.name: r.reference for r in rows if r.variant == ORIGINAL}
    pairs: list[Pair] = []
    originals = Tally()
    low_quality = 0
    for r in rows:
        if r.name not in bank:
            continue
        if r.reference_quality < MIN_PDQ_QUALITY:
            low_quality += r.variant != ORIGINAL
            continue
        entry = bank[r.name]
        pair = Pair(
            r.name,
            r.kind,
            r.variant,
            hamming(r.reference, entry),
            hamming(r.triage, entry),
            _matches(r.reference, r.reference_quality, entry),
            _matches(r.triage, r.triage_quality, entry),
        )
        if r.variant == ORIGINAL:
            originals.add(pair)
        else:
            pairs.append(pair)
    overall = Tally()
    by_kind: dict[str, Tally] = {}
    by_variant: dict[str, Tally] = {}
    by_both: dict[tuple[str, str], Tally] = {}
    for pair in pairs:
        groups = [pair.kind] if pair.kind == SCENERY else [pair.kind, TEXTURES]
        overall.add(pair)
        by_variant.setdefault(pair.variant, Tally()).add(pair)
        for group in groups:
            by_kind.setdefault(group, Tally()).add(pair)
            by_both.setdefault((group, pair.variant), Tally()).add(pair)
    false_matches: dict[str, list[tuple[str, str, str, int]]] = {"reference": [], "triage": []}
    closest: dict[str, tuple[int, str, str, str]] = {}
    lookups = 0
    for r in rows:
        for side, hash_, quality in (
            ("reference", r.reference, r.reference_quality),
            ("triage", r.triage, r.triage_quality),
        ):
            if quality < MIN_PDQ_QUALITY:
                continue
            for name, entry in bank.items():
                if name == r.name:
                    continue
                lookups += side == "triage"
                d = hamming(hash_, entry)
                if d <= MATCH_DISTANCE:
                    false_matches[side].append((r.name, r.variant, name, d))
                if side not in closest or d < closest[side][0]:
                    closest[side] = (d, r.name, r.variant, name)
    return Recall(
        pairs=pairs,
        originals=originals,
        overall=overall,
        by_kind=dict(sorted(by_kind.items(), key=lambda kv: _kind_order(kv[0]))),
        by_variant=by_variant,
        by_kind_and_variant=by_both,
        bank=len(bank),
        low_quality=low_quality,
        floor_disagreements=sum(
            (r.reference_quality >= MIN_PDQ_QUALITY) != (r.triage_quality >= MIN_PDQ_QUALITY)
            for r in rows
        ),
        unrelated_lookups=lookups,
        false_matches=false_matches,
        closest_unrelated=closest,
    )


def _kind_order(kind: str) -> tuple[int, str]:
    return (2 if kind == SCENERY else 1 if kind == TEXTURES else 0, kind)


# ---------------------------------------------------------------- report


def _share(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.1f}%" if d else "0/0"


def _relative(t: Tally) -> str:
    return _share(t.both, t.reference) if t.reference else "— (reference finds none)"


def lines(r: Recall, variants: Sequence[str]) -> list[str]:
    """The recall block of the fidelity section of benchmarks/RESULTS.md."""
    o = r.overall
    near = [v for v in variants if v != ORIGINAL]
    out = [
        f"**Near-duplicate recall** against a bank of the {r.bank} originals' reference hashes "
        f"(match: distance ≤ {MATCH_DISTANCE}, hash quality ≥ {MIN_PDQ_QUALITY}). Each of the "
        f"{o.pairs} near-duplicates ({', '.join(near)}; {r.low_quality} more left out because "
        "the reference hash of the variant has quality < 50) is looked up twice: with triage's "
        "hash of the file and with the reference's own hash of it (`pdqhash.compute` on the full "
        "decode, what a partner would compute for the same file).",
        "",
        "| measure | triage | reference | target |",
        "|---|---:|---:|---|",
        f"| 1. absolute recall: near-duplicates found in the bank of originals "
        f"| {_share(o.triage, o.pairs)} | {_share(o.reference, o.pairs)} | ≥ 98% (read below) |",
        f"| 2. relative recall: of the pairs the reference matches, triage matches "
        f"| {_relative(o)} | | 100% |",
        f"| 2. pairs triage matches and the reference does not "
        f"| {o.triage_only} | | 0 or few, listed |",
        f"| reference matches within 8 bits of the threshold (distance 24-31) "
        f"| | {r.borderline} | |",
        f"| same file: each original against its own bank entry "
        f"| {_share(r.originals.triage, r.originals.pairs)} "
        f"| {_share(r.originals.reference, r.originals.pairs)} | |",
        f"| 4. false matches: {r.unrelated_lookups} lookups of every picture against the other "
        f"base pictures' bank entries | {len(r.false_matches['triage'])} "
        f"| {len(r.false_matches['reference'])} | 0 |",
        f"| 4. closest unrelated distance (picture → other base's entry) "
        f"| {_closest(r, 'triage')} | {_closest(r, 'reference')} | > {MATCH_DISTANCE} |",
        f"| pictures triage and the reference put on either side of quality 50 "
        f"| {r.floor_disagreements} | | 0 |",
        "",
        "3. By picture kind (near-duplicates of each kind; 'relative' is triage's share of the "
        "pairs the reference matches):",
        "",
        "| kind | near-duplicates | reference finds | triage finds | relative | triage only |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {kind} | {t.pairs} | {_share(t.reference, t.pairs)} | {_share(t.triage, t.pairs)} "
            f"| {_relative(t)} | {t.triage_only} |"
            for kind, t in r.by_kind.items()
        ),
        "",
        "3. By variant:",
        "",
        "| variant | near-duplicates | reference finds | triage finds | relative | triage only |",
        "|---|---:|---:|---:|---:|---:|",
        *(
            f"| {v} | {t.pairs} | {_share(t.reference, t.pairs)} | {_share(t.triage, t.pairs)} "
            f"| {_relative(t)} | {t.triage_only} |"
            for v in near
            if (t := r.by_variant.get(v)) is not None
        ),
        "",
        "3. Kind by variant, 'reference finds / triage finds / pictures' (where the reference's "
        "own misses are):",
        "",
        "| kind | " + " | ".join(near) + " |",
        "|---|" + "---:|" * len(near),
    ]
    for kind in r.by_kind:
        cells = []
        for v in near:
            t = r.by_kind_and_variant.get((kind, v))
            cells.append(f"{t.reference} / {t.triage} / {t.pairs}" if t else "")
        out.append(f"| {kind} | " + " | ".join(cells) + " |")
    out += ["", *_listed(r), "", *_reading(r, near)]
    return out


def _reading(r: Recall, near: Sequence[str]) -> list[str]:
    """What the >= 98% target can mean here, from the figures of this run."""
    o = r.overall
    moved = [
        v for v in near if (t := r.by_variant.get(v)) and t.pairs and t.reference < t.pairs / 2
    ]
    kept = Tally()
    for pair in r.pairs:
        if pair.variant not in moved:
            kept.add(pair)
    return [
        "Reading the ≥ 98% target. A hash that agrees with the reference finds what the "
        "reference finds, and no more (bar pairs near the threshold: the list above); the "
        "reference's own hashes of these near-duplicates find "
        f"{_share(o.reference, o.pairs)} of them. "
        + (
            f"The variants the reference itself misses in most pictures ({', '.join(moved)}) "
            "hold its misses (which kinds: the kind-by-variant table). Without them, triage "
            f"finds {_share(kept.triage, kept.pairs)} and the reference "
            f"{_share(kept.reference, kept.pairs)}. "
            if moved
            else ""
        )
        + "Relative recall (row 2) is triage's own loss against the reference, whatever the "
        "corpus's variants do to PDQ itself; the final reading of the target is the issue "
        "author's (decision 0102).",
    ]


def _closest(r: Recall, side: str) -> str:
    if side not in r.closest_unrelated:
        return "—"
    d, name, variant, entry = r.closest_unrelated[side]
    return f"{d} ({name}/{variant} → {entry})"


def _listed(r: Recall) -> list[str]:
    out = []
    for title, pairs in (
        ("Pairs triage matches and the reference does not", r.triage_only),
        ("Pairs the reference matches and triage misses", r.reference_only),
    ):
        if pairs:
            items = "; ".join(
                f"{p.name}/{p.variant} (triage {p.triage_distance}, reference "
                f"{p.reference_distance} bits)"
                for p in pairs
            )
            out.append(f"{title}: {items}.")
        else:
            out.append(f"{title}: none.")
    for side in ("triage", "reference"):
        if r.false_matches.get(side):
            items = "; ".join(f"{n}/{v} → {e} ({d} bits)" for n, v, e, d in r.false_matches[side])
            out.append(f"False matches of the {side} hashes: {items}.")
    return out
