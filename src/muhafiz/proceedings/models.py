"""Stage events and statutory clocks of a case, the holiday calendar, the per-case progress row."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from muhafiz.cases.models import Accused, Case
from muhafiz.catalogue.models import Agency, DeadlineRule
from muhafiz.proceedings.clocks import ClockState

# Field length limits of the proceedings app, in one place: models, forms and the API use these.
OUTCOME_LENGTH = 20
SENTENCE_LENGTH = 300
NOTE_LENGTH = 500
ACCUSED_LABEL_LENGTH = 10  # an accused's label on the case (A1), as the cases app keeps it
COURT_CODE_LENGTH = 40  # a court's agency code in the catalogue


class StageCode(models.TextChoices):
    """What happened in a case. These codes are the `start_event`/`end_event` of DeadlineRules
    (catalogue/fixtures/deadlines.json names them; a test checks that every one exists here)."""

    REPORT_RECEIVED = "report_received", _("Report received")
    FIR_REGISTERED = "fir_registered", _("FIR registered (CrPC s.154)")
    ZARRA_INFORMED = "zarra_informed", _("ZARRA informed")
    ALERT_RAISER_CONTACTED = "alert_raiser_contacted", _("Person who raised the alert contacted")
    MEDICO_LEGAL_EXAMINED = "medico_legal_examined", _("Medico-legal examination")
    SSOIU_ASSIGNED = "ssoiu_assigned", _("SSOIU assigned")
    CHILD_TAKEN_INTO_PROTECTION = "child_taken_into_protection", _("Child taken into protection")
    PRODUCED_BEFORE_CHILD_PROTECTION_COURT = (
        "produced_before_child_protection_court",
        _("Child produced before the Child Protection Court"),
    )
    ARRESTED = "arrested", _("Accused arrested")
    PRODUCED_BEFORE_MAGISTRATE = "produced_before_magistrate", _("Produced before a magistrate")
    PHYSICAL_REMAND_STARTED = "physical_remand_started", _("Physical remand granted")
    PHYSICAL_REMAND_EXTENDED = "physical_remand_extended", _("Physical remand extended")
    PHYSICAL_REMAND_ENDED = "physical_remand_ended", _("Physical remand ended")
    JUDICIAL_REMAND_ORDERED = "judicial_remand_ordered", _("Judicial remand ordered")
    JUDICIAL_REMAND_REVIEWED = "judicial_remand_reviewed", _("Judicial remand reviewed")
    REGISTER_CHECK_REQUESTED = "register_check_requested", _("Register check requested")
    REGISTER_CHECK_FORWARDED = "register_check_forwarded", _("Register check forwarded to NPB")
    # The register app records the three register-check stages from its own actions.
    REGISTER_CHECK_REFUSED = "register_check_refused", _("Register check refused by the prosecutor")
    INTERIM_REPORT_SUBMITTED = (
        "interim_report_submitted",
        _("Interim report submitted (CrPC s.173)"),
    )
    CHALLAN_SUBMITTED = "challan_submitted", _("Final challan submitted (CrPC s.173)")
    SCRUTINY_RETURNED = "scrutiny_returned", _("Challan returned by the prosecutor with objections")
    SCRUTINY_ACCEPTED = "scrutiny_accepted", _("Challan accepted by the prosecutor")
    TRIAL_STARTED = "trial_started", _("Trial started")
    HEARING = "hearing", _("Hearing held")
    ADJOURNMENT = "adjournment", _("Hearing adjourned")
    JUDGMENT_DELIVERED = "judgment_delivered", _("Judgment delivered")
    APPEAL_FILED = "appeal_filed", _("Appeal filed")
    APPEAL_DECIDED = "appeal_decided", _("Appeal decided")


# The order of the legal stages, for "where is this case now" and for stage durations.
STAGE_ORDER: tuple[str, ...] = tuple(StageCode.values)
# Events that concern one accused person rather than the whole case.
PER_ACCUSED = frozenset(
    {
        StageCode.ARRESTED,
        StageCode.PRODUCED_BEFORE_MAGISTRATE,
        StageCode.PHYSICAL_REMAND_STARTED,
        StageCode.PHYSICAL_REMAND_EXTENDED,
        StageCode.PHYSICAL_REMAND_ENDED,
        StageCode.JUDICIAL_REMAND_ORDERED,
        StageCode.JUDICIAL_REMAND_REVIEWED,
        StageCode.REGISTER_CHECK_REQUESTED,
        StageCode.REGISTER_CHECK_FORWARDED,
        StageCode.REGISTER_CHECK_REFUSED,
        StageCode.JUDGMENT_DELIVERED,
        StageCode.APPEAL_FILED,
        StageCode.APPEAL_DECIDED,
    }
)
# Events that may happen many times in one case (or per accused); the others happen once.
REPEATABLE = frozenset(
    {
        StageCode.PHYSICAL_REMAND_EXTENDED,
        StageCode.JUDICIAL_REMAND_ORDERED,
        StageCode.JUDICIAL_REMAND_REVIEWED,
        StageCode.SCRUTINY_RETURNED,
        StageCode.HEARING,
        StageCode.ADJOURNMENT,
    }
)
# Events that do not move a case to a new stage (they happen within one).
WITHIN_STAGE = frozenset(
    {
        StageCode.HEARING,
        StageCode.ADJOURNMENT,
        StageCode.ZARRA_INFORMED,
        StageCode.ALERT_RAISER_CONTACTED,
        StageCode.CHILD_TAKEN_INTO_PROTECTION,
        StageCode.PRODUCED_BEFORE_CHILD_PROTECTION_COURT,
        StageCode.JUDICIAL_REMAND_REVIEWED,
        StageCode.PHYSICAL_REMAND_EXTENDED,
        StageCode.REGISTER_CHECK_REFUSED,
    }
)
# Events that may fix the date of the next hearing (an adjournment must).
FIXES_NEXT_HEARING = frozenset({StageCode.TRIAL_STARTED, StageCode.HEARING, StageCode.ADJOURNMENT})
# Physical remand: 15 days in all per accused (CrPC s.167(2)).
MAX_PHYSICAL_REMAND_DAYS = 15


class Outcome(models.TextChoices):
    CONVICTION = "conviction", _("Conviction")
    ACQUITTAL = "acquittal", _("Acquittal")
    APPEAL_ALLOWED = "allowed", _("Appeal allowed")
    APPEAL_DISMISSED = "dismissed", _("Appeal dismissed")


CLOCK_STATES = [
    (ClockState.PENDING.value, _("pending")),
    (ClockState.DUE_SOON.value, _("due soon")),
    (ClockState.MISSED.value, _("missed")),
    (ClockState.MET.value, _("met")),
    (ClockState.MET_LATE.value, _("met late")),
]


class Holiday(models.Model):
    """A public holiday: no business day. Lunar holidays are entered each year when notified."""

    date = models.DateField(_("date"), unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_ur = models.CharField(_("name (Urdu)"), max_length=120, blank=True)
    fixed = models.BooleanField(
        _("fixed date"), default=True, help_text=_("Same date every year (not lunar).")
    )
    source = models.CharField(_("source"), max_length=300, blank=True)
    verified = models.BooleanField(_("verified"), default=False)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name}"


class RecordedEvents(models.Manager["StageEvent"]):
    """Stage events that stand: a voided event stays in the table and its history, but no clock,
    stage, dashboard or statistic counts it."""

    def get_queryset(self) -> models.QuerySet[StageEvent]:
        return super().get_queryset().filter(voided_at__isnull=True)


class StageEvent(models.Model):
    """One dated step of a case's proceedings, recorded through `actions.record_stage_event`,
    corrected or voided (with a reason, never deleted) through `actions.corrections`."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="stage_events")
    code = models.CharField(_("stage"), max_length=40, choices=StageCode.choices)
    occurred_at = models.DateTimeField(_("when"))
    # The accused person a per-accused event concerns (arrest, remand, judgment, appeal).
    accused = models.ForeignKey(
        Accused,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stage_events",
        verbose_name=_("accused"),
    )
    remand_days = models.PositiveSmallIntegerField(_("remand days"), null=True, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=OUTCOME_LENGTH, choices=Outcome.choices, blank=True
    )
    sentence = models.CharField(_("sentence"), max_length=SENTENCE_LENGTH, blank=True)
    court = models.ForeignKey(
        Agency,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("court"),
    )
    note = models.CharField(_("note"), max_length=NOTE_LENGTH, blank=True)
    # The date the court fixed for the next hearing (a trial's start, a hearing, an adjournment).
    next_hearing_at = models.DateTimeField(_("next hearing"), null=True, blank=True)
    # Empty when the system recorded it (the report, from the case) or an API client did.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    # Voided: recorded in error (the wrong case, a stage that did not happen). Kept, not counted.
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    void_reason = models.CharField(_("why it was voided"), max_length=NOTE_LENGTH, blank=True)

    objects = RecordedEvents()
    all_objects = models.Manager()

    class Meta:
        ordering = ["occurred_at", "pk"]
        base_manager_name = "all_objects"
        indexes = [models.Index(fields=["case", "code"], name="stage_case_code_idx")]

    def __str__(self) -> str:
        return f"{self.get_code_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class StageEventRevision(models.Model):
    """One correction or voiding of a stage event: what it said before, what it says after, why
    and who. The event's history; never edited."""

    event = models.ForeignKey(StageEvent, on_delete=models.PROTECT, related_name="revisions")
    action = models.CharField(max_length=10)  # "correct" or "void"
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    reason = models.CharField(_("reason"), max_length=NOTE_LENGTH)
    revised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["revised_at", "pk"]


class Clock(models.Model):
    """A DeadlineRule running on one case (and one accused, for per-accused rules)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="clocks")
    rule = models.ForeignKey(DeadlineRule, on_delete=models.PROTECT, related_name="clocks")
    accused = models.ForeignKey(
        Accused, on_delete=models.PROTECT, null=True, blank=True, related_name="clocks"
    )
    started_at = models.DateTimeField(_("started"))
    due_at = models.DateTimeField(_("due"))
    due_soon_at = models.DateTimeField(_("nearly due from"))
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    state = models.CharField(
        _("state"),
        max_length=12,
        choices=CLOCK_STATES,
        default="pending",
    )
    # The last state whose alert has been raised, so each state change alerts once.
    alerted_state = models.CharField(max_length=12, blank=True)
    start_event = models.ForeignKey(
        StageEvent, on_delete=models.PROTECT, related_name="started_clocks"
    )
    end_event = models.ForeignKey(
        StageEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="stopped_clocks"
    )
    missed_at = models.DateTimeField(_("found missed"), null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            # One clock per rule per starting event: a repeated start (a new judicial remand
            # order) starts a new clock; the same event never starts the same rule twice.
            models.UniqueConstraint(fields=["rule", "start_event"], name="one_clock_per_start")
        ]
        indexes = [
            # The clock job only ever reads running clocks.
            models.Index(
                fields=["state", "due_soon_at"],
                name="clock_running_idx",
                condition=models.Q(stopped_at__isnull=True),
            ),
            # "Which running clocks have run out?" reads only this index.
            models.Index(
                fields=["due_at"],
                name="clock_running_due_idx",
                condition=models.Q(stopped_at__isnull=True),
            ),
            models.Index(fields=["state", "case"], name="clock_state_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.code} on {self.case_id}: {self.state}"

    @property
    def late(self) -> bool:
        return self.state in {ClockState.MISSED, ClockState.MET_LATE}


class CaseProgress(models.Model):
    """Where a case stands in its proceedings: its latest stage, since when, and its court.

    One row per case, kept by the actions, so that dashboards and "stalled longest" lists read one
    small table instead of scanning every event.
    """

    case = models.OneToOneField(Case, on_delete=models.CASCADE, related_name="progress")
    stage = models.CharField(_("stage"), max_length=40, choices=StageCode.choices)
    stage_since = models.DateTimeField(_("in this stage since"))
    last_event_at = models.DateTimeField(_("last event"))
    court = models.ForeignKey(
        Agency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The court diary: the next hearing fixed, and how often the case was adjourned.
    next_hearing_at = models.DateTimeField(_("next hearing"), null=True, blank=True)
    adjournments = models.PositiveIntegerField(_("adjournments"), default=0)

    class Meta:
        indexes = [
            models.Index(fields=["stage_since"], name="progress_since_idx"),
            models.Index(fields=["next_hearing_at"], name="progress_hearing_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.stage}"
