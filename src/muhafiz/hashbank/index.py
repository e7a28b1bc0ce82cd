"""The server's shared match index: the banks library's on-disk bank directories, one per
enabled bank, built from the database into DATA_DIR and memory-mapped by every process.

    DATA_DIR/hashbank/index/current.json     which generation is live, and what it covers
    DATA_DIR/hashbank/index/gen-<stamp>/bank-<id>/   an exported bank directory (bare hashes)

A build writes a whole new generation beside the live one and then swaps `current.json`
atomically; each process notices the swap on its next lookup and maps the new files. Entries
added after the generation was built (id above `max_entry_id`) and banks enabled since (not in
`banks`) are matched from the database instead (see `matching.py`) until the next build, so
new entries are matchable at once. The index holds hashes only: what an entry says (category,
series, flags) and whether it is still active are read from the database for each hit.
"""

from __future__ import annotations

import datetime as dt
import fcntl
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
from django.db.models import Count, Max, Q

from muhafiz.banks.bankdir import create_bank_dir
from muhafiz.banks.match import Matcher, load_bank_path
from muhafiz.banks.model import BankKind, HashEntry
from muhafiz.hashbank.models import Bank, BankEntry

logger = logging.getLogger(__name__)

CURRENT = "current.json"
# PDQ hashes of lower quality say little about an image (formats.md): never indexed.
MIN_PDQ_QUALITY = 50
# Generations kept besides the live one, for processes still mapping an older one.
KEEP_OLD_GENERATIONS = 1


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
    )


@dataclass
class BuildResult:
    generation: str
    max_entry_id: int
    banks: int
    entries: int


def banks_fingerprint() -> dict[str, Any]:
    """What the index depends on: newest entry, removals, enabled banks (cheap to compute)."""
    totals = BankEntry.objects.aggregate(
        top=Max("pk"), removed=Count("pk", filter=Q(removed_at__isnull=False))
    )
    return {
        "max_entry_id": int(totals["top"] or 0),
        "removed": int(totals["removed"] or 0),
        "enabled_banks": sorted(Bank.objects.filter(enabled=True).values_list("pk", flat=True)),
    }


def build_index() -> BuildResult:
    """Build a new generation from the enabled banks' active entries and make it live.

    Builds are serialised by a file lock; a build waits for one already running and then
    builds again, so the last change before it is always covered.
    """
    result = _locked_build(only_if_changed=False)
    assert result is not None
    return result


def build_index_if_changed() -> BuildResult | None:
    """The background job's build: nothing when the banks are as the live generation saw
    them, so a burst of imports costs one or two builds, not one each."""
    return _locked_build(only_if_changed=True)


def _locked_build(*, only_if_changed: bool) -> BuildResult | None:
    root = index_root()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            fingerprint = banks_fingerprint()
            if only_if_changed and _live_fingerprint(root) == fingerprint:
                return None
            return _build(root, fingerprint)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _live_fingerprint(root: Path) -> dict[str, Any] | None:
    try:
        current = json.loads((root / CURRENT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fingerprint = current.get("fingerprint")
    return fingerprint if isinstance(fingerprint, dict) else None


def _build(root: Path, fingerprint: dict[str, Any]) -> BuildResult:
    max_entry_id = int(fingerprint["max_entry_id"])
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    generation = f"gen-{stamp}-{secrets.token_hex(3)}"
    building = root / f".{generation}.tmp"
    building.mkdir()
    banks: dict[str, int] = {}
    total = 0
    try:
        for bank in Bank.objects.filter(enabled=True).order_by("pk"):
            built = create_bank_dir(
                building / f"bank-{bank.pk}",
                name=bank.name,
                kind=bank.bank_kind,
                entries=_bare_hashes(bank, max_entry_id),
                details={"bank_id": bank.pk},
            )
            banks[bank.name] = bank.pk
            total += built.entry_count
        building.rename(root / generation)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    built_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    _write_current(
        root,
        {
            "generation": generation,
            "built_at": built_at,
            "max_entry_id": max_entry_id,
            "banks": banks,
            "counts": {"entries": total},
            "fingerprint": fingerprint,
        },
    )
    _remove_old_generations(root, generation)
    logger.info("hash-bank index %s built: %d banks, %d entries", generation, len(banks), total)
    return BuildResult(generation, max_entry_id, len(banks), total)


def _bare_hashes(bank: Bank, max_entry_id: int) -> Iterator[HashEntry]:
    rows = (
        BankEntry.objects.active()
        .filter(bank=bank, pk__lte=max_entry_id)
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
