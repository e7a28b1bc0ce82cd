"""Reading CyberTipline referrals: XML in the shape of the CyberTipline reporting schema (one
`report` or many per file, in any wrapper, with or without a namespace) and the CSV partners
send, as a stream of `Tip` (or `BadTip`, naming what is wrong) — never a file's content.

The XML is read with `iterparse` and each `report` element is removed from its parent once read,
so memory stays flat on files of gigabytes. Victims' details in a referral are not read at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import iterparse

INDUSTRY_CLASSES = frozenset({"A1", "A2", "B1", "B2"})
HASH_LENGTHS = {"MD5": 32, "SHA1": 40, "SHA-1": 40, "SHA256": 64, "SHA-256": 64}
IP_EVENTS = frozenset({"Login", "Registration", "Purchase", "Upload", "Other", "Unknown"})
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_REPORT_ID = re.compile(r"^[0-9A-Za-z_-]{1,26}$")  # the reference is CT-<id>, 30 at most
MAX_PER_REPORT = 1000  # identifiers, files or IP events in one referral


@dataclass
class Tip:
    """One referral as read: metadata and identifiers, never a file's content."""

    report_id: str
    incident_type: str = ""
    incident_at: dt.datetime | None = None
    high_priority: bool = False
    annotations: list[str] = field(default_factory=list)
    esp_name: str = ""
    city: str = ""
    region: str = ""
    country: str = ""
    screen_names: list[str] = field(default_factory=list)
    display_names: list[str] = field(default_factory=list)
    profile_urls: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    devices: list[str] = field(default_factory=list)
    ip_events: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def file_hashes(self) -> list[str]:
        return sorted({h for f in self.files for h in f["hashes"].values()})

    @property
    def clustering_ips(self) -> list[str]:
        """IP addresses that may join referrals: not those the ESP flagged as a possible proxy."""
        return sorted({e["ip"] for e in self.ip_events if e.get("proxy") is not True})


@dataclass
class BadTip:
    """A referral that cannot be imported: which one and every reason."""

    where: str  # "report 123456" or "record 7" when it has no usable id
    problems: list[str]

    def __str__(self) -> str:
        return f"{self.where}: {'; '.join(self.problems)}"


class TipFileError(ValueError):
    """The file itself cannot be read on (broken XML, unknown format)."""


def _local(tag: Any) -> str:
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


# read_xml strips namespaces from tags as elements start, so the lookups below are by local
# name and run in ElementTree's C code.
def _children(elem: Element, name: str) -> list[Element]:
    return elem.findall(name)


def _child(elem: Element | None, name: str) -> Element | None:
    return None if elem is None else elem.find(name)


def _text(elem: Element | None, name: str = "") -> str:
    if elem is None:
        return ""
    return (elem.findtext(name, "") if name else (elem.text or "")).strip()


def _bool(value: str, what: str, problems: list[str]) -> bool | None:
    if not value:
        return None
    lowered = value.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    problems.append(f"{what} is {value[:20]!r}, not true or false")
    return None


def _when(value: str, what: str, problems: list[str]) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        problems.append(f"{what} {value[:40]!r} is not an ISO 8601 date and time")
        return None
    if moment.tzinfo is None:
        problems.append(f"{what} {value[:40]!r} has no time zone")
        return None
    return moment


def _ip(value: str, what: str, problems: list[str]) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        problems.append(f"{what} {value[:45]!r} is not an IP address")
        return ""


def _hash(kind: str, value: str, what: str, problems: list[str]) -> tuple[str, str] | None:
    kind = kind.upper()
    length = HASH_LENGTHS.get(kind)
    if length is None:
        return None  # PDNA and other opaque hashes are not matched; kept out
    if len(value) != length or not _HEX.match(value):
        problems.append(f"{what} {kind} is not {length} hex characters")
        return None
    return kind.replace("-", "").lower(), value.lower()


def _limit(values: list[Any], what: str, problems: list[str]) -> list[Any]:
    if len(values) > MAX_PER_REPORT:
        problems.append(f"more than {MAX_PER_REPORT} {what}")
        return values[:MAX_PER_REPORT]
    return values


def _ip_event(elem: Element, where: str, problems: list[str]) -> dict[str, Any] | None:
    ip = _ip(_text(elem, "ipAddress"), f"{where} ipAddress", problems)
    if not ip:
        return None
    event = _text(elem, "eventName")
    if event and event not in IP_EVENTS:
        problems.append(
            f"{where} eventName {event[:30]!r} is not one of {', '.join(sorted(IP_EVENTS))}"
        )
    port_text = _text(elem, "port")
    port = None
    if port_text:
        if not port_text.isdigit() or int(port_text) > 65535:
            problems.append(f"{where} port {port_text[:10]!r} is not a port number")
        else:
            port = int(port_text)
    return {
        "ip": ip,
        "event": event,
        "at": _when(_text(elem, "dateTime"), f"{where} dateTime", problems),
        "port": port,
        "proxy": _bool(_text(elem, "possibleProxy"), f"{where} possibleProxy", problems),
    }


def _device(elem: Element) -> str:
    kind, value = _text(elem, "idType"), _text(elem, "idValue")
    return f"{kind.lower()}:{value.lower()}" if value else ""


def tip_from_element(report: Element, position: int) -> Tip | BadTip:
    """One `report` element as a Tip, or a BadTip naming every problem found in it."""
    problems: list[str] = []
    report_id = _text(report, "reportId") or (report.get("id") or "").strip()
    if not report_id:
        return BadTip(f"report {position} (no reportId)", ["it has no reportId"])
    if not _REPORT_ID.match(report_id):
        return BadTip(f"report {position}", [f"reportId {report_id[:40]!r} is not an id"])
    tip = Tip(report_id=report_id)
    summary = _child(report, "incidentSummary")
    tip.incident_type = _text(summary, "incidentType")[:120]
    tip.high_priority = bool(
        _bool(_text(summary, "escalateToHighPriority"), "escalateToHighPriority", problems)
    )
    tip.incident_at = _when(_text(summary, "incidentDateTime"), "incidentDateTime", problems)
    annotations = _child(summary, "reportAnnotations")
    if annotations is not None:
        tip.annotations = sorted({_local(a.tag) for a in annotations})
    reporter = _child(report, "reporter")
    tip.esp_name = (
        _text(reporter, "espName")
        or _text(_child(reporter, "reportingPerson"), "companyName")
        or _text(reporter, "companyName")
    )[:200]
    for number, person in enumerate(_children(report, "personOrUserReported"), start=1):
        where = f"personOrUserReported {number}"
        tip.screen_names += [s for s in (_text(e) for e in _children(person, "screenName")) if s]
        tip.display_names += [s for s in (_text(e) for e in _children(person, "displayName")) if s]
        tip.profile_urls += [s for s in (_text(e) for e in _children(person, "profileUrl")) if s]
        details = _child(person, "personOrUserReportedPerson")
        if details is not None:
            tip.emails += [s for s in (_text(e) for e in _children(details, "email")) if s]
            tip.phones += [s for s in (_text(e) for e in _children(details, "phone")) if s]
        for index, elem in enumerate(_children(person, "ipCaptureEvent"), start=1):
            event = _ip_event(elem, f"{where} ipCaptureEvent {index}", problems)
            if event is not None:
                tip.ip_events.append(event)
        tip.devices += [d for d in (_device(e) for e in _children(person, "deviceId")) if d]
        location = _child(person, "estimatedLocation")
        if location is not None and not tip.city and not tip.region:
            tip.city = _text(location, "city")[:120]
            tip.region = _text(location, "region")[:120]
            tip.country = _text(location, "countryCode")[:8].upper()
    for number, elem in enumerate(_children(report, "fileDetails"), start=1):
        where = f"fileDetails {number}"
        hashes: dict[str, str] = {}
        for index, node in enumerate(_children(elem, "originalFileHash"), start=1):
            kind = (node.get("hashType") or _text(node, "hashType")).strip()
            value = (_text(node, "value") if len(node) else _text(node)).strip()
            found = _hash(kind, value, f"{where} originalFileHash {index}", problems)
            if found is not None:
                hashes[found[0]] = found[1]
        classification = _text(elem, "industryClassification").upper()
        if classification and classification not in INDUSTRY_CLASSES:
            problems.append(f"{where} industryClassification {classification[:10]!r} is not A1-B2")
        exif = {}
        for pair in _children(elem, "details"):
            for item in pair.iter("nameValuePair"):
                name, value = _text(item, "name"), _text(item, "value")
                if name:
                    exif[name[:100]] = value[:300]
        for index, event_elem in enumerate(_children(elem, "ipCaptureEvent"), start=1):
            event = _ip_event(event_elem, f"{where} ipCaptureEvent {index}", problems)
            if event is not None:
                tip.ip_events.append(event)
        tip.devices += [d for d in (_device(e) for e in _children(elem, "deviceId")) if d]
        tip.files.append(
            {
                "file_id": _text(elem, "fileId")[:100],
                "original_file_name": (_text(elem, "originalFileName") or _text(elem, "fileName"))[
                    :300
                ],
                "location": _text(elem, "locationOfFile")[:500],
                "viewed_by_esp": _bool(
                    _text(elem, "fileViewedByEsp"), f"{where} fileViewedByEsp", problems
                ),
                "publicly_available": _bool(
                    _text(elem, "publiclyAvailable"), f"{where} publiclyAvailable", problems
                ),
                "industry_classification": classification[:4],
                "hashes": hashes,
                "exif": exif,
            }
        )
    for name in ("screen_names", "display_names", "profile_urls", "emails", "phones", "devices"):
        setattr(tip, name, _limit(getattr(tip, name), name.replace("_", " "), problems))
    tip.ip_events = _limit(tip.ip_events, "IP capture events", problems)
    tip.files = _limit(tip.files, "files", problems)
    if problems:
        return BadTip(f"report {report_id}", problems)
    return tip


def read_xml(source: str | IO[bytes]) -> Iterator[Tip | BadTip]:
    """Every `report` of an XML file, in order; each element is dropped once read."""
    position = 0
    stack: list[Element] = []
    try:
        for event, elem in iterparse(source, events=("start", "end"), forbid_dtd=True):
            if event == "start":
                elem.tag = _local(elem.tag)  # the namespace is not needed to read a referral
                stack.append(elem)
                continue
            stack.pop()
            if elem.tag != "report":
                continue
            position += 1
            yield tip_from_element(elem, position)
            elem.clear()
            if stack:
                stack[-1].remove(elem)
    except Exception as exc:  # ParseError, and defusedxml's refusals of DTDs and entities
        if isinstance(exc, TipFileError):
            raise
        raise TipFileError(f"the XML cannot be read on after report {position}: {exc}") from exc


# One row per referral; lists inside a cell are separated by ';'. IP events as
# "ip|event|dateTime|port|possibleProxy", files as "MD5:hex|SHA1:hex|…|name|classification".
CSV_COLUMNS = (
    "report_id",
    "incident_type",
    "incident_date_time",
    "escalate_to_high_priority",
    "esp_name",
    "screen_names",
    "display_names",
    "profile_urls",
    "emails",
    "phones",
    "device_ids",
    "ip_capture_events",
    "city",
    "region",
    "country_code",
    "files",
)


def _cells(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(";") if part.strip()]


def tip_from_row(row: dict[str, str], line: int) -> Tip | BadTip:
    problems: list[str] = []
    report_id = (row.get("report_id") or "").strip()
    if not report_id or not _REPORT_ID.match(report_id):
        return BadTip(f"line {line}", ["report_id is missing or not an id"])
    tip = Tip(report_id=report_id)
    tip.incident_type = (row.get("incident_type") or "").strip()[:120]
    tip.incident_at = _when(
        (row.get("incident_date_time") or "").strip(), "incident_date_time", problems
    )
    tip.high_priority = bool(
        _bool((row.get("escalate_to_high_priority") or "").strip(), "escalate", problems)
    )
    tip.esp_name = (row.get("esp_name") or "").strip()[:200]
    tip.screen_names = _cells(row.get("screen_names", ""))
    tip.display_names = _cells(row.get("display_names", ""))
    tip.profile_urls = _cells(row.get("profile_urls", ""))
    tip.emails = _cells(row.get("emails", ""))
    tip.phones = _cells(row.get("phones", ""))
    tip.devices = [d.lower() for d in _cells(row.get("device_ids", ""))]
    for index, cell in enumerate(_cells(row.get("ip_capture_events", "")), start=1):
        parts = [*cell.split("|"), "", "", "", ""][:5]
        where = f"ip_capture_events {index}"
        ip = _ip(parts[0].strip(), f"{where} address", problems)
        if ip:
            port = parts[3].strip()
            tip.ip_events.append(
                {
                    "ip": ip,
                    "event": parts[1].strip(),
                    "at": _when(parts[2].strip(), f"{where} dateTime", problems),
                    "port": int(port) if port.isdigit() and int(port) <= 65535 else None,
                    "proxy": _bool(parts[4].strip(), f"{where} possibleProxy", problems),
                }
            )
    for index, cell in enumerate(_cells(row.get("files", "")), start=1):
        hashes: dict[str, str] = {}
        name, classification = "", ""
        for part in cell.split("|"):
            kind, sep, value = part.partition(":")
            if sep and kind.strip().upper() in HASH_LENGTHS:
                found = _hash(kind.strip(), value.strip(), f"files {index}", problems)
                if found is not None:
                    hashes[found[0]] = found[1]
            elif part.strip().upper() in INDUSTRY_CLASSES:
                classification = part.strip().upper()
            elif part.strip():
                name = part.strip()[:300]
        tip.files.append(
            {
                "file_id": str(index),
                "original_file_name": name,
                "location": "",
                "viewed_by_esp": None,
                "publicly_available": None,
                "industry_classification": classification,
                "hashes": hashes,
                "exif": {},
            }
        )
    tip.city = (row.get("city") or "").strip()[:120]
    tip.region = (row.get("region") or "").strip()[:120]
    tip.country = (row.get("country_code") or "").strip()[:8].upper()
    if problems:
        return BadTip(f"report {report_id}", problems)
    return tip


def read_csv(source: IO[bytes]) -> Iterator[Tip | BadTip]:
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    reader = csv.DictReader(text)
    if reader.fieldnames is None or "report_id" not in reader.fieldnames:
        raise TipFileError(
            "the CSV has no report_id column (columns: " + ", ".join(CSV_COLUMNS) + ")"
        )
    for line, row in enumerate(reader, start=2):
        yield tip_from_row(row, line)


def read_tips(source: IO[bytes], name: str = "") -> Iterator[Tip | BadTip]:
    """XML or CSV, by the first bytes of the file (the name is only a hint)."""
    head = source.read(512)
    source.seek(0)
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return read_xml(source)
    if name.lower().endswith(".xml"):
        raise TipFileError("the file is named .xml but does not start with XML")
    return read_csv(source)
