"""The standing cross-case PDQ index: every case's media PDQ hashes in `banks.index` segments on
this machine's disk, extended as scans are imported, so that linking a new scan costs per new
image instead of a pass over every stored image.

Layout (`DATA_DIR/evidence/media-index/`): `current.json` names the live segments and `upto`, the
highest `MediaFile` id they cover; each segment is a directory with a `PdqIndex` (`pdq.*.npy`) and
the media ids of its rows (`media.npy`). A search looks the new hashes up in every segment and
streams only the rows above `upto` from the database (those imported since the last extension),
so a stale or missing index is slower, never wrong. Candidates are re-read from the database
(quality, known-good, case) before they become links. `extend_media_index` (after each analysis,
under a file lock) adds the rows above `upto` as a new segment and merges segments once there are
more than `MAX_SEGMENTS`; every process maps the live segments read-only and reloads when
`current.json` changes. Each machine keeps its own index (FAISS-style memory maps want local
files); the database stays the truth.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db.models import QuerySet

from muhafiz.banks.index.pdq import MIN_PDQ_QUALITY, U64, MihLayout, PdqIndex, hex_to_words
from muhafiz.evidence.models import MediaFile

CURRENT = "current.json"
MAX_SEGMENTS = 8
MIH_FROM = 4096
READ_BATCH = 100_000
I64 = npt.NDArray[np.int64]


def index_root() -> Path:
    return Path(settings.MUHAFIZ_MEDIA_INDEX_DIR)


def indexable() -> QuerySet[MediaFile]:
    """The media rows the index holds: a usable PDQ hash, not known-good."""
    return (
        MediaFile.objects.filter(pdq_quality__gte=MIN_PDQ_QUALITY, known_good=False)
        .exclude(pdq="")
        .order_by("pk")
    )


@dataclass(frozen=True)
class LoadedSegment:
    index: PdqIndex
    media_ids: I64


@dataclass(frozen=True)
class MediaIndex:
    """The live segments mapped into this process, covering media ids up to `upto`."""

    upto: int
    segments: tuple[LoadedSegment, ...]

    @property
    def size(self) -> int:
        return sum(len(segment.media_ids) for segment in self.segments)

    def search(self, queries: U64, max_distance: int) -> Iterator[tuple[int, int, int]]:
        """(query position, media id, distance) for every indexed hash within the distance."""
        for segment in self.segments:
            positions, rows, distances = segment.index.search(queries, max_distance)
            media = segment.media_ids[rows]
            yield from zip(positions.tolist(), media.tolist(), distances.tolist(), strict=True)


EMPTY = MediaIndex(upto=0, segments=())


class _State:
    """This process's view of the live index, reloaded when `current.json` changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[str, int, int, int] | None = None
        self._loaded = EMPTY

    def get(self) -> MediaIndex:
        path = index_root() / CURRENT
        try:
            stat = path.stat()
        except FileNotFoundError:
            return EMPTY
        stamp = (str(path), stat.st_ino, stat.st_mtime_ns, stat.st_size)
        with self._lock:
            if stamp != self._stamp:
                self._loaded = _load(path)
                self._stamp = stamp
            return self._loaded


_state = _State()


def current_media_index() -> MediaIndex:
    """The live index (empty when none was built: every row then comes from the database)."""
    return _state.get()


def _load(path: Path) -> MediaIndex:
    try:
        current = json.loads(path.read_text(encoding="utf-8"))
        segments = tuple(
            LoadedSegment(
                PdqIndex.load(path.parent / name),
                np.asarray(np.load(path.parent / name / "media.npy", mmap_mode="r")),
            )
            for name in current["segments"]
        )
        return MediaIndex(upto=int(current["upto"]), segments=segments)
    except (OSError, ValueError, KeyError):
        return EMPTY  # a damaged index is rebuilt by the next extension; the database answers


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with (root / "extend.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def rows_after(upto: int) -> Iterator[list[tuple[int, str]]]:
    """(media id, pdq) of indexable rows above `upto`, in batches, by id."""
    last = upto
    while True:
        batch = list(indexable().filter(pk__gt=last).values_list("pk", "pdq")[:READ_BATCH])
        if not batch:
            return
        yield batch
        last = batch[-1][0]


def extend_media_index() -> MediaIndex:
    """Add the rows imported since the last extension as a segment; merge when there are many.

    Safe to call from any number of processes on one machine (a file lock serialises them);
    returns the live index afterwards."""
    root = index_root()
    with _locked(root):
        live_upto, live_names = _read_current(root)
        upto = live_upto
        names = list(live_names)
        hashes: list[U64] = []
        media: list[I64] = []
        for batch in rows_after(upto):
            hashes.append(hex_to_words([pdq for _pk, pdq in batch]))
            media.append(np.fromiter((pk for pk, _pdq in batch), dtype=np.int64))
            upto = batch[-1][0]
        if hashes:
            names.append(_write_segment(root, np.concatenate(hashes), np.concatenate(media)))
        if len(names) > MAX_SEGMENTS:
            names = [_merge(root, names)]
        if hashes or names != live_names:
            _write_current(root, {"upto": upto, "segments": names})
            _remove_unused(root, set(names))
    return current_media_index()


def _read_current(root: Path) -> tuple[int, list[str]]:
    """The live high-water mark and segment names; nothing when missing or damaged (the next
    extension then starts again from the database)."""
    try:
        data = json.loads((root / CURRENT).read_text(encoding="utf-8"))
        upto, names = int(data["upto"]), [str(name) for name in data["segments"]]
    except (OSError, ValueError, KeyError, TypeError):
        return 0, []
    if not all((root / name / "media.npy").exists() for name in names):
        return 0, []
    return upto, names


def _write_segment(root: Path, hashes: U64, media: I64) -> str:
    name = f"segment-{uuid.uuid4().hex[:12]}"
    temp = root / f".{name}.tmp"
    temp.mkdir(parents=True)
    # Multi-index hashing from a few thousand rows up (below, brute force is cheaper), with the
    # layout chosen for this segment's size.
    layout = MihLayout.for_size(len(hashes)) if len(hashes) >= MIH_FROM else None
    PdqIndex.build(np.ascontiguousarray(hashes), layout=layout).save(temp, "pdq")
    np.save(temp / "media.npy", media)
    temp.rename(root / name)
    return name


def _merge(root: Path, names: list[str]) -> str:
    hashes = np.concatenate([np.load(root / name / "pdq.hashes.npy") for name in names])
    media = np.concatenate([np.load(root / name / "media.npy") for name in names])
    return _write_segment(root, hashes, media)


def _write_current(root: Path, data: dict[str, object]) -> None:
    temp = root / f".{CURRENT}.{os.getpid()}.tmp"
    temp.write_text(json.dumps(data), encoding="utf-8")
    temp.replace(root / CURRENT)


def _remove_unused(root: Path, live: set[str]) -> None:
    """Segments no longer named; a process still mapping one keeps its pages (POSIX unlink)."""
    for path in root.glob("segment-*"):
        if path.name not in live:
            shutil.rmtree(path, ignore_errors=True)
