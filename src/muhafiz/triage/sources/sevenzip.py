"""7z archives through py7zr, with members pushed into sinks as they are decompressed."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from muhafiz.triage.sources.base import (
    ArchiveFormat,
    ArchivePasswordError,
    ContentSink,
    MemberInfo,
    MemberVisitor,
)

if TYPE_CHECKING:
    import py7zr


class SevenZipFormat(ArchiveFormat):
    name: ClassVar[str] = "7z"
    needs_seek: ClassVar[bool] = True

    def read(self, stream: BinaryIO, visitor: MemberVisitor) -> None:
        import py7zr  # imported on first use: it costs a quarter second at start-up
        import py7zr.helpers

        try:
            archive = py7zr.SevenZipFile(stream, mode="r")
        except py7zr.PasswordRequired as exc:
            raise ArchivePasswordError("7z directory is encrypted; member names unknown") from exc
        with archive:
            infos = archive.list()
            if archive.needs_password():
                for info in infos:
                    visitor.member(_member_info(info, encrypted=True))
                raise ArchivePasswordError("7z content is encrypted")
            factory = _sink_factory(visitor)
            for info in infos:
                member = _member_info(info, encrypted=False)
                try:
                    key = py7zr.helpers.get_sanitized_output_path(info.filename, None).as_posix()
                except py7zr.Bad7zFile:
                    key = None  # py7zr refuses to read `../` names; list the member only
                if member.kind == "file" and key is not None:
                    factory.pending[key] = member
                else:
                    sink = visitor.member(member)
                    if sink is not None:
                        sink.fail(
                            "unsafe-member-name", "content not read: 7z reader refuses the name"
                        )
                        sink.close()
            if factory.pending:
                archive.extract(targets=[i.filename for i in infos if _safe(i)], factory=factory)
            # Empty members have no stream and never reach the factory.
            for member in factory.pending.values():
                sink = visitor.member(member)
                if sink is not None:
                    sink.close()


def _safe(info: Any) -> bool:
    import py7zr.helpers

    try:
        py7zr.helpers.get_sanitized_output_path(info.filename, None)
    except py7zr.Bad7zFile:
        return False
    return not info.is_directory


def _member_info(info: Any, *, encrypted: bool) -> MemberInfo:
    kind = "dir" if info.is_directory else "symlink" if info.is_symlink else "file"
    mtime = info.creationtime
    if isinstance(mtime, dt.datetime) and mtime.tzinfo is None:
        mtime = mtime.replace(tzinfo=dt.UTC)  # 7z stores FILETIME, which is UTC
    return MemberInfo(
        name=info.filename,
        kind=kind,
        size=info.uncompressed if kind == "file" else None,
        mtime=mtime if isinstance(mtime, dt.datetime) else None,
        time_zone="UTC" if isinstance(mtime, dt.datetime) else None,
        encrypted=encrypted,
    )


def _sink_factory(visitor: MemberVisitor) -> Any:
    """A py7zr WriterFactory whose writers push each member's bytes into our sinks."""
    import py7zr.io

    class SinkWriter(py7zr.io.Py7zIO):
        def __init__(self, sink: ContentSink | None) -> None:
            self._sink = sink
            self._size = 0

        def write(self, s: bytes | bytearray) -> int:
            if self._sink is not None and self._sink.wants_more:
                self._sink.write(s)
            self._size += len(s)
            return len(s)

        def read(self, size: int | None = None) -> bytes:
            return b""

        def seek(self, offset: int, whence: int = 0) -> int:
            return 0

        def flush(self) -> None:
            return None

        def size(self) -> int:
            return self._size

        def close(self) -> None:
            if self._sink is not None:
                sink, self._sink = self._sink, None
                sink.close()

    class SinkFactory(py7zr.io.WriterFactory):
        def __init__(self) -> None:
            self.pending: dict[str, MemberInfo] = {}

        def create(self, filename: str) -> py7zr.io.Py7zIO:
            member = self.pending.pop(filename, None)
            if member is None or visitor.stopped:
                return SinkWriter(None)
            return SinkWriter(visitor.member(member))

    return SinkFactory()
