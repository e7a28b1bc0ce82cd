"""ZIP archives (and the many formats built on ZIP: docx, apk, epub, ...)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import stat
import struct
import zipfile
import zlib
from typing import BinaryIO, ClassVar

from muhafiz.triage.sources.base import ArchiveFormat, MemberInfo, MemberVisitor
from muhafiz.triage.sources.pump import pump

_EXTENDED_TIMESTAMP = 0x5455  # Info-ZIP "UT" extra field: mtime as UTC seconds
_LOCAL_ZONE = "unknown: the archiving computer's local time (ZIP stores no zone)"


class ZipFormat(ArchiveFormat):
    name: ClassVar[str] = "zip"
    needs_seek: ClassVar[bool] = True

    def read(self, stream: BinaryIO, visitor: MemberVisitor) -> None:
        with zipfile.ZipFile(stream) as archive:
            for info in archive.infolist():
                if visitor.stopped:
                    return
                member = _member_info(info)
                if member.kind == "symlink" and not member.encrypted:
                    target = archive.read(info)[:4096].decode("utf-8", "backslashreplace")
                    member = dataclasses.replace(member, link_target=target)
                sink = visitor.member(member)
                if sink is None:
                    continue
                try:
                    with archive.open(info) as content:
                        pump(content, sink)
                except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
                    sink.fail("corrupt-archive", f"member could not be decompressed: {exc}")
                except NotImplementedError as exc:  # compression methods zipfile lacks
                    sink.fail("corrupt-archive", f"unsupported compression: {exc}")
                finally:
                    sink.close()


def _member_info(info: zipfile.ZipInfo) -> MemberInfo:
    mode = info.external_attr >> 16
    if info.is_dir():
        kind = "dir"
    elif info.create_system == 3 and stat.S_ISLNK(mode):
        kind = "symlink"
    else:
        kind = "file"
    mtime, zone = _mtime(info)
    return MemberInfo(
        name=info.filename,
        kind=kind,
        size=info.file_size,
        compressed_size=info.compress_size,
        mtime=mtime,
        time_zone=zone,
        encrypted=bool(info.flag_bits & 0x1),
        offset=info.header_offset,
    )


def _mtime(info: zipfile.ZipInfo) -> tuple[dt.datetime | None, str | None]:
    extra = info.extra
    i = 0
    while i + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, i)
        body = extra[i + 4 : i + 4 + length]
        if tag == _EXTENDED_TIMESTAMP and len(body) >= 5 and body[0] & 0x1:
            seconds = struct.unpack_from("<i", body, 1)[0]
            return dt.datetime.fromtimestamp(seconds, dt.UTC), "UTC"
        i += 4 + length
    try:
        return dt.datetime(*info.date_time), _LOCAL_ZONE  # noqa: DTZ001 - ZIP has no zone
    except ValueError:
        return None, None
