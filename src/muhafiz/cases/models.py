"""Case models: the case, its team, and the in-app alerts that reach the people on it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from muhafiz.catalogue.models import Agency, District, Offence, PoliceStation
from muhafiz.core.permissions import Scope


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Case(models.Model):
    """One case. `reference` is district–year–sequence, e.g. KSR-2026-0017."""

    reference = models.CharField(_("reference"), max_length=30, unique=True)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="cases")
    police_station = models.ForeignKey(
        PoliceStation, on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="cases")
    fir_number = models.CharField(_("FIR number"), max_length=40, blank=True)
    offences = models.ManyToManyField(Offence, blank=True, related_name="cases")
    status = models.CharField(
        _("status"), max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN
    )
    reported_at = models.DateTimeField(_("report received"))
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-reported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["police_station", "fir_number"],
                condition=~models.Q(fir_number=""),
                name="fir_number_unique_per_station",
            )
        ]

    def __str__(self) -> str:
        return self.reference

    def access_scope(self) -> Scope:
        return Scope(
            district_id=self.district_id,
            province_id=self.district.province_id,
            team_user_ids=frozenset(self.team.values_list("user_id", flat=True)),
        )


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
        constraints = [
            models.UniqueConstraint(fields=["case", "user", "team_role"], name="one_team_role_each")
        ]


class AlertKind(models.TextChoices):
    CLOCK_DUE_SOON = "clock_due_soon", _("Deadline nearly due")
    CLOCK_MISSED = "clock_missed", _("Deadline missed")
    CROSS_CASE_LINK = "cross_case_link", _("Link to another case")
    REFERRAL = "referral", _("Referral")


class Alert(models.Model):
    """An in-app notice to one person. `dedupe_key` makes raising the same alert twice a no-op."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=30, choices=AlertKind.choices)
    message = models.CharField(max_length=500)
    dedupe_key = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "dedupe_key"], name="alert_once")
        ]
