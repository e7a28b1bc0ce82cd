"""Intake models: reports (public web, helpline, CyberTipline) in the district queues, the
conversation with a reporter, rate-limit counters, and CyberTipline referrals with their
identifiers, files, IP capture events and clusters."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.template.defaultfilters import linebreaksbr
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from muhafiz.cases.models import AgeBand, Case
from muhafiz.catalogue.models import District
from muhafiz.core.fields import EncryptedTextField
from muhafiz.core.permissions import Scope
from muhafiz.core.words import in_words, value_in_words


class Channel(models.TextChoices):
    WEB = "web", _("Public web report")
    HELPLINE_1099 = "helpline_1099", _("ZARRA helpline 1099")
    HELPLINE_1121 = "helpline_1121", _("Child protection helpline 1121")
    HELPLINE_15 = "helpline_15", _("Police helpline 15")
    CYBERTIPLINE = "cybertipline", _("CyberTipline referral")


HELPLINE_CHANNELS = (Channel.HELPLINE_1099, Channel.HELPLINE_1121, Channel.HELPLINE_15)


class Concern(models.TextChoices):
    """What the report is about; `missing_child` starts the ZARRA 2-hour FIR clock."""

    SEXUAL_ABUSE = "sexual_abuse", _("Sexual abuse of a child")
    ONLINE_MATERIAL = "online_material", _("Abuse pictures or videos online")
    GROOMING = "grooming", _("An adult contacting a child online for sex")
    BLACKMAIL = "blackmail", _("A child blackmailed with pictures")
    MISSING_CHILD = "missing_child", _("A child missing or abducted")
    TRAFFICKING = "trafficking", _("A child sold or trafficked")
    OTHER = "other", _("Something else")


# A report's concern → the case facts it carries into a new case.
CONCERN_FACTS: dict[str, tuple[str, ...]] = {
    Concern.SEXUAL_ABUSE: ("victim_under_18", "sexual_abuse"),
    Concern.ONLINE_MATERIAL: ("victim_under_18", "abuse_recorded", "material_online"),
    Concern.GROOMING: ("victim_under_18", "online_grooming"),
    Concern.BLACKMAIL: ("victim_under_18", "abuse_recorded", "online_grooming"),
    Concern.MISSING_CHILD: ("victim_under_18", "missing_child"),
    Concern.TRAFFICKING: ("victim_under_18", "trafficking"),
    Concern.OTHER: ("victim_under_18",),
}


class CallerType(models.TextChoices):
    CHILD = "child", _("The child")
    PARENT = "parent", _("Parent or guardian")
    RELATIVE = "relative", _("Other relative")
    TEACHER = "teacher", _("Teacher or school")
    NEIGHBOUR = "neighbour", _("Neighbour or friend")
    PROFESSIONAL = "professional", _("Doctor, police or social worker")
    ANONYMOUS = "anonymous", _("Did not say")


class Risk(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    IMMEDIATE = "immediate", _("Immediate danger")


class HelplineReferral(models.TextChoices):
    """What the helpline did during the call."""

    NONE = "none", _("None yet")
    POLICE = "police", _("Police (15) informed")
    CHILD_PROTECTION = "child_protection", _("Child protection unit informed")
    MEDICAL = "medical", _("Medical help / crisis cell")
    ZARRA = "zarra", _("ZARRA alert raised")


class ReportState(models.TextChoices):
    NEW = "new", _("New")
    SCREENING = "screening", _("Screening")
    REFERRED = "referred", _("Referred")
    CASE_OPENED = "case_opened", _("Case opened")
    CLOSED = "closed", _("Closed")


# Which state may follow which (the queue's workflow); case_opened only by opening a case.
NEXT_STATES: dict[str, frozenset[str]] = {
    ReportState.NEW: frozenset({ReportState.SCREENING, ReportState.CLOSED}),
    ReportState.SCREENING: frozenset({ReportState.REFERRED, ReportState.CLOSED}),
    ReportState.REFERRED: frozenset({ReportState.SCREENING, ReportState.CLOSED}),
    ReportState.CASE_OPENED: frozenset({ReportState.CLOSED}),
    ReportState.CLOSED: frozenset({ReportState.SCREENING}),
}


class ReferredTo(models.TextChoices):
    POLICE = "police", _("Police (SSOIU)")
    CHILD_PROTECTION = "child_protection", _("Child protection")


class CloseReason(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate of another report")
    NO_CONCERN = "no_concern", _("No child-protection concern found")
    NOT_ENOUGH = "not_enough", _("Not enough information to act on")
    OUTSIDE_PAKISTAN = "outside_pakistan", _("Outside Pakistan: passed to the country concerned")
    HANDLED_ELSEWHERE = "handled_elsewhere", _("Already handled by another agency")
    CONTENT_REMOVED = "content_removed", _("Online content removed; nothing further")
    REFERRAL_DONE = "referral_done", _("Referred and acknowledged by the receiving agency")


class Report(models.Model):
    """One report in a queue: a public web report, a helpline call or a CyberTipline referral.

    `district` is the queue; no district is the national queue. The account and the reporter's
    contact are encrypted (core.fields); the public reporter comes back with `receipt_code` and
    a passphrase kept only as a password hash.
    """

    # Encrypted or text fields: no column limit. `links` is the text as typed, one link a line
    # (the actions also allow at most MAX_LINKS links of MAX_LINK characters each).
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "account": 4000,
        "links": 10000,
        "reporter_name": 300,
        "reporter_contact": 300,
    }

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("district"),
    )
    concern = models.CharField(_("what it is about"), max_length=30, choices=Concern.choices)
    account = EncryptedTextField(_("what happened"), blank=True)
    # An account the platform wrote (a CyberTipline referral's summary), kept as lines of
    # untranslated messages with their values (core.words), JSON, encrypted as the account is:
    # put into the reader's language when read (`account_in_words`). Empty for an account a
    # person wrote, and for referrals imported before it existed: their `account` is shown.
    account_lines = EncryptedTextField(_("account as messages"), blank=True)
    occurred_on = models.DateField(_("when it happened"), null=True, blank=True)
    child_in_danger = models.BooleanField(_("a child is in danger now"), default=False)
    links = models.TextField(_("links to online content"), blank=True)
    age_band = models.CharField(
        _("child's age"), max_length=10, choices=AgeBand.choices, default=AgeBand.UNKNOWN
    )
    caller_type = models.CharField(
        _("caller"), max_length=20, choices=CallerType.choices, blank=True
    )
    risk = models.CharField(_("risk"), max_length=20, choices=Risk.choices, blank=True)
    helpline_referral = models.CharField(
        _("referral made during the call"),
        max_length=20,
        choices=HelplineReferral.choices,
        blank=True,
    )
    reporter_name = EncryptedTextField(_("reporter's name"), blank=True)
    reporter_contact = EncryptedTextField(_("how to contact the reporter"), blank=True)
    receipt_code = models.CharField(max_length=20, unique=True, null=True, blank=True)
    passphrase_hash = models.CharField(max_length=200, blank=True)

    state = models.CharField(
        _("state"), max_length=20, choices=ReportState.choices, default=ReportState.NEW
    )
    referred_to = models.CharField(
        _("referred to"), max_length=20, choices=ReferredTo.choices, blank=True
    )
    close_reason = models.CharField(
        _("reason closed"), max_length=30, choices=CloseReason.choices, blank=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    received_at = models.DateTimeField(_("received"))
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    due_rule = models.CharField(max_length=60, blank=True)
    screened_at = models.DateTimeField(null=True, blank=True)
    urgent_alerted_at = models.DateTimeField(null=True, blank=True)
    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="intake_report"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["district", "state", "-received_at"], name="intake_queue_idx"),
            models.Index(fields=["state", "due_at"], name="intake_due_idx"),
            models.Index(fields=["channel", "received_at"], name="intake_channel_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def audit_label(self) -> str:
        return self.reference

    def account_in_words(self) -> str:
        """The account in the reader's language: a summary the platform wrote is put into words
        line by line; an account a person wrote (or an older summary) reads as it was stored."""
        lines = self._lines()
        if lines is None:
            return str(self.account)
        return "\n".join(in_words(line["msg"], line.get("params") or {}) for line in lines)

    def account_html(self) -> str:
        """The account for a page: each line in the reader's language, each value the referral
        gave isolated (<bdi>) so that English data, numbers and times keep their order inside
        Urdu text; an account a person wrote, escaped, its lines kept."""
        lines = self._lines()
        if lines is None:
            return linebreaksbr(self.account, autoescape=True)
        out = []
        for line in lines:
            values = {
                key: format_html("<bdi>{}</bdi>", value_in_words(value))
                for key, value in (line.get("params") or {}).items()
            }
            template = conditional_escape(gettext(line["msg"]))
            try:
                out.append(template % values)
            except (KeyError, TypeError, ValueError):  # a translation that lost a place
                out.append(conditional_escape(line["msg"]) % values)
        return mark_safe("<br>".join(out))  # noqa: S308 - every part escaped above

    def _lines(self) -> list[dict[str, Any]] | None:
        if not self.account_lines:
            return None
        try:
            lines = json.loads(self.account_lines)
        except ValueError:
            return None
        return lines if isinstance(lines, list) else None

    def access_scope(self) -> Scope:
        if self.district is None:
            return Scope()  # the national queue: national jurisdiction only
        return Scope(district_id=self.district.pk, province_id=self.district.province_id)

    @property
    def is_open(self) -> bool:
        return self.state not in (ReportState.CLOSED, ReportState.CASE_OPENED)


class ReportMessage(models.Model):
    """One message between staff and a public reporter (replies, added information)."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"body": 2000}  # encrypted: no column limit

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="messages")
    from_staff = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = EncryptedTextField(_("message"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "pk"]


class ReportTransition(models.Model):
    """A report's move from one state to another, with who and why."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=20, choices=ReportState.choices)
    to_state = models.CharField(max_length=20, choices=ReportState.choices)
    note = models.CharField(_("note"), max_length=500, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["at", "pk"]


class Throttle(models.Model):
    """Hits of one rate-limited thing in one window. `key` is a keyed hash (never an address);
    rows older than two days are deleted as new ones are written."""

    scope = models.CharField(max_length=30)
    key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key", "window_start"], name="throttle_once")
        ]


# --- CyberTipline referrals -----------------------------------------------------------------------


class TipCluster(models.Model):
    """Referrals that share a screen name, profile URL, IP address, device id or file hash."""

    created_at = models.DateTimeField(auto_now_add=True)
    size = models.PositiveIntegerField(default=0)

    def audit_label(self) -> str:
        return f"cluster {self.pk}"


class CyberTip(models.Model):
    """One NCMEC CyberTipline referral: its metadata only, never a file's content."""

    report = models.OneToOneField(Report, on_delete=models.CASCADE, related_name="cybertip")
    report_id_ncmec = models.CharField(_("CyberTipline report id"), max_length=40, unique=True)
    incident_type = models.CharField(max_length=120, blank=True)
    incident_at = models.DateTimeField(null=True, blank=True)
    high_priority = models.BooleanField(default=False)
    annotations = models.JSONField(default=list, blank=True)
    esp_name = models.CharField(_("reporting platform"), max_length=200, blank=True)
    location_city = models.CharField(max_length=120, blank=True)
    location_region = models.CharField(max_length=120, blank=True)
    location_country = models.CharField(max_length=8, blank=True)
    cluster = models.ForeignKey(
        TipCluster, on_delete=models.PROTECT, null=True, blank=True, related_name="tips"
    )
    file_count = models.PositiveIntegerField(default=0)
    source_name = models.CharField(_("imported from"), max_length=300, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)

    def audit_label(self) -> str:
        return f"CT {self.report_id_ncmec}"


class TipIdentifierKind(models.TextChoices):
    SCREEN_NAME = "screen_name", _("Screen name")
    PROFILE_URL = "profile_url", _("Profile URL")
    IP = "ip", _("IP address")
    DEVICE = "device", _("Device id")
    FILE_HASH = "file_hash", _("File hash")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")


# Identifier kinds that join referrals into one cluster.
CLUSTERING_KINDS = frozenset(
    {
        TipIdentifierKind.SCREEN_NAME,
        TipIdentifierKind.PROFILE_URL,
        TipIdentifierKind.IP,
        TipIdentifierKind.DEVICE,
        TipIdentifierKind.FILE_HASH,
    }
)


class TipIdentifier(models.Model):
    """A normalized identifier of a reported user or file (lower case; hashes in hex)."""

    tip = models.ForeignKey(CyberTip, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=20, choices=TipIdentifierKind.choices)
    value = models.CharField(max_length=300)

    class Meta:
        indexes = [models.Index(fields=["kind", "value"], name="intake_tip_ident_idx")]
        constraints = [
            models.UniqueConstraint(fields=["tip", "kind", "value"], name="tip_identifier_once")
        ]


class TipFile(models.Model):
    """A file an ESP reported: its name, classification and hashes (never its content)."""

    tip = models.ForeignKey(CyberTip, on_delete=models.CASCADE, related_name="files")
    file_id = models.CharField(max_length=100, blank=True)
    original_file_name = models.CharField(max_length=300, blank=True)
    location = models.CharField(max_length=500, blank=True)
    viewed_by_esp = models.BooleanField(null=True)
    publicly_available = models.BooleanField(null=True)
    industry_classification = models.CharField(max_length=4, blank=True)
    hashes = models.JSONField(default=dict, blank=True)
    exif = models.JSONField(default=dict, blank=True)


class IpCaptureEvent(models.Model):
    """A login, upload or other event the ESP logged with an IP address: for legal requests."""

    tip = models.ForeignKey(CyberTip, on_delete=models.CASCADE, related_name="ip_events")
    ip_address = models.CharField(max_length=45)
    event_name = models.CharField(max_length=30, blank=True)
    occurred_at = models.DateTimeField(null=True, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    possible_proxy = models.BooleanField(null=True)

    class Meta:
        ordering = ["occurred_at", "pk"]


class TipMatchKind(models.TextChoices):
    BANK = "bank", _("Hash bank")
    EVIDENCE = "evidence", _("Case evidence")
    ACCUSED = "accused", _("Accused")


class TipMatch(models.Model):
    """A referral's identifier or file hash found in a bank, in a case's evidence (which scan),
    or among a case's accused (which one): `identifier_kind` and `value` are the referral's own
    (a `TipIdentifierKind` and its normalized value); the case, accused and scan are shown only
    to readers who may see that case (`intake.selectors.referral_matches`). Matches recorded
    before the value was kept have an empty `value`."""

    tip = models.ForeignKey(CyberTip, on_delete=models.CASCADE, related_name="matches")
    kind = models.CharField(max_length=20, choices=TipMatchKind.choices)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    scan = models.ForeignKey(
        "evidence.Scan", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accused_label = models.CharField(max_length=10, blank=True)
    identifier_kind = models.CharField(max_length=20, choices=TipIdentifierKind.choices, blank=True)
    value = models.CharField(max_length=300, blank=True)
    detail = models.CharField(max_length=200)

    class Meta:
        ordering = ["kind", "case_id", "accused_label", "scan_id", "value", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "tip",
                    "kind",
                    "case",
                    "scan",
                    "accused_label",
                    "identifier_kind",
                    "value",
                    "detail",
                ],
                name="tip_match_once",
            )
        ]

    def key(self) -> tuple[object, ...]:
        """What makes two matches the same (NULLs included, unlike the database's constraint)."""
        return (
            self.tip_id,
            self.kind,
            self.case_id,
            self.scan_id,
            self.accused_label,
            self.identifier_kind,
            self.value,
            self.detail,
        )
