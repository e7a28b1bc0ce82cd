"""The server's shared match index: the banks library's on-disk bank directories, one per
enabled bank, built from the database into DATA_DIR and memory-mapped by every process.

    DATA_DIR/hashbank/index/current.json     which generation is live, and what it covers
    DATA_DIR/hashbank/index/gen-<stamp>/bank-<id>/   an exported bank directory (bare hashes)

A build writes a new generation beside the live one and then swaps `current.json` atomically;
each process notices the swap on its next lookup and maps the new files. A bank that only
gained entries is carried into the new generation by hard links to its immutable segments plus
one delta segment (the library's `append_to_bank_dir`), so a small import never rebuilds an
NSRL-size bank; removals, or too many segments, rebuild that bank. Entries
added after the generation was built (id above `max_entry_id`) and banks enabled since (not in
`banks`) are matched from the database instead (see `matching.py`) until the next build, so
new entries are matchable at once. The index holds hashes only: what an entry says (category,
series, flags) and whether it is still active are read from the database for each hit.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import itertools
import json
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Min

from muhafiz.banks.bankdir import (
    BankDirectory,
    append_to_bank_dir,
    create_bank_dir,
    open_bank_dir,
    read_manifest,
)
from muhafiz.banks.index.pdq import MIN_PDQ_QUALITY
from muhafiz.banks.match import Matcher, load_bank_path
from muhafiz.banks.model import BankKind, HashEntry, HashListError
from muhafiz.hashbank.models import Bank, BankEntry, ImportStatus

logger = logging.getLogger(__name__)

CURRENT = "current.json"
# PDQ hashes of lower quality say little about an image (formats.md): never indexed.
# Generations kept besides the live one, for processes still mapping an older one.
KEEP_OLD_GENERATIONS = 1
# A carried-over bank with this many segments is rebuilt as one (searching fewer is faster).
MAX_SEGMENTS = 8


def index_root() -> Path:
    return Path(settings.DATA_DIR) / "hashbank" / "index"


@dataclass
class LoadedIndex:
    """One generation of the index, mapped into this process."""

    generation: str
    built_at: str
    max_entry_id: int
    bank_ids: dict[str, int]  # bank name in the index -> Bank.pk
    matcher: Matcher
    counts: dict[str, int] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)  # Bank.pk -> its creation time

    @property
    def indexed_bank_ids(self) -> set[int]:
        return set(self.bank_ids.values())


class IndexState:
    """This process's view of the live generation, reloaded when `current.json` changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._loaded: LoadedIndex | None = None

    def get(self) -> LoadedIndex | None:
        path = index_root() / CURRENT
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        stamp = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._loaded = _load(path)
                self._stamp = stamp
            return self._loaded

    def forget(self) -> None:
        with self._lock:
            self._stamp = None
            self._loaded = None


_state = IndexState()


def current_index() -> LoadedIndex | None:
    """The live index generation, or None when none has been built yet."""
    return _state.get()


def forget_loaded_index() -> None:
    """Drop this process's mapped index (tests; a changed DATA_DIR)."""
    _state.forget()


def _load(current_path: Path) -> LoadedIndex | None:
    try:
        current = json.loads(current_path.read_text(encoding="utf-8"))
        directory = current_path.parent / current["generation"]
        banks = (
            load_bank_path(directory, BankKind.KNOWN_BAD, check_kind=False)
            if any(directory.iterdir())
            else []
        )
    except (OSError, ValueError, KeyError) as exc:
        # A damaged index must not stop matching: the database fallback still answers.
        logger.error("hash-bank index at %s cannot be loaded: %s", current_path.parent, exc)
        return None
    return LoadedIndex(
        generation=str(current["generation"]),
        built_at=str(current.get("built_at", "")),
        max_entry_id=int(current["max_entry_id"]),
        bank_ids={str(name): int(pk) for name, pk in current["banks"].items()},
        matcher=Matcher(banks),
        counts={str(k): int(v) for k, v in current.get("counts", {}).items()},
        created={
            str(k): str(v) for k, v in current.get("fingerprint", {}).get("created", {}).items()
        },
    )


@dataclass
class BuildResult:
    generation: str
    max_entry_id: int
    banks: int
    entries: int
    rebuilt: list[str] = field(default_factory=list)  # banks built from scratch
    extended: list[str] = field(default_factory=list)  # banks carried over plus a delta


def banks_fingerprint() -> dict[str, Any]:
    """What the index depends on: newest entry, removals per bank, enabled banks.

    Taken while holding a lock on every bank row, which every import holds on its bank for its
    whole transaction: no import is in flight, so every entry id up to `max_entry_id` is
    committed and every later entry gets a larger id. A long import's rows, moved in before it
    completes, are not seen yet: `max_entry_id` stops below the first of them, so the build
    after the import completes takes them in.
    """
    with transaction.atomic():
        list(Bank.objects.select_for_update().order_by("pk").values_list("pk", flat=True))
        top = BankEntry.objects.aggregate(top=Max("pk"))["top"]
        unfinished = BankEntry.objects.filter(added_by__status=ImportStatus.RUNNING).aggregate(
            low=Min("pk")
        )["low"]
        if top is not None and unfinished is not None:
            top = min(top, unfinished - 1)
        removed = dict(
            BankEntry.objects.filter(removed_at__isnull=False)
            .order_by()
            .values_list("bank_id")
            .annotate(n=Count("pk"))
            .values_list("bank_id", "n")
        )
        created = dict(Bank.objects.filter(enabled=True).values_list("pk", "created_at"))
    return {
        "max_entry_id": int(top or 0),
        "removed": {str(pk): int(n) for pk, n in sorted(removed.items())},
        "enabled_banks": sorted(created),
        "created": {str(pk): _instant(at) for pk, at in sorted(created.items())},
    }


def _instant(at: dt.datetime) -> str:
    return at.isoformat(timespec="microseconds")


def index_for_this_database(index: LoadedIndex | None) -> LoadedIndex | None:
    """`index`, or None when it was built from another database than the one in use.

    The index lives in DATA_DIR and the banks in the database: a database made anew beside an
    old data directory (the demo's SQLite file removed, a test database rolled back) gives its
    banks and entries the ids the index already covers, and an entry the index does not hold
    would be taken as held and never matched. Each bank's creation time tells the two apart: a
    bank with an indexed id but another creation time is another bank, and the whole index is
    set aside (matching reads the database) until the next build, which the fingerprint's
    creation times force.
    """
    if index is None or not index.created:
        return index  # an index from before creation times were kept: trusted, as it was
    current = Bank.objects.filter(pk__in=index.indexed_bank_ids).values_list("pk", "created_at")
    for pk, at in current:
        if index.created.get(str(pk), _instant(at)) != _instant(at):
            logger.warning(
                "hash-bank index %s was built from another database (bank id %s differs): "
                "matching reads the database until the index is rebuilt",
                index.generation,
                pk,
            )
            return None
    return index


def build_index(*, full: bool = False) -> BuildResult:
    """Build a new generation from the enabled banks' active entries and make it live.

    A bank whose entries were only added to since the live generation is carried over (hard
    links to its immutable segments) plus one delta segment of its new entries; a bank with
    removals since, too many segments, or not in the live generation is built from scratch,
    as is every bank with `full`. Builds are serialised by a file lock; a build waits for one
    already running and then builds again, so the last change before it is always covered.
    """
    result = _locked_build(only_if_changed=False, full=full)
    assert result is not None
    return result


def build_index_if_changed() -> BuildResult | None:
    """The background job's build: nothing when the banks are as the live generation saw
    them, so a burst of imports costs one or two builds, not one each."""
    return _locked_build(only_if_changed=True, full=False)


def _locked_build(*, only_if_changed: bool, full: bool) -> BuildResult | None:
    root = index_root()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            # Holding the lock, any half-built generation is a crashed build's leftover.
            for stale in root.glob(".gen-*.tmp"):
                shutil.rmtree(stale, ignore_errors=True)
            fingerprint = banks_fingerprint()
            live = None if full else _live(root)
            if only_if_changed and live is not None and live.get("fingerprint") == fingerprint:
                return None
            return _build(root, fingerprint, live)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _live(root: Path) -> dict[str, Any] | None:
    try:
        current = json.loads((root / CURRENT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(current, dict) or not isinstance(current.get("fingerprint"), dict):
        return None
    if not isinstance(current["fingerprint"].get("created"), dict):
        return None  # written by an older build: rebuild everything
    if not (root / str(current.get("generation"))).is_dir():
        return None
    return current


def _build(root: Path, fingerprint: dict[str, Any], live: dict[str, Any] | None) -> BuildResult:
    max_entry_id = int(fingerprint["max_entry_id"])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    generation = f"gen-{stamp}-{secrets.token_hex(3)}"
    building = root / f".{generation}.tmp"
    building.mkdir()
    result = BuildResult(generation, max_entry_id, 0, 0)
    banks: dict[str, int] = {}
    try:
        for bank in Bank.objects.filter(enabled=True).order_by("pk"):
            target = building / f"bank-{bank.pk}"
            previous = _reusable(root, live, fingerprint, bank)
            if previous is not None and live is not None:
                built = _extend(previous, target, bank, int(live["max_entry_id"]), max_entry_id)
                result.extended.append(bank.name)
            else:
                built = create_bank_dir(
                    target,
                    name=bank.name,
                    kind=bank.bank_kind,
                    entries=_bare_hashes(bank, 0, max_entry_id),
                    details={"bank_id": bank.pk},
                )
                result.rebuilt.append(bank.name)
            banks[bank.name] = bank.pk
            result.entries += built.entry_count
        building.rename(root / generation)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    result.banks = len(banks)
    built_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    _write_current(
        root,
        {
            "generation": generation,
            "built_at": built_at,
            "max_entry_id": max_entry_id,
            "banks": banks,
            "counts": {"entries": result.entries},
            "fingerprint": fingerprint,
        },
    )
    _remove_old_generations(root, generation)
    logger.info(
        "hash-bank index %s built: %d banks (%d rebuilt, %d extended), %d entries",
        generation,
        result.banks,
        len(result.rebuilt),
        len(result.extended),
        result.entries,
    )
    return result


def _reusable(
    root: Path, live: dict[str, Any] | None, fingerprint: dict[str, Any], bank: Bank
) -> Path | None:
    """The live generation's directory of `bank`, if it can be carried over and extended."""
    if live is None or live.get("banks", {}).get(bank.name) != bank.pk:
        return None
    key = str(bank.pk)
    if live["fingerprint"]["created"].get(key) != fingerprint["created"].get(key):
        return None  # another bank under the same id (a database made anew)
    if live["fingerprint"].get("removed", {}).get(key, 0) != fingerprint["removed"].get(key, 0):
        return None  # removals since: rebuild, so removed hashes leave the index
    directory = root / str(live["generation"]) / f"bank-{bank.pk}"
    try:
        manifest, _ = read_manifest(directory)
    except HashListError:
        return None
    if len(manifest["segments"]) >= MAX_SEGMENTS or manifest["name"] != bank.name:
        return None
    return directory


def _extend(previous: Path, target: Path, bank: Bank, after: int, upto: int) -> BankDirectory:
    """Carry `previous` over by hard links (segments are immutable), then append a delta."""
    for source in previous.rglob("*"):
        destination = target / source.relative_to(previous)
        if source.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
        else:
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(source, destination)
            except OSError:  # a file system without hard links: copy instead
                shutil.copy2(source, destination)
    delta = _bare_hashes(bank, after, upto)
    first = next(delta, None)
    if first is None:
        return open_bank_dir(target)
    return append_to_bank_dir(
        target, itertools.chain([first], delta), provenance={"entries_after": after, "upto": upto}
    )


def _bare_hashes(bank: Bank, after: int, upto: int) -> Iterator[HashEntry]:
    rows = (
        BankEntry.objects.active()
        .filter(bank=bank, pk__gt=after, pk__lte=upto)
        .order_by()
        .values_list("md5", "sha1", "sha256", "pdq", "pdq_quality")
        .iterator(chunk_size=20_000)
    )
    for md5, sha1, sha256, stored_pdq, quality in rows:
        low_quality = quality is not None and quality < MIN_PDQ_QUALITY
        pdq = None if low_quality else stored_pdq
        if md5 or sha1 or sha256 or pdq:
            yield HashEntry(md5=md5, sha1=sha1, sha256=sha256, pdq=pdq)


def _write_current(root: Path, data: dict[str, Any]) -> None:
    temporary = root / (CURRENT + ".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        json.dump(data, out, indent=1)
        out.flush()
        os.fsync(out.fileno())
    temporary.replace(root / CURRENT)


def _remove_old_generations(root: Path, live: str) -> None:
    old = sorted(
        (p for p in root.iterdir() if p.is_dir() and p.name.startswith("gen-") and p.name != live),
        key=lambda p: p.stat().st_mtime,
    )
    for path in old[: max(0, len(old) - KEEP_OLD_GENERATIONS)]:
        shutil.rmtree(path, ignore_errors=True)
