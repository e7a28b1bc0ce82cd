"""Matching API used by triage and the server: load banks (hash-list files or exported bank
directories) and match a file's MD5/SHA-1/SHA-256/PDQ against all of them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from muhafiz.banks.bankdir import bank_dirs_under, open_bank_dir
from muhafiz.banks.hexhash import DIGEST_BYTES, HEX_LENGTHS, is_hex
from muhafiz.banks.index.exact import hex_to_digests
from muhafiz.banks.index.pdq import MATCH_DISTANCE, MIN_PDQ_QUALITY, hex_to_words, words_to_hex
from muhafiz.banks.model import BankInfo, BankKind, HashEntry, HashKind, HashListError
from muhafiz.banks.segment import NO_RECORD, Segment, SegmentBuilder

__all__ = ["MIN_PDQ_QUALITY", "BankInfo", "LoadedBank", "Match", "Matcher"]


@dataclass(frozen=True)
class Match:
    """One bank entry a hash matched, and how near (0 for an exact digest)."""

    bank: str
    bank_kind: BankKind
    kind: HashKind
    distance: int
    entry: HashEntry


@dataclass
class LoadedBank:
    """A bank read for matching: what it is and its segments."""

    info: BankInfo
    segments: list[Segment]


def _names_told_apart(banks: list[LoadedBank]) -> list[LoadedBank]:
    """Hash-list files that share a stem are named by their whole file name instead."""
    stems = Counter(bank.info.name for bank in banks if bank.info.path.is_file())
    for bank in banks:
        if bank.info.path.is_file() and stems[bank.info.name] > 1:
            bank.info = replace(bank.info, name=bank.info.path.name)
    return banks


class Matcher:
    """Matches hashes against a set of loaded banks (known-bad, watch and known-good)."""

    def __init__(self, banks: Sequence[LoadedBank]) -> None:
        names: dict[str, Path] = {}
        for bank in banks:
            if bank.info.name in names:
                raise HashListError(
                    str(bank.info.path),
                    None,
                    f"bank name {bank.info.name!r} is already used by {names[bank.info.name]}",
                )
            names[bank.info.name] = bank.info.path
        self._banks = list(banks)
        self.banks: list[BankInfo] = [bank.info for bank in banks]
        self._video_frames: dict[tuple[str, int], dict[str, int]] = {}

    @classmethod
    def from_paths(cls, bad: Sequence[Path], known_good: Sequence[Path] = ()) -> Matcher:
        """Load hash-list files (any supported format, auto-detected) and bank directories.

        Files in `bad` become known-bad banks, in `known_good` known-good banks, named after the
        file stem (`known.md5` -> "known"), or after the whole file name when two files share a
        stem (`known.md5` and `known.sha256`). A bank directory keeps the name and kind its
        manifest gives; a known-good
        directory given as bad (or the reverse) is an error. Any unreadable line or record
        raises `HashListError` naming it, and nothing is loaded.
        """
        loaded: list[LoadedBank] = []
        for paths, default_kind in ((bad, BankKind.KNOWN_BAD), (known_good, BankKind.KNOWN_GOOD)):
            for path in paths:
                loaded.extend(load_bank_path(Path(path), default_kind))
        return cls(_names_told_apart(loaded))

    def match(
        self,
        *,
        md5: str | None = None,
        sha1: str | None = None,
        sha256: str | None = None,
        pdq: str | None = None,
        pdq_quality: int | None = None,
        max_distance: int = MATCH_DISTANCE,
        min_quality: int = MIN_PDQ_QUALITY,
    ) -> list[Match]:
        """Every bank entry matching one file's hashes: exact digests at distance 0, PDQ within
        `max_distance`. A PDQ hash of quality below `min_quality` is not matched, nor a bank's
        PDQ entry whose recorded quality is below it. Hex is case-insensitive; a value of the
        wrong length or with non-hex characters raises ValueError."""
        matches: list[Match] = []
        exact_queries = [
            (kind, _query_hex(value, kind))
            for kind, value in (
                (HashKind.MD5, md5),
                (HashKind.SHA1, sha1),
                (HashKind.SHA256, sha256),
            )
            if value is not None
        ]
        pdq_hex = None
        if pdq is not None and (pdq_quality is None or pdq_quality >= min_quality):
            pdq_hex = _query_hex(pdq, HashKind.PDQ)
        for bank in self._banks:
            for kind, value in exact_queries:
                matches.extend(_exact_matches(bank, kind, value))
            if pdq_hex is not None:
                matches.extend(_pdq_matches(bank, pdq_hex, max_distance, min_quality))
        return matches

    def has_exact(self, kind: HashKind) -> bool:
        """Whether any loaded bank holds digests of this exact kind (MD5, SHA-1, SHA-256)."""
        return any(kind in segment.exact for bank in self._banks for segment in bank.segments)

    def match_pdq_batch(
        self,
        pdqs: Sequence[str],
        *,
        max_distance: int = MATCH_DISTANCE,
        min_quality: int = MIN_PDQ_QUALITY,
    ) -> list[list[Match]]:
        """PDQ matches for many hashes at once (much faster per hash than `match`)."""
        hexes = [_query_hex(value, HashKind.PDQ) for value in pdqs]
        return self.match_pdq_words(
            hex_to_words(hexes), max_distance=max_distance, min_quality=min_quality
        )

    def match_pdq_words(
        self,
        words: npt.NDArray[np.uint64],
        *,
        max_distance: int = MATCH_DISTANCE,
        min_quality: int = MIN_PDQ_QUALITY,
    ) -> list[list[Match]]:
        """`match_pdq_batch` for hashes already checked and turned into words (`hex_to_words`),
        as `bank lookup` has them: the check is not made twice."""
        results: list[list[Match]] = [[] for _ in range(words.shape[0])]
        for bank in self._banks:
            for segment in bank.segments:
                qpos, rows, distances = segment.pdq.search(words, max_distance)
                # The hex of every matched hash at once (bare hashes are reported by it).
                raw = np.take(segment.pdq.hashes, rows, axis=0).astype(">u8").tobytes()
                for i, (q, row, distance) in enumerate(
                    zip(qpos.tolist(), rows.tolist(), distances.tolist(), strict=True)
                ):
                    pdq_hex = raw[i * 32 : i * 32 + 32].hex()
                    match = _pdq_match(bank, segment, row, distance, min_quality, pdq_hex)
                    if match is not None:
                        results[q].append(match)
        for found in results:
            if len(found) > 1:  # nothing to sort or repeat in none or one
                found[:] = _unique(found)
        return results

    def video_frame_count(self, bank: str, video: str, *, min_quality: int) -> int:
        """Unique frame hashes (of at least `min_quality`) of one video in a bank; counted
        once per bank from its entry records, then cached."""
        key = (bank, min_quality)
        if key not in self._video_frames:
            from muhafiz.banks.formats.vpdq import video_of

            frames: dict[str, set[str]] = {}
            for loaded in self._banks:
                if loaded.info.name != bank:
                    continue
                for segment in loaded.segments:
                    for entry in segment.entries:
                        if entry.pdq is None:
                            continue
                        if entry.pdq_quality is not None and entry.pdq_quality < min_quality:
                            continue
                        frames.setdefault(video_of(entry), set()).add(entry.pdq)
                    if not len(segment.entries):
                        frames.setdefault("", set()).update(
                            words_to_hex(np.asarray(row)) for row in segment.pdq.hashes
                        )
            self._video_frames[key] = {name: len(hashes) for name, hashes in frames.items()}
        return self._video_frames[key].get(video, 0)


def load_bank_path(
    path: Path, default_kind: BankKind, *, check_kind: bool = True
) -> list[LoadedBank]:
    """A hash-list file becomes one bank; a bank directory (or a folder of them) its banks.

    With `check_kind`, a bank directory's own kind must agree with `default_kind` on whether it
    is known-good (known-bad and watch banks may both be given as "bad").
    """
    if path.is_dir():
        directories = bank_dirs_under(path)
        if not directories:
            raise HashListError(str(path), None, "directory holds no exported bank (manifest.json)")
        loaded = []
        for directory in directories:
            bank = open_bank_dir(directory)
            if check_kind:
                _check_kind(directory, bank.kind, default_kind)
            info = BankInfo(
                name=bank.name,
                kind=bank.kind,
                path=directory,
                sha256=bank.manifest_sha256,
                entries=bank.entry_count,
                format="muhafiz-bank",
            )
            loaded.append(LoadedBank(info, bank.segments))
        return loaded
    if not path.exists():
        raise HashListError(str(path), None, "no such file or directory")
    from muhafiz.banks.formats import detect_format, file_sha256  # only for hash-list files

    fmt = detect_format(path)
    sha256 = file_sha256(path)
    builder = SegmentBuilder(str(path))
    builder.add_source(fmt, path)
    segment = builder.build()
    info = BankInfo(
        name=path.name.split(".")[0] or path.name,
        kind=default_kind,
        path=path,
        sha256=sha256,
        entries=builder.entries,
        format=fmt.name,
    )
    return [LoadedBank(info, [segment])]


def _check_kind(path: Path, kind: BankKind, wanted: BankKind) -> None:
    if (kind is BankKind.KNOWN_GOOD) != (wanted is BankKind.KNOWN_GOOD):
        raise HashListError(
            str(path), None, f"bank is {kind.value} but was given as {wanted.value}"
        )


def _query_hex(value: str, kind: HashKind) -> str:
    text = value.strip()
    if not is_hex(text) or len(text) != HEX_LENGTHS[kind]:
        raise ValueError(f"{kind.value} must be {HEX_LENGTHS[kind]} hex characters: {value!r}")
    return text.lower()


def _exact_matches(bank: LoadedBank, kind: HashKind, value: str) -> list[Match]:
    sets = [(segment, segment.exact[kind]) for segment in bank.segments if kind in segment.exact]
    if not sets:  # a PDQ-only bank: no digest to make (a 64-hex line is also tried as SHA-256)
        return []
    digests = hex_to_digests([value], DIGEST_BYTES[kind])
    found: list[Match] = []
    for segment, exact in sets:
        _, positions = exact.lookup(digests)
        for position in positions.tolist():
            entry = None
            if exact.ids is not None:
                entry_id = int(exact.ids[position])
                if entry_id != NO_RECORD:
                    entry = segment.entries.get(entry_id)
            if entry is None:
                from muhafiz.banks.formats.base import single_hash_entry

                entry = single_hash_entry(kind, value, line=0)
            found.append(Match(bank.info.name, bank.info.kind, kind, 0, entry))
    return _unique(found)


def _pdq_matches(bank: LoadedBank, value: str, max_distance: int, min_quality: int) -> list[Match]:
    words = hex_to_words([value])
    found: list[Match] = []
    for segment in bank.segments:
        _, rows, distances = segment.pdq.search(words, max_distance)
        for row, distance in zip(rows.tolist(), distances.tolist(), strict=True):
            match = _pdq_match(bank, segment, row, distance, min_quality)
            if match is not None:
                found.append(match)
    return _unique(found)


def _pdq_match(  # noqa: PLR0917 - one match's every part, from its two callers
    bank: LoadedBank,
    segment: Segment,
    row: int,
    distance: int,
    min_quality: int,
    pdq_hex: str | None = None,
) -> Match | None:
    entry = None
    ids = segment.pdq.ids
    if ids is not None and int(ids[row]) != NO_RECORD:
        entry = segment.entries.get(int(ids[row]))
    if entry is None:
        if pdq_hex is None:
            pdq_hex = words_to_hex(np.asarray(segment.pdq.hashes[row]))
        entry = HashEntry(pdq=pdq_hex)
    if entry.pdq_quality is not None and entry.pdq_quality < min_quality:
        return None
    return Match(bank.info.name, bank.info.kind, HashKind.PDQ, int(distance), entry)


def _unique(matches: list[Match]) -> list[Match]:
    # The same bare hash can sit in two segments of one bank; report it once, nearest first.
    seen: set[tuple[str, HashKind, HashEntry]] = set()
    out: list[Match] = []
    for match in sorted(matches, key=lambda m: m.distance):
        key = (match.bank, match.kind, match.entry)
        if key not in seen:
            seen.add(key)
            out.append(match)
    return out
