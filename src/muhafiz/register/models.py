"""The register's tables: its rules as data (periods, notification deadlines), registrants and
their convictions, addresses, notifications, verification visits and compliance clocks,
case-bound check requests, vetting requests, due-process requests, incidents and alerts.

A registrant's identity (name, aliases, CNIC, phones, handles, addresses, what a notification
said) is encrypted (`core.fields`) and searched only by blind index; the registrant is known
everywhere else by a code (R-0000017).
"""

from __future__ import annotations

import datetime
import re
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from muhafiz.cases.models import Accused, Case
from muhafiz.catalogue.models import Agency, District, PoliceStation
from muhafiz.core.fields import BlindIndexField, EncryptedTextField
from muhafiz.core.permissions import Scope
from muhafiz.core.words import in_words
from muhafiz.proceedings.models import CLOCK_STATES

REASON_LENGTH = 2000
# What the register office writes down when an applicant asks which vetting answers were given
# about them (audited with the read, kept nowhere else).
APPLICANT_PURPOSE_MAX_LENGTH = 500
# The offence codes a period rule applies to, typed comma-separated on its page.
OFFENCE_CODES_MAX_LENGTH = 500
# The shipped rules are in force from before any conviction the register holds.
RULES_SINCE = datetime.date(2000, 1, 1)


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


class VersionedRule(models.Model):
    """A rule that is changed by adding versions, never by rewriting one: each version is in
    force from `in_force_from` until the next one starts (`in_force_until`), with who changed
    it and why. The rules are national: only a national register office changes them."""

    version = models.PositiveIntegerField(_("version"), default=1)
    in_force_from = models.DateField(_("in force from"), default=RULES_SINCE)
    in_force_until = models.DateField(_("in force until"), null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    change_reason = models.CharField(
        _("reason for the change"), max_length=REASON_LENGTH, blank=True
    )

    class Meta:
        abstract = True

    def access_scope(self) -> Scope:
        return Scope()


class PeriodRule(VersionedRule):
    """How long a conviction keeps someone registered, and how often they verify in person.

    A rule matches a conviction when one of its `offence_codes` was convicted (empty: any listed
    offence) and the custodial sentence falls within [min, max] months (`life_or_death` matches
    a life or death sentence). The most severe matching rule of the chosen rule set wins
    (`rank`, higher first). `period_months` empty: registration without end (reviewable).

    Versioned: an edit never changes a row a conviction points to; it closes the version in
    force (`in_force_until`) and adds the next (`version` + 1) from `in_force_from`. A
    conviction takes the version in force on its date and keeps it (`Conviction.rule`).
    `review_after_months`: a review may be asked that long after release (UK: indefinite
    registration after 15 years; SORNA: tier I after 10 clean years), decided within
    `review_decision_days`; granted, it shortens the period by `review_reduction_months`, or
    (empty) ends the registration.
    """

    rule_set = models.CharField(_("rule set"), max_length=10, choices=RuleSet.choices)
    code = models.CharField(_("code"), max_length=40)
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
    review_after_months = models.PositiveIntegerField(
        _("review may be asked after (months from release)"), null=True, blank=True
    )
    review_reduction_months = models.PositiveIntegerField(
        _("a granted review shortens the period by (months; empty: ends it)"),
        null=True,
        blank=True,
    )
    review_decision_days = models.PositiveSmallIntegerField(
        _("review decided within (days)"), null=True, blank=True
    )
    source = models.CharField(_("source"), max_length=300)
    verified = models.BooleanField(_("verified"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta(VersionedRule.Meta):
        ordering = ["rule_set", "-rank", "code", "-version"]
        verbose_name = _("period rule")
        verbose_name_plural = _("period rules")
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="period_rule_version_once")
        ]

    def __str__(self) -> str:
        return self.code

    def audit_label(self) -> str:
        return f"rule {self.code} v{self.version}"


class NoticeKind(models.TextChoices):
    INITIAL = "initial", _("Initial registration after release")
    NAME = "name", _("Change of name")
    ADDRESS = "address", _("Change of address")
    PHONE = "phone", _("Change of phone number")
    EMPLOYMENT = "employment", _("Change of employment")
    SCHOOL = "school", _("Change of school or college")
    TRAVEL = "travel", _("Foreign travel")


class NoticeUnit(models.TextChoices):
    """The units a notice's limit is counted in (the proceedings clock engine reads the code)."""

    HOURS = "hours", _("hours")
    DAYS = "days", _("days")
    BUSINESS_DAYS = "business_days", _("business days")


class NoticeRule(VersionedRule):
    """Within what time a registrant must report: after release, after each change, or (travel)
    before leaving. `amount` and `unit` are read by the proceedings clock engine."""

    kind = models.CharField(_("what"), max_length=20, choices=NoticeKind.choices)
    amount = models.PositiveIntegerField(_("limit"))
    unit = models.CharField(_("unit"), max_length=20, choices=NoticeUnit.choices)
    in_advance = models.BooleanField(_("in advance"), default=False)
    source = models.CharField(_("source"), max_length=300)
    verified = models.BooleanField(_("verified"), default=False)

    class Meta(VersionedRule.Meta):
        ordering = ["kind", "-version"]
        verbose_name = _("notice rule")
        verbose_name_plural = _("notice rules")
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="notice_rule_version_once")
        ]

    def __str__(self) -> str:
        return self.kind

    def audit_label(self) -> str:
        return f"notice rule {self.kind} v{self.version}"


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
    # Encrypted: no column limit; a name corrected on a due-process decision.
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"name": 200}

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
    non_compliant_since = models.DateTimeField(_("non-compliant since"), null=True, blank=True)
    absconder_since = models.DateTimeField(_("absconder since"), null=True, blank=True)
    # The district whose police verify the registrant: of the last verified address.
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("district"),
    )
    last_verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    released_at = models.DateTimeField(_("released from custody"), null=True, blank=True)
    period_ends_on = models.DateField(_("registered until"), null=True, blank=True)
    indefinite = models.BooleanField(_("registered without end"), default=False)
    removal_due = models.BooleanField(_("removal due"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    removal_reason = models.CharField(_("reason for removal"), max_length=20, blank=True)

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

    registrant = models.ForeignKey(
        Registrant,
        on_delete=models.CASCADE,
        related_name="identifiers",
        verbose_name=_("registrant"),
    )
    kind = models.CharField(max_length=10, verbose_name=_("kind"))
    value = EncryptedTextField(_("value"))
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

    registrant = models.ForeignKey(
        Registrant,
        on_delete=models.CASCADE,
        related_name="convictions",
        verbose_name=_("registrant"),
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="+", verbose_name=_("case")
    )
    accused = models.ForeignKey(
        Accused,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("accused"),
    )
    judgment_event_id = models.PositiveBigIntegerField(
        _("judgment (proceedings event)"), unique=True
    )
    court = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("court")
    )
    convicted_at = models.DateTimeField(_("convicted"))
    offence_codes = models.JSONField(_("sections"), default=list)
    sentence = models.CharField(_("sentence"), max_length=300)
    sentence_kind = models.CharField(
        _("kind of sentence"), max_length=16, choices=SentenceKind.choices
    )
    sentence_months = models.PositiveIntegerField(_("sentence (months)"), null=True, blank=True)
    rule = models.ForeignKey(
        PeriodRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("period rule"),
    )
    rule_set = models.CharField(_("rule set"), max_length=10, choices=RuleSet.choices)
    tier = models.CharField(_("tier"), max_length=20, blank=True)
    period_months = models.PositiveIntegerField(_("period (months)"), null=True, blank=True)
    indefinite = models.BooleanField(_("without end"), default=False)
    verification_interval_months = models.PositiveSmallIntegerField(
        _("in-person verification every (months)"), default=12
    )
    status = models.CharField(
        max_length=12,
        choices=ConvictionStatus.choices,
        default=ConvictionStatus.PENDING,
        verbose_name=_("status"),
    )
    appeal_event_id = models.PositiveBigIntegerField(
        _("appeal (proceedings event)"), null=True, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confirmed by"),
    )

    class Meta:
        ordering = ["convicted_at", "pk"]

    def audit_label(self) -> str:
        return f"{self.registrant.code} conviction {self.pk}"


class HandledJudgment(models.Model):
    """A judgment the register has acted on, by the proceedings event's id only: survives the
    removal of the entry (which erases the conviction) so it is never entered twice."""

    event_id = models.PositiveBigIntegerField(_("judgment (proceedings event)"), unique=True)
    handled_at = models.DateTimeField(_("handled"), auto_now_add=True)


class Address(models.Model):
    """Where a registrant lives or lived; verified (by whom, when) or only reported."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"address": 1000}  # encrypted: no column limit

    registrant = models.ForeignKey(
        Registrant, on_delete=models.CASCADE, related_name="addresses", verbose_name=_("registrant")
    )
    address = EncryptedTextField(_("address"))
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    police_station = models.ForeignKey(
        PoliceStation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("police station"),
    )
    since = models.DateField(_("since"))
    until = models.DateField(_("until"), null=True, blank=True)
    source = models.CharField(
        max_length=20, verbose_name=_("source")
    )  # case, notification, verification
    verified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("verified"))
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )

    class Meta:
        ordering = ["-since", "-pk"]


class HowReceived(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    POLICE_STATION = "police_station", _("At the police station")


class Notification(models.Model):
    """A change the registrant reported (or a journey announced), with its deadline."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"details": 2000}  # encrypted: no column limit

    registrant = models.ForeignKey(
        Registrant,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("registrant"),
    )
    kind = models.CharField(_("what changed"), max_length=20, choices=NoticeKind.choices)
    details = EncryptedTextField(_("details"), blank=True)
    changed_on = models.DateField(_("date of the change (or of departure)"))
    received_at = models.DateTimeField(_("received"))
    how = models.CharField(_("how"), max_length=20, choices=HowReceived.choices)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("received by"),
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
        Registrant,
        on_delete=models.CASCADE,
        related_name="verifications",
        verbose_name=_("registrant"),
    )
    visited_at = models.DateTimeField(_("visited"))
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("officer"),
    )
    outcome = models.CharField(_("outcome"), max_length=12, choices=VerificationOutcome.choices)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
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

    registrant = models.ForeignKey(
        Registrant,
        on_delete=models.CASCADE,
        related_name="obligations",
        verbose_name=_("registrant"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=ObligationKind.choices)
    notice_kind = models.CharField(_("what is to be notified"), max_length=20, blank=True)
    started_at = models.DateTimeField(_("started"))
    due_at = models.DateTimeField(_("due"))
    due_soon_at = models.DateTimeField(_("due soon from"))
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=12, choices=CLOCK_STATES, default="pending")

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

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="+", verbose_name=_("case")
    )
    accused = models.ForeignKey(
        Accused, on_delete=models.PROTECT, related_name="+", verbose_name=_("accused")
    )
    reason = models.CharField(_("why the check is needed"), max_length=REASON_LENGTH)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested"))
    due_at = models.DateTimeField(_("decision due"))
    status = models.CharField(
        max_length=12,
        choices=CheckStatus.choices,
        default=CheckStatus.REQUESTED,
        verbose_name=_("status"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.CharField(
        _("reason for the decision"), max_length=REASON_LENGTH, blank=True
    )
    # The limited answer: found or not, convictions, compliance, last verified district.
    result = models.JSONField(_("result"), null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["status", "due_at"], name="check_status_due_idx")]

    def audit_label(self) -> str:
        return f"check {self.pk} {self.case.reference} {self.accused.label}"

    def access_scope(self) -> Scope:
        return self.case.access_scope()


# --- vetting ------------------------------------------------------------------------------------


class OrganisationKind(models.TextChoices):
    SCHOOL = "school", _("School")
    MADRASSA = "madrassa", _("Madrassa")
    ORPHANAGE = "orphanage", _("Orphanage or children's home")
    NGO = "ngo", _("NGO working with children")
    OTHER = "other", _("Other child-facing organisation")


class OrganisationStatus(models.TextChoices):
    APPLIED = "applied", _("Applied: awaiting the register office")
    APPROVED = "approved", _("Approved for vetting")
    REFUSED = "refused", _("Refused")
    SUSPENDED = "suspended", _("Suspended")


class Organisation(models.Model):
    """A child-facing employer registered for vetting: it applies (through one of its staff),
    a register officer whose jurisdiction covers its district approves it; only then may its
    staff or its API client ask the yes/no question, and every receipt names it."""

    name = models.CharField(_("organisation"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=OrganisationKind.choices)
    registration_number = models.CharField(_("registration number"), max_length=60)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district")
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=OrganisationStatus.choices,
        default=OrganisationStatus.APPLIED,
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("applied by"),
    )
    applied_at = models.DateTimeField(_("applied"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.CharField(_("reason"), max_length=REASON_LENGTH, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "registration_number"], name="organisation_registered_once"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def audit_label(self) -> str:
        return f"organisation {self.pk} {self.registration_number}"

    def access_scope(self) -> Scope:
        return Scope(district_id=self.district_id, province_id=self.district.province_id)


class OrganisationMember(models.Model):
    """Who asks on behalf of an organisation: one staff member (employer role) or one API
    client (`vetting_employer` profile) belongs to one organisation."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="members",
        verbose_name=_("organisation"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="vetting_membership",
        verbose_name=_("staff member"),
    )
    client = models.OneToOneField(
        "accounts.ApiClient",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="vetting_membership",
        verbose_name=_("API client"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation member")
        verbose_name_plural = _("organisation members")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, client__isnull=True)
                | models.Q(user__isnull=True, client__isnull=False),
                name="organisation_member_one_principal",
            )
        ]

    def audit_label(self) -> str:
        return f"organisation {self.organisation_id} member {self.pk}"


class VettingAnswer(models.TextChoices):
    NONE = "no_listed_conviction", _("No listed conviction")
    EXISTS = (
        "listed_conviction_exists",
        _("A listed conviction exists: the applicant may ask the register office for the details"),
    )


class VettingRequest(models.Model):
    """A child-facing employer's yes/no question about an applicant who consented."""

    receipt = models.CharField(_("receipt"), max_length=20, unique=True)
    # The registered organisation that asked, and its name as the receipt gave it.
    organisation_ref = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        related_name="vetting_requests",
        verbose_name=_("registered organisation"),
    )
    organisation = models.CharField(_("organisation"), max_length=200)
    requested_by_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("asked by (staff)"),
    )
    requested_by_client = models.ForeignKey(
        "accounts.ApiClient",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        verbose_name=_("asked by (API client)"),
    )
    # The applicant is kept only as the keyed hash of their CNIC (as the register indexes it),
    # so that they can later be shown every answer given about them; no name, no CNIC.
    applicant_key = models.CharField(
        _("applicant (keyed hash of the CNIC)"), max_length=120, db_index=True
    )
    position = models.CharField(_("position applied for"), max_length=200)
    consent_reference = models.CharField(_("consent form reference"), max_length=100)
    consent_given_on = models.DateField(_("consent given on"))
    answer = models.CharField(_("answer"), max_length=30, choices=VettingAnswer.choices)
    answered_at = models.DateTimeField(_("answered"))

    class Meta:
        ordering = ["-answered_at", "-pk"]

    def audit_label(self) -> str:
        return f"vetting {self.receipt}"


# --- due process, incidents, alerts ------------------------------------------------------------


class DueProcessKind(models.TextChoices):
    CORRECTION = "correction", _("Correction of the record")
    APPEAL_ENTRY = "appeal_entry", _("Appeal against the entry")
    APPEAL_TIER = "appeal_tier", _("Appeal against the tier or period")
    # Reviews (not appeals): a right that opens with time, decided on the rule's clock.
    TIER_REDUCTION = "tier_reduction", _("Reduction of the period after a clean record (SORNA)")
    INDEFINITE_REVIEW = "indefinite_review", _("Review of indefinite registration (UK)")


REVIEW_KINDS = (DueProcessKind.TIER_REDUCTION, DueProcessKind.INDEFINITE_REVIEW)


class DueProcessState(models.TextChoices):
    RECEIVED = "received", _("Received")
    UNDER_REVIEW = "under_review", _("Under review")
    DECIDED = "decided", _("Decided")


class DueProcessRequest(models.Model):
    # Encrypted: no column limit.
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "grounds": REASON_LENGTH,
        "decision_reasons": REASON_LENGTH,
    }

    registrant = models.ForeignKey(
        Registrant,
        on_delete=models.CASCADE,
        related_name="due_process",
        verbose_name=_("registrant"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=DueProcessKind.choices)
    grounds = EncryptedTextField(_("grounds"))
    submitted_through = models.CharField(_("submitted through"), max_length=20)  # officer/counsel
    state = models.CharField(
        max_length=16,
        choices=DueProcessState.choices,
        default=DueProcessState.RECEIVED,
        verbose_name=_("state"),
    )
    received_at = models.DateTimeField(_("received"))
    # Reviews: the decision's clock (the rule's `review_decision_days` from receipt).
    due_at = models.DateTimeField(_("decision due"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    upheld = models.BooleanField(_("upheld"), null=True)
    decision_reasons = EncryptedTextField(_("reasons for the decision"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
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

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"description": 2000}  # encrypted: no column limit

    kind = models.CharField(_("kind"), max_length=20, choices=IncidentKind.choices)
    registrant_code = models.CharField(_("registrant code"), max_length=20, blank=True)
    district = models.ForeignKey(
        District,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("district"),
    )
    occurred_on = models.DateField(_("occurred on"))
    description = EncryptedTextField(_("description"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)

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
    CHECK_OVERDUE = "check_overdue", _("A register check is past its 48 hours")
    REVIEW_OVERDUE = "review_overdue", _("A review is past its decision date")
    ORGANISATION = "organisation", _("An organisation asks to be registered for vetting")


class RegisterAlert(models.Model):
    """An in-app notice of the register to one person; `dedupe_key` makes it once only."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="register_alerts",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=AlertKind.choices)
    # The untranslated text with `%(name)s` places, and their values (codes and references only):
    # put into the reader's language when shown (`text`), not in the language of whoever raised it.
    message = models.CharField(_("message"), max_length=300)
    params = models.JSONField(_("message values"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=200, blank=True)
    dedupe_key = models.CharField(_("once-only key"), max_length=200)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="register_alert_once")
        ]

    def text(self) -> str:
        """The message in the active language, its places filled. An alert written before
        messages kept their values (`params` empty) is shown as it was stored."""
        return in_words(self.message, self.params)
