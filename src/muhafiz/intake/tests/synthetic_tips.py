"""Synthetic CyberTipline referrals for the tests and the benchmark: XML in the reporting
schema's shape, written as a stream. Every value is made up; hashes are of made-up bytes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO
from xml.sax.saxutils import escape

NS = "https://report.cybertip.org/ispws/xsd"


@dataclass
class SyntheticTip:
    report_id: str
    screen_name: str = ""
    profile_url: str = ""
    ips: list[str] = field(default_factory=list)
    proxy_ips: list[str] = field(default_factory=list)
    device: str = ""
    city: str = ""
    region: str = ""
    country: str = "PK"
    file_blobs: list[bytes] = field(default_factory=list)
    phone: str = ""
    email: str = ""
    incident_type: str = "Child Pornography (possession, manufacture, and distribution)"
    bad_date: bool = False
    extra_files: int = 0  # padding files (for the benchmark's size), distinct hashes


def md5(blob: bytes) -> str:
    return hashlib.md5(blob, usedforsecurity=False).hexdigest()


def sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def _file(blob: bytes, number: int) -> str:
    return (
        "<fileDetails>"
        f"<fileId>{number}</fileId><originalFileName>upload_{number}.jpg</originalFileName>"
        "<locationOfFile>https://cdn.example.invalid/f/" + md5(blob)[:12] + "</locationOfFile>"
        "<fileViewedByEsp>true</fileViewedByEsp><publiclyAvailable>false</publiclyAvailable>"
        "<industryClassification>A1</industryClassification>"
        f'<originalFileHash hashType="MD5">{md5(blob)}</originalFileHash>'
        f'<originalFileHash hashType="SHA256">{sha256(blob)}</originalFileHash>'
        '<details type="EXIF"><nameValuePair><name>Make</name><value>TestCam</value>'
        "</nameValuePair><nameValuePair><name>DateTimeOriginal</name>"
        "<value>2026:01:02 03:04:05</value></nameValuePair></details>"
        "</fileDetails>"
    )


def report_xml(tip: SyntheticTip) -> str:
    when = "yesterday" if tip.bad_date else "2026-11-02T10:15:00+05:00"
    person = ["<personOrUserReported>"]
    if tip.phone or tip.email:
        person.append("<personOrUserReportedPerson>")
        if tip.email:
            person.append(f"<email>{escape(tip.email)}</email>")
        if tip.phone:
            person.append(f"<phone>{escape(tip.phone)}</phone>")
        person.append("</personOrUserReportedPerson>")
    person.append("<espService>Messenger</espService>")
    if tip.screen_name:
        person.append(f"<screenName>{escape(tip.screen_name)}</screenName>")
        person.append(f"<displayName>{escape(tip.screen_name.title())}</displayName>")
    if tip.profile_url:
        person.append(f"<profileUrl>{escape(tip.profile_url)}</profileUrl>")
    for ip in tip.ips:
        person.append(
            f"<ipCaptureEvent><ipAddress>{ip}</ipAddress><eventName>Login</eventName>"
            "<dateTime>2026-11-01T08:00:00Z</dateTime><port>443</port></ipCaptureEvent>"
        )
    for ip in tip.proxy_ips:
        person.append(
            f"<ipCaptureEvent><ipAddress>{ip}</ipAddress><eventName>Upload</eventName>"
            "<dateTime>2026-11-01T08:05:00Z</dateTime><possibleProxy>true</possibleProxy>"
            "</ipCaptureEvent>"
        )
    if tip.device:
        person.append(f"<deviceId><idType>IMEI</idType><idValue>{tip.device}</idValue></deviceId>")
    person.append(
        "<estimatedLocation>"
        f"<city>{escape(tip.city)}</city><region>{escape(tip.region)}</region>"
        f"<countryCode>{tip.country}</countryCode><verified>false</verified>"
        "</estimatedLocation></personOrUserReported>"
    )
    blobs = list(tip.file_blobs) + [
        f"{tip.report_id}-padding-{n}".encode() for n in range(tip.extra_files)
    ]
    files = "".join(_file(blob, n) for n, blob in enumerate(blobs, start=1))
    return (
        f"<report><reportId>{tip.report_id}</reportId>"
        "<incidentSummary>"
        f"<incidentType>{escape(tip.incident_type)}</incidentType>"
        "<escalateToHighPriority>false</escalateToHighPriority>"
        "<reportAnnotations><sextortion/></reportAnnotations>"
        f"<incidentDateTime>{when}</incidentDateTime></incidentSummary>"
        "<internetDetails><chatImDetails><chatClient>Messenger</chatClient></chatImDetails>"
        "</internetDetails>"
        "<reporter><espName>Example Platform Inc.</espName></reporter>"
        + "".join(person)
        + "<victim><personOrUserReportedPerson><firstName>NotImported</firstName>"
        "</personOrUserReportedPerson></victim>" + files + "</report>"
    )


def write_xml(handle: IO[str], tips: Iterable[SyntheticTip]) -> None:
    handle.write(f'<?xml version="1.0" encoding="UTF-8"?>\n<reports xmlns="{NS}">\n')
    for tip in tips:
        handle.write(report_xml(tip))
        handle.write("\n")
    handle.write("</reports>\n")
