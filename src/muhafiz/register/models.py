"""The register's tables: its rules as data (periods, notification deadlines), registrants and
their convictions, addresses, notifications, verification visits and compliance clocks,
case-bound check requests, vetting requests, due-process requests, incidents and alerts.

A registrant's identity (name, aliases, CNIC, phones, handles, addresses, what a notification
said) is encrypted (`core.fields`) and searched only by blind index; the registrant is known
everywhere else by a code (R-0000017).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from muhafiz.cases.models import Accused, Case
from muhafiz.catalogue.models import Agency, District, PoliceStation
from muhafiz.core.fields import BlindIndexField, EncryptedTextField
from muhafiz.core.permissions import Scope

REASON_LENGTH = 2000


def normalize_name(value: str) -> str:
    """A person's name for the blind index: lower case, single spaces (exact match only)."""
    return " ".join(value.casefold().split())


def cnic_digits(value: str) -> str:
    """A CNIC for the blind index: its digits only, however it was written."""
    return re.sub(r"\D", "", value)


CNIC_PURPOSE = "register.cnic"


# --- the rules as data --------------------------------------------------------------------------


class RuleSet(models.TextChoices):
    """The two shipped models of registration periods; a deployment chooses one
    (`MUHAFIZ_REGISTER_RULE_SET`), since Pakistan's Rules are not public in detail."""

    SORNA = "sorna", _("US SORNA tiers")
    UK = "uk", _("UK sentence length (Sexual Offences Act 2003)")


class PeriodRule(models.Model):
    """How long a conviction keeps someone registered, and how often they verify in person.

    A rule matches a conviction when one of its `offence_codes` was convicted (empty: any listed
    offence) and the custodial sentence falls within [min, max] months (`life_or_death` matches
    a life or death sentence). The most severe matching rule of the chosen rule set wins
    (`rank`, higher first). `period_months` empty: registration without end (reviewable).
    """

    rule_set = models.CharField(_("rule set"), max_length=10, choices=RuleSet.choices)
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_ur = models.CharField(_("name (Urdu)"), max_length=200, blank=True)
    tier = models.CharField(_("tier"), max_length=20, blank=True)
    rank = models.PositiveSmallIntegerField(_("severity rank"), default=0)
    offence_codes = models.JSONField(_("offences"), default=list, blank=True)
    min_sentence_months = models.PositiveIntegerField(_("sentence from (months)"), null=True)
    max_sentence_months = models.PositiveIntegerField(_("sentence up to (months)"), null=True)
    life_or_death = models.BooleanField(_("life or death sentence"), default=False)
    non_custodial = models.BooleanField(_("no custodial sentence"), default=False)
    period_months = models.PositiveIntegerField(_("period (months)"), null=True, blank=True)
    verification_interval_months = models.PositiveSmallIntegerField(
        _("in-person verification every (months)")
    )
    source = models.CharField(_("source"), max_length=300)
    verified = models.BooleanField(_("verified"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["rule_set", "-rank", "code"]

    def __str__(self) -> str:
        return self.code


class NoticeKind(models.TextChoices):
    INITIAL = "initial", _("Initial registration after release")
    NAME = "name", _("Change of name")
    ADDRESS = "address", _("Change of address")
    PHONE = "phone", _("Change of phone number")
    EMPLOYMENT = "employment", _("Change of employment")
    SCHOOL = "school", _("Change of school or college")
    TRAVEL = "travel", _("Foreign travel")


class NoticeRule(models.Model):
    """Within what time a registrant must report: after release, after each change, or (travel)
    before leaving. `amount` and `unit` are read by the proceedings clock engine."""

    kind = models.CharField(_("what"), max_length=20, choices=NoticeKind.choices, unique=True)
    amount = models.PositiveIntegerField(_("limit"))
    unit = models.CharField(_("unit"), max_length=20)
    in_advance = models.BooleanField(_("in advance"), default=False)
    source = models.CharField(_("source"), max_length=300)
    verified = models.BooleanField(_("verified"), default=False)

    class Meta:
        ordering = ["kind"]

    def __str__(self) -> str:
        return self.kind


# --- registrants --------------------------------------------------------------------------------


class RegistrantStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    ACTIVE = "active", _("Registered")
    SUSPENDED = "suspended", _("Suspended (acquitted on appeal)")
    REMOVED = "removed", _("Removed")


class Compliance(models.TextChoices):
    COMPLIANT = "compliant", _("Compliant")
    NON_COMPLIANT = "non_compliant", _("Non-compliant")
    ABSCONDER = "absconder", _("Absconder")


class Registrant(models.Model):
    """One person on the register, however many convictions they have (deduplicated by CNIC)."""

    IDENTITY_FIELDS = ("name", "aliases", "cnic")

    code = models.CharField(_("registrant code"), max_length=20, unique=True)
    name = EncryptedTextField(_("name"), blank=True)
    name_index = BlindIndexField(source="name", normalizer=normalize_name, purpose="register.name")
    aliases = EncryptedTextField(_("aliases"), blank=True)
    cnic = EncryptedTextField(_("CNIC"), blank=True)
    cnic_index = BlindIndexField(source="cnic", normalizer=cnic_digits, purpose=CNIC_PURPOSE)
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=RegistrantStatus.choices,
        default=RegistrantStatus.PENDING,
    )
    compliance = models.CharField(
        _("compliance"), max_length=16, choices=Compliance.choices, default=Compliance.COMPLIANT
    )
    non_compliant_since = models.DateTimeField(null=True, blank=True)
    absconder_since = models.DateTimeField(null=True, blank=True)
    # The district whose police verify the registrant: of the last verified address.
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    last_verified_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(_("released from custody"), null=True, blank=True)
    period_ends_on = models.DateField(_("registered until"), null=True, blank=True)
    indefinite = models.BooleanField(_("registered without end"), default=False)
    removal_due = models.BooleanField(_("removal due"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removal_reason = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["code"]
        indexes = [
            models.Index(fields=["status", "compliance"], name="registrant_state_idx"),
            models.Index(
                fields=["non_compliant_since"],
                name="registrant_noncompliant_idx",
                condition=models.Q(compliance="non_compliant"),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def audit_label(self) -> str:
        return self.code

    def access_scope(self) -> Scope:
        district = self.district
        return Scope(
            district_id=self.district_id,
            province_id=district.province_id if district is not None else None,
        )


class RegistrantIdentifier(models.Model):
    """A phone number or online handle of a registrant (secondary keys of a check)."""

    registrant = models.ForeignKey(Registrant, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=10)
    value = EncryptedTextField()
    value_index = BlindIndexField(source="value", purpose="register.identifier")

    class Meta:
        indexes = [models.Index(fields=["kind", "value_index"], name="registrant_identifier_idx")]


class ConvictionStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    CONFIRMED = "confirmed", _("Confirmed")
    SUSPENDED = "suspended", _("Suspended (acquitted on appeal)")


class SentenceKind(models.TextChoices):
    CUSTODIAL = "custodial", _("Imprisonment")
    LIFE = "life", _("Imprisonment for life")
    DEATH = "death", _("Death")
    NON_CUSTODIAL = "non_custodial", _("No imprisonment (fine)")
    UNKNOWN = "unknown", _("Not understood: the officer sets it")


class Conviction(models.Model):
    """A conviction for a listed offence, from a judgment recorded in proceedings (the only way
    one is made), with the period the chosen rule set gives it."""

    registrant = models.ForeignKey(Registrant, on_delete=models.CASCADE, related_name="convictions")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    accused = models.ForeignKey(
        Accused, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    judgment_event_id = models.PositiveBigIntegerField(unique=True)
    court = models.ForeignKey(Agency, on_delete=models.PROTECT, null=True, related_name="+")
    convicted_at = models.DateTimeField(_("convicted"))
    offence_codes = models.JSONField(_("sections"), default=list)
    sentence = models.CharField(_("sentence"), max_length=300)
    sentence_kind = models.CharField(max_length=16, choices=SentenceKind.choices)
    sentence_months = models.PositiveIntegerField(null=True, blank=True)
    rule = models.ForeignKey(
        PeriodRule, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rule_set = models.CharField(max_length=10, choices=RuleSet.choices)
    tier = models.CharField(_("tier"), max_length=20, blank=True)
    period_months = models.PositiveIntegerField(null=True, blank=True)
    indefinite = models.BooleanField(default=False)
    verification_interval_months = models.PositiveSmallIntegerField(default=12)
    status = models.CharField(
        max_length=12, choices=ConvictionStatus.choices, default=ConvictionStatus.PENDING
    )
    appeal_event_id = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["convicted_at", "pk"]

    def audit_label(self) -> str:
        return f"{self.registrant.code} conviction {self.pk}"


class HandledJudgment(models.Model):
    """A judgment the register has acted on, by the proceedings event's id only: survives the
    removal of the entry (which erases the conviction) so it is never entered twice."""

    event_id = models.PositiveBigIntegerField(unique=True)
    handled_at = models.DateTimeField(auto_now_add=True)


class Address(models.Model):
    """Where a registrant lives or lived; verified (by whom, when) or only reported."""

    registrant = models.ForeignKey(Registrant, on_delete=models.CASCADE, related_name="addresses")
    address = EncryptedTextField(_("address"))
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    police_station = models.ForeignKey(
        PoliceStation, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    source = models.CharField(max_length=20)  # case, notification, verification
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-since", "-pk"]


class HowReceived(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    POLICE_STATION = "police_station", _("At the police station")


class Notification(models.Model):
    """A change the registrant reported (or a journey announced), with its deadline."""

    registrant = models.ForeignKey(
        Registrant, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("what changed"), max_length=20, choices=NoticeKind.choices)
    details = EncryptedTextField(_("details"), blank=True)
    changed_on = models.DateField(_("date of the change (or of departure)"))
    received_at = models.DateTimeField(_("received"))
    how = models.CharField(_("how"), max_length=20, choices=HowReceived.choices)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    due_at = models.DateTimeField(_("due"))
    late = models.BooleanField(_("late"), default=False)

    class Meta:
        ordering = ["-received_at", "-pk"]


class VerificationOutcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Found at the registered address")
    MOVED = "moved", _("Found at a new address")
    NOT_FOUND = "not_found", _("Not found")


class Verification(models.Model):
    """An in-person verification visit. `photo_reference` points to a photograph kept outside
    Muhafiz; no image is stored."""

    registrant = models.ForeignKey(
        Registrant, on_delete=models.CASCADE, related_name="verifications"
    )
    visited_at = models.DateTimeField(_("visited"))
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=VerificationOutcome.choices)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    photo_reference = models.CharField(_("photo reference"), max_length=100, blank=True)

    class Meta:
        ordering = ["-visited_at", "-pk"]


class ObligationKind(models.TextChoices):
    INITIAL = "initial", _("Initial registration")
    VERIFICATION = "verification", _("In-person verification")
    NOTIFICATION = "notification", _("Notification of a change")


class Obligation(models.Model):
    """A compliance clock: something the registrant owes by `due_at`. Its state comes from the
    proceedings clock engine (`proceedings.clocks.clock_state`) with an injected `now`."""

    registrant = models.ForeignKey(Registrant, on_delete=models.CASCADE, related_name="obligations")
    kind = models.CharField(max_length=16, choices=ObligationKind.choices)
    notice_kind = models.CharField(max_length=20, blank=True)
    started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    due_soon_at = models.DateTimeField()
    met_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=12, default="pending")

    class Meta:
        ordering = ["due_at"]
        indexes = [
            models.Index(
                fields=["due_at"],
                name="obligation_open_due_idx",
                condition=models.Q(met_at__isnull=True),
            ),
            models.Index(fields=["registrant", "state"], name="obligation_registrant_idx"),
        ]


# --- case-bound checks --------------------------------------------------------------------------


class CheckStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting the prosecutor")
    APPROVED = "approved", _("Approved: answered")
    REFUSED = "refused", _("Refused")


class CheckRequest(models.Model):
    """An investigator's request to check a named accused of their case against the register,
    decided by the District Public Prosecutor within 48 hours; the result is kept here."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    accused = models.ForeignKey(Accused, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("why the check is needed"), max_length=REASON_LENGTH)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=CheckStatus.choices, default=CheckStatus.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=REASON_LENGTH, blank=True)
    # The limited answer: found or not, convictions, compliance, last verified district.
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status", "due_at"], name="check_status_due_idx")]

    def audit_label(self) -> str:
        return f"check {self.pk} {self.case.reference} {self.accused.label}"

    def access_scope(self) -> Scope:
        return self.case.access_scope()


# --- vetting ------------------------------------------------------------------------------------


class VettingAnswer(models.TextChoices):
    NONE = "no_listed_conviction", _("No listed conviction")
    EXISTS = (
        "listed_conviction_exists",
        _("A listed conviction exists: the applicant may ask the register office for the details"),
    )


class VettingRequest(models.Model):
    """A child-facing employer's yes/no question about an applicant who consented."""

    receipt = models.CharField(max_length=20, unique=True)
    organisation = models.CharField(_("organisation"), max_length=200)
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_by_client = models.ForeignKey(
        "accounts.ApiClient", on_delete=models.PROTECT, null=True, related_name="+"
    )
    # The applicant is kept only as the keyed hash of their CNIC (as the register indexes it),
    # so that they can later be shown every answer given about them; no name, no CNIC.
    applicant_key = models.CharField(max_length=120, db_index=True)
    position = models.CharField(_("position applied for"), max_length=200)
    consent_reference = models.CharField(_("consent form reference"), max_length=100)
    consent_given_on = models.DateField(_("consent given on"))
    answer = models.CharField(max_length=30, choices=VettingAnswer.choices)
    answered_at = models.DateTimeField()

    class Meta:
        ordering = ["-answered_at", "-pk"]

    def audit_label(self) -> str:
        return f"vetting {self.receipt}"


# --- due process, incidents, alerts ------------------------------------------------------------


class DueProcessKind(models.TextChoices):
    CORRECTION = "correction", _("Correction of the record")
    APPEAL_ENTRY = "appeal_entry", _("Appeal against the entry")
    APPEAL_TIER = "appeal_tier", _("Appeal against the tier or period")


class DueProcessState(models.TextChoices):
    RECEIVED = "received", _("Received")
    UNDER_REVIEW = "under_review", _("Under review")
    DECIDED = "decided", _("Decided")


class DueProcessRequest(models.Model):
    registrant = models.ForeignKey(Registrant, on_delete=models.CASCADE, related_name="due_process")
    kind = models.CharField(max_length=20, choices=DueProcessKind.choices)
    grounds = EncryptedTextField(_("grounds"))
    submitted_through = models.CharField(_("submitted through"), max_length=20)  # officer/counsel
    state = models.CharField(
        max_length=16, choices=DueProcessState.choices, default=DueProcessState.RECEIVED
    )
    received_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    upheld = models.BooleanField(null=True)
    decision_reasons = EncryptedTextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-received_at", "-pk"]

    def audit_label(self) -> str:
        return f"{self.registrant.code} {self.kind} {self.pk}"


class IncidentKind(models.TextChoices):
    HARASSMENT = "harassment", _("Registrant harassed because of registration")
    DISCLOSURE = "disclosure", _("Disclosure outside the rules")


class Incident(models.Model):
    """A report that a registrant was harassed, or that register data left the rules. Kept
    when the entry is removed, without the person's details (the registrant code only)."""

    kind = models.CharField(max_length=20, choices=IncidentKind.choices)
    registrant_code = models.CharField(max_length=20, blank=True)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    occurred_on = models.DateField()
    description = EncryptedTextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def audit_label(self) -> str:
        return f"incident {self.pk}"


class AlertKind(models.TextChoices):
    PENDING_ENTRY = "pending_entry", _("A conviction awaits review")
    REMOVAL_QUEUED = "removal_queued", _("Acquitted on appeal: removal queued")
    CHECK_REQUESTED = "check_requested", _("A register check awaits your decision")
    CHECK_DECIDED = "check_decided", _("Your register check was decided")
    ABSCONDER = "absconder", _("Registrant flagged as absconder")


class RegisterAlert(models.Model):
    """An in-app notice of the register to one person; `dedupe_key` makes it once only."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="register_alerts"
    )
    kind = models.CharField(max_length=20, choices=AlertKind.choices)
    message = models.CharField(max_length=300)
    link = models.CharField(max_length=200, blank=True)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="register_alert_once")
        ]
