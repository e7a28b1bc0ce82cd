"""The demo's intake: a public web report with a staff reply (its receipt code and passphrase
printed once), a helpline call, and an imported CyberTipline referral whose screen name is the
demo network's handle, so it matches the Lahore and Kasur demo cases. All synthetic and saying
so; written through intake's actions only. Idempotent: nothing is added when the demo referral
exists."""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.db import transaction

DEMO_TIP_ID = "DEMO-9900001"
DEMO_NOTE = "(Synthetic demo report: every detail is invented.)"


@dataclass(frozen=True)
class SeededIntake:
    receipt_code: str
    passphrase: str
    web_report: str
    helpline_report: str
    cybertip_report: str
    matches: int


def _referral_xml(handle: str) -> bytes:
    """One referral in the CyberTipline reporting schema's shape; every value is invented
    (example.invalid addresses, documentation IP ranges, hashes of made-up bytes)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<reports xmlns="https://report.cybertip.org/ispws/xsd"><report>
<reportId>{DEMO_TIP_ID}</reportId>
<incidentSummary><incidentType>Online Enticement of Children for Sexual Act</incidentType>
<escalateToHighPriority>false</escalateToHighPriority>
<reportAnnotations><sextortion/></reportAnnotations>
<incidentDateTime>2026-11-02T10:15:00+05:00</incidentDateTime></incidentSummary>
<reporter><espName>Example Demo Platform (synthetic)</espName></reporter>
<personOrUserReported><espService>Messenger</espService>
<screenName>{handle}</screenName><displayName>Demo Network</displayName>
<profileUrl>https://social.example.invalid/u/{handle}</profileUrl>
<ipCaptureEvent><ipAddress>203.0.113.10</ipAddress><eventName>Login</eventName>
<dateTime>2026-11-01T08:00:00Z</dateTime><port>443</port></ipCaptureEvent>
<deviceId><idType>IMEI</idType><idValue>350000000009901</idValue></deviceId>
<estimatedLocation><city>Lahore</city><region>Punjab</region><countryCode>PK</countryCode>
<verified>false</verified></estimatedLocation></personOrUserReported>
<fileDetails><fileId>1</fileId><originalFileName>demo_file_1.jpg</originalFileName>
<fileViewedByEsp>true</fileViewedByEsp><publiclyAvailable>false</publiclyAvailable>
<industryClassification>B1</industryClassification>
<originalFileHash hashType="MD5">0123456789abcdef0123456789abcdef</originalFileHash>
</fileDetails></report></reports>
""".encode()


def seed_demo_intake() -> SeededIntake | None:
    """Seed the demo's intake once (after the demo people and cases); None when seeded."""
    from muhafiz.accounts.models import User
    from muhafiz.catalogue.models import District
    from muhafiz.core.permissions import SYSTEM
    from muhafiz.demo.cases import SHARED_HANDLE
    from muhafiz.intake import actions
    from muhafiz.intake.models import CyberTip
    from muhafiz.intake.throttle import PublicVisitor

    if CyberTip.objects.filter(report_id_ncmec=DEMO_TIP_ID).exists():
        return None
    lahore = District.objects.get(code="LHR")
    people = {
        u.username: u for u in User.objects.filter(username__in=["cpo.lahore", "helpline.1099"])
    }
    visitor = PublicVisitor(rate_key="demo-visitor")
    receipt = actions.submit_public_report(
        visitor,
        concern="blackmail",
        account=(
            f"{DEMO_NOTE} A man who says he is a student keeps messaging my cousin, who is 14, "
            "and asks for pictures; now he threatens to post one he already has."
        ),
        district=lahore,
        links="https://social.example.invalid/u/demo-network-handle",
        age_band="11-15",
    )
    web = receipt.report
    with transaction.atomic():
        actions.start_screening(people["cpo.lahore"], web)
        actions.reply_to_reporter(
            people["cpo.lahore"],
            web,
            "Thank you. A child-protection officer in Lahore has your report and will contact "
            "the family through the school. (Synthetic demo reply.)",
        )
    call = actions.record_helpline_call(
        people["helpline.1099"],
        channel="helpline_1099",
        caller_type="parent",
        district=lahore,
        age_band="6-10",
        concern="sexual_abuse",
        account=f"{DEMO_NOTE} A mother calls about a neighbour who takes children to his shop.",
        risk="high",
        helpline_referral="child_protection",
    )
    result = actions.import_cybertips(
        SYSTEM, io.BytesIO(_referral_xml(SHARED_HANDLE)), name="demo-cybertips.xml"
    )
    tip = CyberTip.objects.select_related("report").get(report_id_ncmec=DEMO_TIP_ID)
    return SeededIntake(
        receipt_code=receipt.receipt_code,
        passphrase=receipt.passphrase,
        web_report=web.reference,
        helpline_report=call.reference,
        cybertip_report=tip.report.reference,
        matches=result.matches,
    )
