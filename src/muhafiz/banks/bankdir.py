"""The exported bank directory: what the server writes and an offline laptop matches against.

    <bank>/manifest.json     name, kind, provenance, counts, segment list (see docs/banks/)
    <bank>/seg-000001/       one immutable segment: *.npy index files, entries.jsonl
    <bank>/seg-000002/       a later delta, matchable at once; `compact` merges segments

A directory whose subdirectories are bank directories is a collection of banks.
The manifest is replaced atomically (write, fsync, rename), so a reader sees either the old set
of segments or the new one, never a half-written bank.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from muhafiz.banks.model import BankKind, HashEntry, HashListError
from muhafiz.banks.segment import Segment, SegmentBuilder

try:
    # CPython's own SHA-256: hashlib would load OpenSSL first, ~2 ms of every `bank lookup`'s
    # start-up for one digest of the manifest (decision 0105). The same digest either way.
    from _sha256 import sha256
except ImportError:  # pragma: no cover - another Python (3.12 renamed the module _sha2)
    from hashlib import sha256

MANIFEST = "manifest.json"
FORMAT_NAME = "muhafiz-bank"
FORMAT_VERSION = 1


@dataclass
class BankDirectory:
    """A bank directory opened for matching: its manifest and its loaded segments."""

    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    segments: list[Segment]

    @property
    def name(self) -> str:
        return str(self.manifest["name"])

    @property
    def kind(self) -> BankKind:
        return BankKind(self.manifest["kind"])

    @property
    def entry_count(self) -> int:
        return int(self.manifest["counts"].get("entries", 0))


def is_bank_dir(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def bank_dirs_under(path: Path) -> list[Path]:
    """`path` itself if it is a bank directory, else its bank subdirectories (sorted)."""
    if is_bank_dir(path):
        return [path]
    return sorted(child for child in path.iterdir() if child.is_dir() and is_bank_dir(child))


def read_manifest(path: Path) -> tuple[dict[str, Any], str]:
    source = str(path / MANIFEST)
    try:
        raw = (path / MANIFEST).read_bytes()
        manifest = json.loads(raw)
    except (OSError, UnicodeDecodeError) as exc:
        raise HashListError(source, None, f"cannot read the bank manifest: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise HashListError(source, exc.lineno, f"malformed manifest JSON: {exc.msg}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise HashListError(source, None, f"not a Muhafiz bank manifest (format {FORMAT_NAME!r})")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise HashListError(
            source, None, f"bank format version {manifest.get('format_version')!r} not supported"
        )
    for key in ("name", "kind", "segments", "counts"):
        if key not in manifest:
            raise HashListError(source, None, f"manifest has no {key!r}")
    try:
        BankKind(manifest["kind"])
    except ValueError as exc:
        raise HashListError(source, None, f"unknown bank kind {manifest['kind']!r}") from exc
    return manifest, sha256(raw).hexdigest()


def open_bank_dir(path: Path) -> BankDirectory:
    manifest, digest = read_manifest(path)
    segments = []
    for name in manifest["segments"]:
        segment_path = path / name
        try:
            segments.append(Segment.load(segment_path))
        except (OSError, ValueError, KeyError) as exc:
            raise HashListError(str(segment_path), None, f"damaged bank segment: {exc}") from exc
    return BankDirectory(path, manifest, digest, segments)


def create_bank_dir(
    path: Path,
    *,
    name: str,
    kind: BankKind,
    entries: Iterable[HashEntry],
    provenance: dict[str, Any] | list[dict[str, Any]] | None = None,
    details: dict[str, Any] | None = None,
) -> BankDirectory:
    """Write a new bank directory from `entries` (all or nothing: nothing stays on error)."""
    _check_empty(path)
    path.mkdir(parents=True, exist_ok=True)
    try:
        segment = SegmentBuilder(str(path)).add_all(entries).build()
    except BaseException:
        _remove_tree(path)
        raise
    return create_bank_dir_from_segment(
        path, name=name, kind=kind, segment=segment, provenance=provenance, details=details
    )


def create_bank_dir_from_segment(
    path: Path,
    *,
    name: str,
    kind: BankKind,
    segment: Segment,
    provenance: dict[str, Any] | list[dict[str, Any]] | None = None,
    details: dict[str, Any] | None = None,
) -> BankDirectory:
    """Write a new bank directory holding one already built segment."""
    _check_empty(path)
    path.mkdir(parents=True, exist_ok=True)
    try:
        segment.save(path / _segment_name(1))
        manifest: dict[str, Any] = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "name": name,
            "kind": kind.value,
            "created_at": _now(),
            "updated_at": _now(),
            "details": details or {},
            "provenance": _provenance(provenance, segment),
            "segments": [_segment_name(1)],
            "counts": dict(segment.counts),
        }
        _write_manifest(path, manifest)
    except BaseException:
        _remove_tree(path)
        raise
    return open_bank_dir(path)


def _check_empty(path: Path) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise HashListError(str(path), None, "bank directory already exists and is not empty")


def append_to_bank_dir(
    path: Path,
    entries: Iterable[HashEntry],
    provenance: dict[str, Any] | list[dict[str, Any]] | None = None,
) -> BankDirectory:
    """Add entries as a new delta segment: matchable at once, no rebuild of what is there."""
    read_manifest(path)  # refuse a non-bank directory before reading any entries
    segment = SegmentBuilder(str(path)).add_all(entries).build()
    return append_segment_to_bank_dir(path, segment, provenance)


def append_segment_to_bank_dir(
    path: Path,
    segment: Segment,
    provenance: dict[str, Any] | list[dict[str, Any]] | None = None,
) -> BankDirectory:
    """Add an already built segment to the bank at `path` (atomically, via the manifest)."""
    manifest, _ = read_manifest(path)
    number = 1 + max((int(s.split("-")[1]) for s in manifest["segments"]), default=0)
    segment_path = path / _segment_name(number)
    try:
        segment.save(segment_path)
        manifest["segments"] = [*manifest["segments"], segment_path.name]
        manifest["provenance"] = [
            *manifest.get("provenance", []),
            *_provenance(provenance, segment),
        ]
        manifest["counts"] = _add_counts(manifest["counts"], segment.counts)
        manifest["updated_at"] = _now()
        _write_manifest(path, manifest)
    except BaseException:
        _remove_tree(segment_path)
        raise
    return open_bank_dir(path)


def compact_bank_dir(path: Path) -> BankDirectory:
    """Merge all segments into one (a full rebuild, done when convenient, e.g. in a worker)."""
    bank = open_bank_dir(path)
    if len(bank.segments) <= 1:
        return bank
    number = 1 + max(int(s.split("-")[1]) for s in bank.manifest["segments"])
    segment_path = path / _segment_name(number)
    builder = SegmentBuilder(str(path))
    for segment in bank.segments:
        builder.add_all(iter_segment_entries(segment))
    merged = builder.build()
    merged.save(segment_path)
    old = list(bank.manifest["segments"])
    manifest = dict(bank.manifest)
    manifest["segments"] = [segment_path.name]
    manifest["counts"] = dict(merged.counts)
    manifest["updated_at"] = _now()
    _write_manifest(path, manifest)
    for name in old:
        _remove_tree(path / name)
    return open_bank_dir(path)


def iter_segment_entries(segment: Segment) -> Iterable[HashEntry]:
    """Every entry of a segment: its records, then its bare hashes (as one-hash entries)."""
    from muhafiz.banks.formats.base import single_hash_entry
    from muhafiz.banks.index.pdq import words_to_hex
    from muhafiz.banks.segment import NO_RECORD

    yield from segment.entries
    has_records = len(segment.entries) > 0
    for kind, exact in segment.exact.items():
        for position in range(len(exact)):
            if has_records and exact.ids is not None and int(exact.ids[position]) != NO_RECORD:
                continue
            digest = exact.digest_at(position).hex()
            yield single_hash_entry(kind, digest, line=0)
    for row in range(len(segment.pdq)):
        ids = segment.pdq.ids
        if has_records and ids is not None and int(ids[row]) != NO_RECORD:
            continue
        yield HashEntry(pdq=words_to_hex(segment.pdq.hashes[row]))


def _segment_name(number: int) -> str:
    return f"seg-{number:06d}"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _provenance(
    given: dict[str, Any] | list[dict[str, Any]] | None, segment: Segment
) -> list[dict[str, Any]]:
    """Provenance records of one write; the segment's counts go on the last of them."""
    records = [dict(r) for r in (given if isinstance(given, list) else [given or {}])]
    for record in records:
        record.setdefault("recorded_at", _now())
    records[-1]["segment_counts"] = dict(segment.counts)
    return records


def imported_sources(path: Path) -> set[str]:
    """SHA-256 of every source file already in the bank (to make imports idempotent)."""
    manifest, _ = read_manifest(path)
    return {str(r["sha256"]) for r in manifest.get("provenance", []) if r.get("sha256")}


def _add_counts(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {key: int(a.get(key, 0)) + int(b.get(key, 0)) for key in sorted({*a, *b})}


def _write_manifest(path: Path, manifest: dict[str, Any]) -> None:
    temporary = path / (MANIFEST + ".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        json.dump(manifest, out, indent=2, ensure_ascii=False)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(path / MANIFEST)


def _remove_tree(path: Path) -> None:
    """Remove a half-written bank or segment. shutil loads here, in the commands that write:
    it imports the bz2 and lzma modules, start-up a lookup does not need (decision 0105)."""
    import shutil

    shutil.rmtree(path, ignore_errors=True)
