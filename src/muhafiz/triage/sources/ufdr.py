"""Cellebrite UFDR phone extractions: a ZIP with `report.xml`, files under `files/<Category>/`.

The report is read as a stream (reports reach gigabytes): `iterparse` with every finished
element removed from its parent, so memory stays flat whatever the number of tagged files. Each
tagged file with bytes in the ZIP becomes a unit that remembers its device path (`fs` + `path`),
deleted flag, timestamps and the MD5/SHA-256 the report records; the scan hashes the bytes and
flags a recorded hash that disagrees. ZIP members the report does not mention are scanned too,
without a device path. Device info goes into the source's details.
"""

from __future__ import annotations

import datetime as dt
import json
import os
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
        self._zip: zipfile.ZipFile | None = None
        self._zip_pid = 0

    def __getstate__(self) -> dict[str, Any]:
        # Workers open their own handle: a ZIP handle shared across fork shares its offset.
        return {"source_id": self.source_id, "path": self.path, "_details": self._details}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._zip, self._zip_pid = None, 0

    @classmethod
    def accepts(cls, path: Path) -> bool:
        if not path.is_file():
            return False
        try:
            with os.fdopen(open_readonly(path), "rb") as handle:
                if handle.read(4) != b"PK\x03\x04":
                    return False
        except OSError:
            return False
        try:
            with zipfile.ZipFile(path) as archive:
                return find_report(archive.namelist()) is not None
        except (zipfile.BadZipFile, OSError):
            return False

    def describe(self) -> str:
        return f"Cellebrite UFDR extraction {self.path.resolve()}"

    def details(self) -> dict[str, Any] | None:
        return self._details

    def archive(self) -> zipfile.ZipFile:
        if self._zip is None or self._zip_pid != os.getpid():
            fd = open_readonly(self.path)
            self._zip = zipfile.ZipFile(os.fdopen(fd, "rb"))
            self._zip_pid = os.getpid()
        return self._zip

    def walk(self) -> Iterator[Unit | FileRecord | Issue]:
        archive = self.archive()
        sizes = {info.filename: info.file_size for info in archive.infolist() if not info.is_dir()}
        report = find_report(list(sizes))
        assert report is not None
        name = self.path.name
        self._details = {"format": "Cellebrite UFDR", "report": report}
        used: set[str] = set()
        seen_paths: set[str] = set()
        try:
            with archive.open(report) as stream:
                for item in self._parse(stream):
                    yield from self._tagged(item, name, sizes, used, seen_paths)
        except Exception as exc:  # a damaged or cut report: what was read is kept
            yield Issue(
                self.source_id,
                f"{name}!/{report}",
                IssueCode.CORRUPT_ARCHIVE,
                f"report.xml could not be read to the end: {type(exc).__name__}: {exc}",
            )
        for member, size in sizes.items():
            if member not in used:  # in the ZIP but not in the report (report.xml itself too)
                shown, raw = display_name(member)
                yield Unit(self.source_id, f"{name}!/{shown}", json.dumps({"m": member}), size, raw)

    def _tagged(
        self,
        item: dict[str, Any],
        name: str,
        sizes: dict[str, int],
        used: set[str],
        seen_paths: set[str],
    ) -> Iterator[Unit | FileRecord | Issue]:
        local = item.pop("local", None)
        member = local.replace("\\", "/").lstrip("/") if local else None
        if member is not None and member not in sizes:
            member = next((n for n in (member, f"files/{member}") if n in sizes), None)
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
        item["m"] = member
        yield Unit(self.source_id, path, json.dumps(item), sizes[member], raw)

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
        item = json.loads(unit.locator)
        archive = self.archive()
        info = archive.getinfo(item["m"])
        stream: BinaryIO = archive.open(info)  # type: ignore[assignment]
        record = FileRecord(unit.source_id, unit.path, None, 0, size=info.file_size)
        record.path_raw = unit.path_raw
        if "device_path" in item:
            _fill(record, item)
        else:
            record.timestamp_note = "not a tagged file of the report: no device times"
        return OpenedUnit(stream, record)

    def reopen(self, unit: Unit) -> BinaryIO | None:
        item = json.loads(unit.locator)
        stream: BinaryIO = self.archive().open(item["m"])  # type: ignore[assignment]
        return stream


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
