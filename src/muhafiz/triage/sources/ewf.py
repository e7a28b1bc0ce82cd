"""EnCase / Expert Witness images (.E01, .Ex01, multi-segment): the acquisition hashes they store
are verified against the media as the scan reads it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any, ClassVar

import pyewf
from dfvfs.lib import definitions as dfvfs_definitions

from muhafiz.triage.sources.directory import open_readonly
from muhafiz.triage.sources.diskimage import DiskImageSource, noatime_file, read_head
from muhafiz.triage.sources.ewfchunks import open_fast_media

_EWF1 = b"EVF\x09\x0d\x0a\xff\x00"
_EWF2 = b"EVF2\x0d\x0a\x81\x00"
_HEADER_KEYS = (
    "case_number", "evidence_number", "description", "examiner_name", "notes", "acquiry_date",
    "system_date", "acquiry_operating_system", "acquiry_software", "acquiry_software_version",
    "model", "serial_number",
)  # fmt: skip


class EwfSource(DiskImageSource):
    kind: ClassVar[str] = "ewf"
    format_name: ClassVar[str] = "EWF image"
    type_indicator: ClassVar[str] = dfvfs_definitions.TYPE_INDICATOR_EWF

    @classmethod
    def accepts(cls, path: Path) -> bool:
        return path.is_file() and cls.accepts_head(read_head(path, 16), path)

    @classmethod
    def accepts_head(cls, head: bytes, path: Path) -> bool:
        if head.startswith(_EWF1):
            # Only the first segment opens the set (its segment number is 1).
            return int.from_bytes(head[9:11], "little") == 1
        return head.startswith(_EWF2)

    def segment_files(self) -> list[Path]:
        return [Path(p) for p in pyewf.glob(str(self.path.resolve()))]

    def _media(self) -> Any:
        # Chunks inflated with zlib where the layout is EWF-E01 (libewf's own inflate is about
        # ten times slower); libewf for the rest, and for any damaged chunk.
        state = self._state()
        if "media" not in state:
            fast = open_fast_media(self.segment_files(), open_readonly, self._libewf_media)
            state["media"] = fast if fast is not None else self._libewf_media()
        return state["media"]

    def pass_media(self) -> Any:
        fast = open_fast_media(self.segment_files(), open_readonly, self._libewf_media)
        return fast if fast is not None else self._libewf_media()

    def _libewf_media(self) -> Any:
        return super()._media_object()

    def _handle(self) -> tuple[Any, list[io.FileIO]]:
        handle = pyewf.handle()
        # Opened through O_NOATIME file objects: reading the headers leaves the segments' times.
        files = [noatime_file(p) for p in self.segment_files()]
        handle.open_file_objects(files)
        return handle, files

    @staticmethod
    def _close(handle: Any, files: list[io.FileIO]) -> None:
        handle.close()
        for f in files:
            f.close()

    def image_metadata(self) -> dict[str, Any]:
        handle, files = self._handle()
        try:
            values = handle.get_header_values() or {}
            return {k: v for k, v in sorted(values.items()) if k in _HEADER_KEYS and v}
        finally:
            self._close(handle, files)

    def stored_hashes(self) -> dict[str, str]:
        handle, files = self._handle()
        try:
            found: dict[str, str] = {}
            for name in ("MD5", "SHA1"):
                value = handle.get_hash_value(name)
                if value and set(value) != {"0"}:
                    found[name.lower()] = value.lower()
            return found
        finally:
            self._close(handle, files)
