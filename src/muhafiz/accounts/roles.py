"""The roles people hold and the jurisdictions they work in."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    INVESTIGATOR = "investigator", _("Investigator")
    SUPERVISOR = "supervisor", _("Supervisor")
    FORENSIC_EXAMINER = "forensic_examiner", _("Forensic examiner")
    PROSECUTOR = "prosecutor", _("Prosecutor")
    CHILD_PROTECTION_OFFICER = "child_protection_officer", _("Child-protection officer")
    REGISTER_OFFICER = "register_officer", _("Register officer")
    POLICE_STATION_OFFICER = "police_station_officer", _("Police station officer")
    HELPLINE_OFFICER = "helpline_officer", _("Helpline officer")
    EMPLOYER = "employer", _("Vetting employer")
    ANALYST = "analyst", _("Analyst")
    AUDITOR = "auditor", _("Auditor")
    ADMINISTRATOR = "administrator", _("Administrator")


class JurisdictionLevel(models.TextChoices):
    NATIONAL = "national", _("National")
    PROVINCE = "province", _("Province or territory")
    DISTRICT = "district", _("District")
