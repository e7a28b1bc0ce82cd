"""Cellebrite UFDR phone extractions: a ZIP with `report.xml`, files under `files/<Category>/`.

The report is read as a stream (reports reach gigabytes): `iterparse` with every finished
element removed from its parent, so memory stays flat whatever the number of tagged files. Each
tagged file with bytes in the ZIP becomes a unit that remembers its device path (`fs` + `path`),
deleted flag, timestamps and the MD5/SHA-256 the report records; the scan hashes the bytes and
flags a recorded hash that disagrees. ZIP members the report does not mention are scanned too,
without a device path. Device info goes into the source's details. Each unit's locator holds where
its bytes start in the ZIP, so workers read a member from its local header without loading the
ZIP's directory (for 100,000 members that alone is ~50 MB per process).
"""

from __future__ import annotations

import datetime as dt
import os
import struct
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, ClassVar
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import iterparse

from muhafiz.triage.records import FileRecord, Issue, IssueCode, display_name
from muhafiz.triage.sources.base import OpenedUnit, Source, Unit
from muhafiz.triage.sources.directory import open_readonly

REPORT_NAMES = ("report.xml", "Report.xml")
_TIMESTAMPS = {"CreationTime": "created", "ModifyTime": "mtime", "AccessTime": "atime"}
_HASH_ITEMS = {"md5": "md5", "sha256": "sha256", "sha-256": "sha256", "sha2": "sha256"}
_DELETED = frozenset({"deleted", "trash", "true", "yes"})
_NOTE = (
    "file-system times of the device as the Cellebrite extraction recorded them "
    "(converted to UTC from the offset the report gives)"
)
_MAX_DETAIL_ITEMS = 200


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def find_report(names: list[str]) -> str | None:
    for name in REPORT_NAMES:
        if name in names:
            return name
    lowered = {n.lower(): n for n in names if "/" not in n}
    return lowered.get("report.xml")


class UfdrSource(Source):
    kind: ClassVar[str] = "ufdr"

    def __init__(self, source_id: int, path: Path) -> None:
        super().__init__(source_id, path)
        self._details: dict[str, Any] = {}
        # An extraction found inside a folder (`sources.nested`): its path there, which prefixes
        # every path in it (`evidence/phone.ufdr!/…`).
        self.nested_label: str | None = None

    @classmethod
    def accepts(cls, path: Path) -> bool:
        if not path.is_file():
            return False
        try:
            with os.fdopen(open_readonly(path), "rb") as handle:
                head = handle.read(4)
        except OSError:
            return False
        return cls.accepts_head(head, path)

    @classmethod
    def accepts_head(cls, head: bytes, path: Path) -> bool:
        """A ZIP (by its first bytes) whose directory names a Cellebrite report."""
        if not head.startswith(b"PK\x03\x04"):
            return False
        try:  # read without touching the file's atime: ZIPs in a folder are sniffed too
            with (
                os.fdopen(open_readonly(path), "rb") as handle,
                zipfile.ZipFile(handle) as archive,
            ):
                return find_report(archive.namelist()) is not None
        except (zipfile.BadZipFile, OSError):
            return False

    def describe(self) -> str:
        return f"Cellebrite UFDR extraction {self.path.resolve()}"

    def details(self) -> dict[str, Any] | None:
        return self._details

    def walk(self) -> Iterator[Unit | FileRecord | Issue]:
        # Where each member's bytes are, as plain numbers: workers read members without a
        # ZipFile (whose directory of 100,000 members would cost each process ~50 MB).
        with (
            os.fdopen(open_readonly(self.path), "rb") as handle,
            zipfile.ZipFile(handle) as archive,
        ):
            places = {
                info.filename: _place(info) for info in archive.infolist() if not info.is_dir()
            }
        report = find_report(list(places))
        assert report is not None
        name = self.nested_label or self.path.name
        self._details = {"format": "Cellebrite UFDR", "report": report}
        used: set[str] = set()
        seen_paths: set[str] = set()
        try:
            with self._member(report, places[report]) as stream:
                for item in self._parse(stream):
                    yield from self._tagged(item, name, places, used, seen_paths)
        except Exception as exc:  # a damaged or cut report: what was read is kept
            yield Issue(
                self.source_id,
                f"{name}!/{report}",
                IssueCode.CORRUPT_ARCHIVE,
                f"report.xml could not be read to the end: {type(exc).__name__}: {exc}",
            )
        for member, place in places.items():
            if member not in used:  # in the ZIP but not in the report (report.xml itself too)
                shown, raw = display_name(member)
                locator = _SEP.join((member, place))
                yield Unit(self.source_id, f"{name}!/{shown}", locator, _size_of(place), raw)

    def _tagged(
        self,
        item: dict[str, Any],
        name: str,
        places: dict[str, str],
        used: set[str],
        seen_paths: set[str],
    ) -> Iterator[Unit | FileRecord | Issue]:
        local = item.pop("local", None)
        member = local.replace("\\", "/").lstrip("/") if local else None
        if member is not None and member not in places:
            member = next((n for n in (member, f"files/{member}") if n in places), None)
        if member is None:
            # Listed by the report, bytes not in the extraction: say so, keep what is known.
            path = _unique(f"{name}!/{item['device_path'].lstrip('/')}", seen_paths)
            record = FileRecord(self.source_id, path, None, 0, size=item.get("size"))
            _fill(record, item)
            record.add_issue(
                IssueCode.NOT_IN_EXTRACTION,
                "listed in report.xml but its bytes are not in the extraction",
            )
            yield record
            return
        used.add(member)
        shown, raw = display_name(member)
        path = _unique(f"{name}!/{shown}", seen_paths)
        facts = [str(item.get(key) or "") for key in _FACTS]
        facts[1] = "1" if item.get("deleted") else ""
        locator = _SEP.join((member, places[member], *facts))
        yield Unit(self.source_id, path, locator, _size_of(places[member]), raw)

    def _parse(self, stream: IO[bytes]) -> Iterator[dict[str, Any]]:
        """Tagged files as dicts, device facts into `self._details`; finished elements are
        removed from their parents as soon as they are read."""
        stack: list[Element] = []
        device: dict[str, str] = {}
        extractions: list[dict[str, str]] = []
        case: dict[str, str] = {}
        for event, elem in iterparse(stream, events=("start", "end")):
            if event == "start":
                stack.append(elem)
                continue
            stack.pop()
            tag = _local(elem.tag)
            depth = len(stack)  # of the parent
            parent = stack[-1] if stack else None
            if tag == "file" and parent is not None and _local(parent.tag) == "taggedFiles":
                yield _tagged_file(elem)
            elif tag == "extractionInfo":
                extractions.append({k: v for k, v in elem.attrib.items() if len(v) < 500})
            elif (
                tag == "item"
                and depth == 2
                and parent is not None
                and parent.get("section") == "Device Info"
                and len(device) < _MAX_DETAIL_ITEMS
            ):
                device[elem.get("name") or "?"] = (elem.text or "").strip()[:500]
            elif (
                tag == "field"
                and parent is not None
                and _local(parent.tag) == "caseInformation"
                and len(case) < _MAX_DETAIL_ITEMS
            ):
                case[elem.get("name") or "?"] = (elem.text or "").strip()[:500]
            if parent is not None and depth <= 2:
                # Children of the root and of its sections: consumed, drop them (flat memory).
                parent.remove(elem)
            elif parent is None:
                elem.clear()
        self._details.update(_device_summary(device, extractions))
        if device:
            self._details["device_info"] = device
        if extractions:
            self._details["extractions"] = extractions
        if case:
            self._details["case_information"] = case

    def open(self, unit: Unit) -> OpenedUnit:
        member, place, *facts = unit.locator.split(_SEP)
        stream = self._member(member, place)
        record = FileRecord(unit.source_id, unit.path, None, 0, size=_size_of(place))
        record.path_raw = unit.path_raw
        if facts:
            item: dict[str, Any] = {k: v for k, v in zip(_FACTS, facts, strict=True) if v}
            item["deleted"] = facts[1] == "1"
            _fill(record, item)
        else:
            record.timestamp_note = "not a tagged file of the report: no device times"
        return OpenedUnit(stream, record)

    def reopen(self, unit: Unit) -> BinaryIO | None:
        member, place, *_ = unit.locator.split(_SEP)
        return self._member(member, place)

    def _member(self, member: str, place: str) -> BinaryIO:
        """A member's bytes from its local header on, without reading the ZIP's directory."""
        offset, compressed, size, method, crc, flags = (int(x) for x in place.split(","))
        if flags & 0x1:
            raise OSError(f"{member}: the member is encrypted")
        info = zipfile.ZipInfo(member)
        info.header_offset, info.compress_size, info.file_size = offset, compressed, size
        info.compress_type, info.CRC, info.flag_bits = method, crc, flags
        handle = os.fdopen(open_readonly(self.path), "rb")
        try:
            handle.seek(offset)
            header = handle.read(_LOCAL_HEADER.size)
            if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
                raise OSError(f"{member}: no local file header at offset {offset}")
            fields = _LOCAL_HEADER.unpack(header)
            handle.seek(fields[10] + fields[11], os.SEEK_CUR)  # name and extra field lengths
            stream: BinaryIO = zipfile.ZipExtFile(handle, "r", info, None, True)  # type: ignore[assignment]
        except BaseException:
            handle.close()
            raise
        return stream


# A ZIP local file header (APPNOTE 4.3.7): signature, versions, flags, method, time, date, CRC,
# sizes, then the lengths of the name and of the extra field that follow it.
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
# Locators: fields joined by a unit separator, so 100,000 units stay small in memory.
_SEP = "\x1f"
_FACTS = ("device_path", "deleted", "created", "mtime", "atime", "md5", "sha256")


def _place(info: zipfile.ZipInfo) -> str:
    return (
        f"{info.header_offset},{info.compress_size},{info.file_size},{info.compress_type},"
        f"{info.CRC},{info.flag_bits}"
    )


def _size_of(place: str) -> int:
    return int(place.split(",")[2])


def _tagged_file(elem: Element) -> dict[str, Any]:
    fs = (elem.get("fs") or "").strip()
    path = (elem.get("path") or "").strip()
    joiner = "" if path.startswith("/") or not fs else "/"
    item: dict[str, Any] = {
        "device_path": f"{fs}{joiner}{path}" if fs else (path or "/"),
        "deleted": (elem.get("deleted") or "").strip().lower() in _DELETED,
    }
    size = elem.get("size")
    if size and size.isdigit():
        item["size"] = int(size)
    if elem.get("id"):
        item["id"] = elem.get("id")
    for child in elem:
        section = _local(child.tag)
        if section == "accessInfo":
            for stamp in child:
                key = _TIMESTAMPS.get(stamp.get("name") or "")
                if key and stamp.text and stamp.text.strip():
                    item[key] = stamp.text.strip()
        elif section == "metadata":
            for entry in child:
                label = (entry.get("name") or "").strip()
                value = (entry.text or "").strip()
                if not value:
                    continue
                if label == "Local Path":
                    item["local"] = value
                elif label.lower() in _HASH_ITEMS:
                    item[_HASH_ITEMS[label.lower()]] = value.lower()
    return item


def _fill(record: FileRecord, item: dict[str, Any]) -> None:
    record.device_path = item["device_path"]
    record.deleted = bool(item.get("deleted"))
    zones = set()
    for key in ("created", "mtime", "atime"):
        if key in item:
            text, zone = _utc(item[key])
            setattr(record, key, text)
            zones.add(zone)
    record.time_zone = "UTC" if zones == {"UTC"} else (zones.pop() if len(zones) == 1 else None)
    record.timestamps_reliable = bool(zones) and record.time_zone == "UTC"
    record.timestamp_note = _NOTE
    record.stored_md5 = item.get("md5")
    record.stored_sha256 = item.get("sha256")


def _utc(text: str) -> tuple[str, str]:
    """A report time as ISO 8601 UTC when it carries an offset; as written otherwise."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text[:64], "unknown: the report's time is not ISO 8601"
    if moment.tzinfo is None:
        return moment.isoformat(), "unknown: the report gives no offset"
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "UTC"


def _device_summary(device: dict[str, str], extractions: list[dict[str, str]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for label, value in device.items():
        low = label.lower()
        if not value:
            continue
        if "imei" in low:
            summary.setdefault("imei", value)
        elif "manufacturer" in low or "vendor" in low:
            summary.setdefault("make", value)
        elif "model" in low:
            summary.setdefault("model", value)
    types = sorted({e["type"] for e in extractions if e.get("type")})
    if types:
        summary["extraction_type"] = ", ".join(types)
    names = sorted({e["deviceName"] for e in extractions if e.get("deviceName")})
    if names:
        summary["device_name"] = ", ".join(names)
    return summary


def _unique(path: str, seen: set[str]) -> str:
    candidate, n = path, 1
    while candidate in seen:
        n += 1
        candidate = f"{path} [copy {n}]"
    seen.add(candidate)
    return candidate
