"""One pass over a disk image's media: its acquisition hashes and the files laid out in it.

The media is read once, from end to end. A reader thread reads (and, for EWF, inflates) it in
blocks; a second thread feeds every block to the acquisition hashes (MD5, SHA-1); the calling
thread hands each block's pieces to the files that lie there, in media order (`SweptFile`:
allocated files whose bytes are in order in the media), whose sinks hash, identify and analyse
them exactly as a read of the file alone would. hashlib and zlib release the GIL on large
buffers, so the threads share the cores instead of taking turns.

Before this, the media was read twice: once to verify the acquisition hashes and once more, file
by file, through The Sleuth Kit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Protocol

from muhafiz.triage.sources.base import ContentSink, SweptFile

BLOCK_BYTES = 4 * 1024 * 1024
QUEUED_BLOCKS = 4  # per queue: memory stays within a few blocks whatever the media's size
_POLL_SECONDS = 0.1


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...


@dataclass
class SweepResult:
    size: int = 0  # bytes of media read
    error: OSError | None = None  # the read that ended the pass early
    unfinished: list[SweptFile] = field(default_factory=list)  # to be read alone


def _put(q: queue.Queue[Any], item: object, stop: threading.Event) -> bool:
    while not stop.is_set():
        try:
            q.put(item, timeout=_POLL_SECONDS)
        except queue.Full:
            continue
        return True
    return False


def sweep(
    stream: BinaryIO,
    hashers: list[Hasher],
    files: list[SweptFile],
    open_sink: Callable[[SweptFile], ContentSink],
    done: Callable[[SweptFile, ContentSink], None],
) -> SweepResult:
    """Read `stream` to its end once: every block goes to `hashers` and to the files in it.

    `open_sink` gives a file's sink when its first byte comes by; `done(file, sink)` is called
    when its last byte has been written (the caller closes the sink). A file whose sink could not
    be opened or closed, or that the pass did not reach the end of, is in `unfinished`.
    """
    result = SweepResult()
    stop = threading.Event()
    blocks: queue.Queue[bytes | OSError | None] = queue.Queue(QUEUED_BLOCKS)
    to_hash: queue.Queue[bytes | None] = queue.Queue(QUEUED_BLOCKS)

    def read() -> None:
        try:
            while not stop.is_set():
                data = stream.read(BLOCK_BYTES)
                if not data:
                    break
                if not _put(blocks, data, stop):
                    return
        except OSError as exc:
            _put(blocks, exc, stop)
            return
        _put(blocks, None, stop)

    def digest() -> None:
        while (data := to_hash.get()) is not None:
            for hasher in hashers:
                hasher.update(data)

    reader = threading.Thread(target=read, name="media-read", daemon=True)
    digester = threading.Thread(target=digest, name="media-hash", daemon=True)
    reader.start()
    digester.start()
    dispatcher = _Dispatcher(files, open_sink, done)
    try:
        while True:
            item = blocks.get()
            if item is None:
                break
            if isinstance(item, OSError):
                result.error = item
                break
            to_hash.put(item)
            dispatcher.feed(result.size, item)
            result.size += len(item)
    finally:
        stop.set()
        to_hash.put(None)
        digester.join()
        reader.join()
    result.unfinished = dispatcher.unfinished()
    return result


class _Dispatcher:
    """Hands each block's pieces to the files lying there, in media order."""

    def __init__(
        self,
        files: list[SweptFile],
        open_sink: Callable[[SweptFile], ContentSink],
        done: Callable[[SweptFile, ContentSink], None],
    ) -> None:
        self.files = files
        self.open_sink = open_sink
        self.done = done
        # Files do not share bytes, and each file's pieces are in media order: sorting all
        # pieces by where they start keeps every file's pieces in its own order.
        self.pieces = sorted(
            (start, start + length, i) for i, f in enumerate(files) for start, length in f.extents
        )
        self.next_piece = 0
        self.active: list[tuple[int, int, int]] = []
        self.left = [len(f.extents) for f in files]
        self.sinks: dict[int, ContentSink] = {}
        self.failed: set[int] = set()
        self.finished: set[int] = set()

    def feed(self, offset: int, data: bytes) -> None:
        end = offset + len(data)
        view = memoryview(data)
        while self.next_piece < len(self.pieces) and self.pieces[self.next_piece][0] < end:
            self.active.append(self.pieces[self.next_piece])
            self.next_piece += 1
        still: list[tuple[int, int, int]] = []
        for piece in self.active:
            start, stop, i = piece
            low, high = max(start, offset), min(stop, end)
            if high > low and i not in self.failed:
                sink = self._sink(i)
                if sink is not None and sink.wants_more:
                    sink.write(view[low - offset : high - offset])
            if stop > end:
                still.append(piece)
                continue
            self.left[i] -= 1
            if not self.left[i] and i not in self.failed:
                self._finish(i)
        self.active = still

    def _sink(self, i: int) -> ContentSink | None:
        sink = self.sinks.get(i)
        if sink is None:
            try:
                sink = self.open_sink(self.files[i])
            except Exception:  # the file's entry cannot be read now: it is read alone instead
                self.failed.add(i)
                return None
            self.sinks[i] = sink
        return sink

    def _finish(self, i: int) -> None:
        sink = self.sinks.pop(i, None)
        if sink is None:
            return
        try:
            self.done(self.files[i], sink)
        except Exception:  # a bug must cost one file's pass, not the image's: read it alone
            self.failed.add(i)
            return
        self.finished.add(i)

    def unfinished(self) -> list[SweptFile]:
        return [f for i, f in enumerate(self.files) if i not in self.finished]
