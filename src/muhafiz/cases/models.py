"""Case models: the case and its recorded facts, its team, closure history, section rules,
the parties (protected victims, accused, witnesses), referrals and in-app alerts."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from muhafiz.catalogue.models import Agency, District, Offence, PoliceStation
from muhafiz.core.fields import BlindIndexField, EncryptedDateField, EncryptedTextField
from muhafiz.core.permissions import Scope
from muhafiz.core.words import in_words

# A CNIC or B-form number as typed (dashes, spaces): the one input limit of victims' and accused
# persons' CNICs, on pages and in the API.
CNIC_MAX_LENGTH = 40
# The purpose stated to read a victim's identity (it goes into the audit log as the reason).
IDENTITY_PURPOSE_MAX_LENGTH = 500
# How many phone numbers a victim or a witness has on record.
PERSON_PHONES_MAX = 5
# How many of each identifier (phones, handles, e-mails) an accused has on record; CNICs fewer.
ACCUSED_IDENTIFIERS_MAX = 20
ACCUSED_CNICS_MAX = 3


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class CaseFact(models.TextChoices):
    """Facts recorded on a case; each is a boolean field of `Case` with the same name.

    Section rules (`SectionRule`) and statutory clocks (`DeadlineRule.applies_when`) name these.
    """

    VICTIM_UNDER_18 = "victim_under_18", _("Victim under 18")
    SEXUAL_ABUSE = "sexual_abuse", _("Sexual abuse took place")
    ABUSE_RECORDED = "abuse_recorded", _("Abuse was photographed or filmed")
    MATERIAL_ONLINE = "material_online", _("Material distributed online")
    MISSING_CHILD = "missing_child", _("Child missing or abducted")
    ONLINE_GROOMING = "online_grooming", _("Child groomed online")
    TRAFFICKING = "trafficking", _("Child trafficked")
    COMMERCIAL_EXPLOITATION = "commercial_exploitation", _("Commercial sexual exploitation")
    EXPOSURE_TO_SEDUCTION = "exposure_to_seduction", _("Child exposed to obscene material")
    CRUELTY = "cruelty", _("Cruelty to a child")


FACT_FIELDS: tuple[str, ...] = tuple(CaseFact.values)


class Case(models.Model):
    """One case. `reference` is district–year–sequence, e.g. KSR-2026-0017."""

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="cases", verbose_name=_("district")
    )
    police_station = models.ForeignKey(
        PoliceStation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("police station"),
    )
    agency = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("investigating agency"),
    )
    fir_number = models.CharField(_("FIR number"), max_length=40, blank=True)
    offences = models.ManyToManyField(
        Offence, blank=True, related_name="cases", verbose_name=_("offences")
    )
    summary = models.TextField(
        _("summary"),
        max_length=4000,
        blank=True,
        help_text=_("What happened, without names: victims are referred to by their codes."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    reported_at = models.DateTimeField(_("report received"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    # Recorded facts (see CaseFact): they drive section suggestions and some statutory clocks.
    victim_under_18 = models.BooleanField(CaseFact.VICTIM_UNDER_18.label, default=False)
    sexual_abuse = models.BooleanField(CaseFact.SEXUAL_ABUSE.label, default=False)
    abuse_recorded = models.BooleanField(CaseFact.ABUSE_RECORDED.label, default=False)
    material_online = models.BooleanField(CaseFact.MATERIAL_ONLINE.label, default=False)
    missing_child = models.BooleanField(CaseFact.MISSING_CHILD.label, default=False)
    online_grooming = models.BooleanField(CaseFact.ONLINE_GROOMING.label, default=False)
    trafficking = models.BooleanField(CaseFact.TRAFFICKING.label, default=False)
    commercial_exploitation = models.BooleanField(
        CaseFact.COMMERCIAL_EXPLOITATION.label, default=False
    )
    exposure_to_seduction = models.BooleanField(CaseFact.EXPOSURE_TO_SEDUCTION.label, default=False)
    cruelty = models.BooleanField(CaseFact.CRUELTY.label, default=False)

    class Meta:
        ordering = ["-reported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["police_station", "fir_number"],
                condition=~models.Q(fir_number=""),
                name="fir_number_unique_per_station",
            )
        ]
        indexes = [
            models.Index(fields=["district", "status"], name="case_district_status_idx"),
            models.Index(fields=["district", "-reported_at"], name="case_district_reported_idx"),
            models.Index(fields=["-reported_at"], name="case_reported_idx"),
            models.Index(fields=["fir_number"], name="case_fir_idx"),
        ]

    def __str__(self) -> str:
        return self.reference

    def audit_label(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status == CaseStatus.OPEN

    def facts(self) -> frozenset[str]:
        """The codes of the facts recorded as true on this case."""
        return frozenset(code for code in FACT_FIELDS if getattr(self, code))

    def has_fact(self, code: str) -> bool:
        """True when fact `code` holds (an empty code always holds: 'applies to every case')."""
        if not code:
            return True
        return code in FACT_FIELDS and bool(getattr(self, code))

    def access_scope(self) -> Scope:
        return Scope(
            district_id=self.district_id,
            province_id=self.district.province_id,
            team_user_ids=self.team_user_ids(),
            agency_id=self.agency_id,
        )

    def team_user_ids(self) -> frozenset[int]:
        """Who is on the team, read once per loaded case (a page asks many rights at once);
        the team actions call `forget_team` after a change."""
        cached: frozenset[int] | None = getattr(self, "_team_user_ids", None)
        if cached is None:
            cached = frozenset(self.team.values_list("user_id", flat=True))
            self._team_user_ids = cached
        return cached

    def forget_team(self) -> None:
        self.__dict__.pop("_team_user_ids", None)

    def refresh_from_db(self, *args: Any, **kwargs: Any) -> None:
        self.forget_team()
        super().refresh_from_db(*args, **kwargs)


class Sequence(models.Model):
    """The last number handed out per (kind, district, year): case references, victim codes."""

    kind = models.CharField(max_length=20)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+")
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "district", "year"], name="one_sequence_each")
        ]


class StatusChange(models.Model):
    """Closure or reopening of a case, with the reason given."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=CaseStatus.choices)
    to_status = models.CharField(max_length=20, choices=CaseStatus.choices)
    reason = models.TextField(_("reason"), max_length=2000)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_at", "pk"]


class SectionRule(models.Model):
    """Rule as data: when every fact in `facts` holds, suggest the offence `offence_code`.

    `weaker_codes` are sections that such cases are wrongly registered under instead; the case
    page warns when the case carries one of them while the stronger section is missing.
    """

    offence_code = models.CharField(_("offence code"), max_length=40)
    facts = models.JSONField(_("facts that must all hold"), default=list)
    weaker_codes = models.JSONField(_("weaker sections it displaces"), default=list, blank=True)
    explanation = models.CharField(_("why"), max_length=300)
    source = models.CharField(_("source"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["offence_code", "pk"]

    def __str__(self) -> str:
        return f"{'+'.join(self.facts)} → {self.offence_code}"

    def fact_labels(self) -> list[str]:
        """The rule's facts by their names in the reader's language."""
        return [str(CaseFact(f).label) if f in CaseFact.values else f for f in self.facts]


class TeamRole(models.TextChoices):
    INVESTIGATOR = "investigator", _("Investigating officer")
    SUPERVISOR = "supervisor", _("Supervisor")
    PROSECUTOR = "prosecutor", _("Prosecutor")
    CHILD_PROTECTION_OFFICER = "child_protection_officer", _("Child-protection officer")
    FORENSIC_EXAMINER = "forensic_examiner", _("Forensic examiner")


class TeamMember(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="case_memberships"
    )
    team_role = models.CharField(_("role on the case"), max_length=40, choices=TeamRole.choices)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team_role", "added_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "user", "team_role"], name="one_team_role_each")
        ]

    def audit_label(self) -> str:
        return f"{self.case.reference} {self.team_role} {self.user_id}"


class TeamJoinStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class TeamJoinRequest(models.Model):
    """A request that a person join a case team, decided by a supervisor who oversees the case.

    Nobody adds themselves to a team: a person asks (or a team member asks for a colleague),
    and a supervisor of the case's jurisdiction approves or refuses; both are audited.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="join_requests")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="team_join_requests"
    )
    team_role = models.CharField(_("role on the case"), max_length=40, choices=TeamRole.choices)
    reason = models.CharField(_("why they need to be on the team"), max_length=500)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(
        max_length=20, choices=TeamJoinStatus.choices, default=TeamJoinStatus.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user", "team_role"],
                condition=models.Q(status="requested"),
                name="one_open_join_request_each",
            )
        ]

    def audit_label(self) -> str:
        return f"{self.case.reference} join request {self.pk}"

    def access_scope(self) -> Scope:
        return self.case.access_scope()


class AlertKind(models.TextChoices):
    CLOCK_DUE_SOON = "clock_due_soon", _("Deadline nearly due")
    CLOCK_MISSED = "clock_missed", _("Deadline missed")
    CROSS_CASE_LINK = "cross_case_link", _("Link to another case")
    REFERRAL = "referral", _("Referral")
    TEAM = "team", _("Added to a case team")
    TEAM_REQUEST = "team_request", _("Request to join a case team")
    URGENT_REPORT = "urgent_report", _("Urgent report: a child in danger now")
    REPORT_MATCH = "report_match", _("A referral matches this case")


class Alert(models.Model):
    """An in-app notice to one person. `dedupe_key` makes raising the same alert twice a no-op.

    Most alerts are about a case; an alert about something that is not a case yet (an urgent
    report in intake's queue) has no case and a `link` to the page to open instead.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="alerts", null=True, blank=True
    )
    link = models.CharField(max_length=200, blank=True)
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    # The untranslated text with `%(name)s` places and their values (references, codes, catalogue
    # names in both languages; see core.words): put into the reader's language when shown
    # (`text`), not in the language of whoever or whatever raised it. Alerts raised before
    # (`params` empty) hold a finished English sentence and are shown as stored.
    message = models.CharField(max_length=500)
    params = models.JSONField(default=dict, blank=True)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="alert_once")
        ]

    def text(self) -> str:
        """The message in the active language, its places filled."""
        return in_words(self.message, self.params)


# --- parties ------------------------------------------------------------------------------------


class AgeBand(models.TextChoices):
    """The age bands of public statistics (Sahil's 'Cruel Numbers')."""

    UNDER_6 = "0-5", _("0–5")
    FROM_6 = "6-10", _("6–10")
    FROM_11 = "11-15", _("11–15")
    FROM_16 = "16-18", _("16–18")
    ADULT = "18+", _("over 18")
    UNKNOWN = "unknown", _("unknown")


class Gender(models.TextChoices):
    GIRL = "girl", _("Girl")
    BOY = "boy", _("Boy")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Not recorded")


class Consent(models.TextChoices):
    SHARING = "sharing", _("Identity may be shared with child-protection services")
    REFERRAL = "referral", _("May be referred to child-protection services")
    STATISTICS = "statistics", _("May be counted in statistics")


class Victim(models.Model):
    """A victim, known everywhere by `pseudonym` (V-2026-KSR-0017).

    Identity fields are encrypted at rest and only read through `actions.reveal_victim_identity`,
    which checks the right and audits the read. `age_band` is derived from the date of birth (or
    an estimated age) when the victim is recorded, so statistics never need the identity.
    """

    # Limits of the encrypted identity fields, which have no column limit (core.limits).
    TEXT_LIMITS: ClassVar[dict[str, int]] = {
        "name": 200,
        "cnic": CNIC_MAX_LENGTH,
        "guardian_name": 200,
        "address": 1000,
    }

    IDENTITY_FIELDS = ("name", "cnic", "birth_date", "guardian_name", "address", "phones")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="victims")
    pseudonym = models.CharField(_("victim code"), max_length=30, unique=True)
    name = EncryptedTextField(_("name"), blank=True)
    cnic = EncryptedTextField(_("CNIC or B-form number"), blank=True)
    cnic_index = BlindIndexField(source="cnic", purpose="cases.victim.cnic")
    birth_date = EncryptedDateField(_("date of birth"), null=True, blank=True)
    guardian_name = EncryptedTextField(_("guardian"), blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    phones = EncryptedTextField(_("phone numbers"), blank=True)
    gender = models.CharField(
        _("gender"), max_length=10, choices=Gender.choices, default=Gender.UNKNOWN
    )
    age_band = models.CharField(
        _("age band"), max_length=10, choices=AgeBand.choices, default=AgeBand.UNKNOWN
    )
    consent_sharing = models.BooleanField(Consent.SHARING.label, default=False)
    consent_referral = models.BooleanField(Consent.REFERRAL.label, default=False)
    consent_statistics = models.BooleanField(Consent.STATISTICS.label, default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["pseudonym"]

    def __str__(self) -> str:
        return self.pseudonym

    def audit_label(self) -> str:
        return self.pseudonym

    def access_scope(self) -> Scope:
        return self.case.access_scope()

    def consents(self, consent: str) -> bool:
        """True when the victim consented to `consent`, or a supervisor overrode the refusal."""
        if getattr(self, f"consent_{consent}"):
            return True
        return self.consent_overrides.filter(consent=consent).exists()


class ConsentOverride(models.Model):
    """A supervisor's recorded decision to act without one of the victim's consents."""

    victim = models.ForeignKey(Victim, on_delete=models.PROTECT, related_name="consent_overrides")
    consent = models.CharField(_("consent"), max_length=20, choices=Consent.choices)
    reason = models.TextField(_("reason"), max_length=2000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["decided_at", "pk"]


class AccusedStatus(models.TextChoices):
    SUSPECT = "suspect", _("Suspect")
    ACCUSED = "accused", _("Accused")
    # Set by the judgment recorded in the proceedings (`actions.record_verdict`), never by hand.
    CONVICTED = "convicted", _("Convicted")
    ACQUITTED = "acquitted", _("Acquitted")


VERDICT_STATUSES = frozenset({AccusedStatus.CONVICTED, AccusedStatus.ACQUITTED})


class Accused(models.Model):
    """An accused person or suspect on one case; `label` (A1, A2, …) names them in the case.

    Name and aliases stay searchable by the case team; CNIC, phones and online handles live in
    `AccusedIdentifier` (encrypted, with a blind index) so cases sharing one can be found.
    """

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"addresses": 2000}

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="accused")
    label = models.CharField(_("label"), max_length=10)
    status = models.CharField(
        _("status"), max_length=10, choices=AccusedStatus.choices, default=AccusedStatus.SUSPECT
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    aliases = models.CharField(_("aliases"), max_length=500, blank=True)
    addresses = EncryptedTextField(_("addresses"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["case", "pk"]
        verbose_name_plural = _("accused")
        constraints = [
            models.UniqueConstraint(fields=["case", "label"], name="accused_label_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case.reference} {self.label}"

    def audit_label(self) -> str:
        return f"{self.case.reference} {self.label}"

    def access_scope(self) -> Scope:
        return self.case.access_scope()

    def identifier_values(self, kind: str) -> list[str]:
        return [i.value for i in self.identifiers.all() if i.kind == kind]

    # For templates, which cannot pass an argument.
    @property
    def cnics(self) -> list[str]:
        return self.identifier_values("cnic")

    @property
    def phones(self) -> list[str]:
        return self.identifier_values("phone")

    @property
    def handles(self) -> list[str]:
        return self.identifier_values("handle")

    @property
    def emails(self) -> list[str]:
        return self.identifier_values("email")


class IdentifierKind(models.TextChoices):
    CNIC = "cnic", _("CNIC")
    PHONE = "phone", _("Phone")
    HANDLE = "handle", _("Online handle")
    EMAIL = "email", _("E-mail address")


class AccusedIdentifier(models.Model):
    """One normalized CNIC, phone number, online handle or e-mail address of an accused person."""

    accused = models.ForeignKey(Accused, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=10, choices=IdentifierKind.choices)
    value = EncryptedTextField()
    value_index = BlindIndexField(source="value", purpose="cases.accused.identifier")

    class Meta:
        indexes = [models.Index(fields=["kind", "value_index"], name="accused_identifier_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["accused", "kind", "value_index"], name="accused_identifier_once"
            )
        ]


class Witness(models.Model):
    """A witness; identity is encrypted like every other person's, shown to the case team."""

    TEXT_LIMITS: ClassVar[dict[str, int]] = {"name": 200, "address": 1000}

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="witnesses")
    label = models.CharField(_("label"), max_length=10)
    name = EncryptedTextField(_("name"))
    phones = EncryptedTextField(_("phone numbers"), blank=True)
    address = EncryptedTextField(_("address"), blank=True)
    relation = models.CharField(_("relation to the case"), max_length=200, blank=True)
    is_child = models.BooleanField(_("witness is a child"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["case", "pk"]
        verbose_name_plural = _("witnesses")
        constraints = [
            models.UniqueConstraint(fields=["case", "label"], name="witness_label_per_case")
        ]

    def audit_label(self) -> str:
        return f"{self.case.reference} {self.label}"

    def access_scope(self) -> Scope:
        return self.case.access_scope()


# --- referrals ----------------------------------------------------------------------------------


class ReferralStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    DONE = "done", _("Done")


class Referral(models.Model):
    """A victim referred to child-protection services; the officer accepts, rejects, completes."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals")
    victim = models.ForeignKey(Victim, on_delete=models.PROTECT, related_name="referrals")
    service = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service"),
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="referrals",
        verbose_name=_("child-protection officer"),
    )
    needs = models.TextField(
        _("what the child needs"),
        max_length=2000,
        help_text=_("No names: refer to the victim by code."),
    )
    status = models.CharField(
        _("status"), max_length=12, choices=ReferralStatus.choices, default=ReferralStatus.REQUESTED
    )
    consent_override = models.ForeignKey(
        ConsentOverride, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_note = models.TextField(_("note"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def audit_label(self) -> str:
        return f"{self.case.reference} referral {self.pk} {self.victim.pseudonym}"

    def access_scope(self) -> Scope:
        return self.case.access_scope()
