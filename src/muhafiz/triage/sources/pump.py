"""Moving bytes from a pull stream into a sink through one reused buffer."""

from __future__ import annotations

from typing import IO

from muhafiz.triage.sources.base import ContentSink

CHUNK_BYTES = 1024 * 1024


def pump(stream: IO[bytes], sink: ContentSink, buffer: bytearray | None = None) -> None:
    """Copy `stream` into `sink` until the end or until the sink wants no more."""
    buf = buffer if buffer is not None else bytearray(CHUNK_BYTES)
    view = memoryview(buf)
    readinto = getattr(stream, "readinto", None)
    while sink.wants_more:
        if readinto is not None:
            n = readinto(view)
            if not n:
                return
            sink.write(view[:n])
        else:
            data = stream.read(len(buf))
            if not data:
                return
            sink.write(data)
