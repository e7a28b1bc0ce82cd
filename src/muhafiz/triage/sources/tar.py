"""tar archives, plain or compressed with gzip, bzip2 or xz, read strictly as a stream."""

from __future__ import annotations

import datetime as dt
import tarfile
from typing import BinaryIO, ClassVar

from muhafiz.triage.sources.base import ArchiveFormat, MemberInfo, MemberVisitor
from muhafiz.triage.sources.pump import pump


class NotATarError(Exception):
    """A compressed stream whose content is not a tar archive (e.g. a lone `.gz` file)."""


class TarFormat(ArchiveFormat):
    name: ClassVar[str] = "tar"
    needs_seek: ClassVar[bool] = False

    def read(self, stream: BinaryIO, visitor: MemberVisitor) -> None:
        # "r|*": sequential stream mode, so nested tars need neither seeking nor memory.
        try:
            archive = tarfile.open(fileobj=stream, mode="r|*", errors="surrogateescape")  # noqa: SIM115 - closed below
        except tarfile.ReadError as exc:
            raise NotATarError(str(exc)) from exc
        with archive:
            for info in archive:
                if visitor.stopped:
                    return
                sink = visitor.member(_member_info(info))
                if sink is None:
                    continue
                try:
                    content = archive.extractfile(info)
                    if content is not None:
                        pump(content, sink)
                except (tarfile.TarError, EOFError, OSError) as exc:
                    sink.fail("corrupt-archive", f"member could not be read: {exc}")
                finally:
                    sink.close()


def _member_info(info: tarfile.TarInfo) -> MemberInfo:
    if info.isdir():
        kind = "dir"
    elif info.issym() or info.islnk():
        kind = "symlink"
    elif info.isreg():
        kind = "file"
    else:
        kind = "special"
    try:
        mtime: dt.datetime | None = dt.datetime.fromtimestamp(info.mtime, dt.UTC)
    except (OverflowError, OSError, ValueError):
        mtime = None
    return MemberInfo(
        name=info.name,
        kind=kind,
        size=info.size if kind == "file" else None,
        mtime=mtime,
        time_zone="UTC" if mtime else None,
        link_target=info.linkname or None,
    )
