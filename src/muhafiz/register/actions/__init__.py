"""Every write to the register, by topic: `entries` (from judgments, review, release, removal),
`compliance` (verifications, notifications, the daily job), `checks` (case-bound checks),
`vetting` (employers' yes/no), `organisations` (the registry of employers that may vet),
`due_process` (corrections, appeals, reviews, incidents, alerts), `rules` (versioned changes
of the period and notice rules), `overdue` (the 15-minute job: checks and reviews past due).

Each action checks the actor's right first, runs in one transaction and writes its audit record
in it (`core/tests/test_action_permissions.py` calls every one without the right). The system
(`core.permissions.SYSTEM`) alone makes entries from judgments and runs the compliance job.
"""

from muhafiz.register.actions.checks import (
    decide_check,
    request_check,
    view_check_result,
)
from muhafiz.register.actions.compliance import (
    ComplianceRun,
    evaluate_compliance,
    record_change_detected,
    record_notification,
    record_verification,
)
from muhafiz.register.actions.due_process import (
    decide_due_process,
    mark_alert_read,
    record_incident,
    start_review,
    submit_due_process,
)
from muhafiz.register.actions.entries import (
    RemovalReason,
    confirm_conviction,
    record_judgment,
    record_release,
    remove_entry,
)
from muhafiz.register.actions.organisations import (
    add_organisation_member,
    apply_for_organisation,
    decide_organisation,
    organisation_of,
)
from muhafiz.register.actions.overdue import OverdueRun, evaluate_register_clocks
from muhafiz.register.actions.rules import change_notice_rule, change_period_rule
from muhafiz.register.actions.vetting import answers_about_applicant, vet_applicant

__all__ = [
    "ComplianceRun",
    "OverdueRun",
    "RemovalReason",
    "add_organisation_member",
    "answers_about_applicant",
    "apply_for_organisation",
    "change_notice_rule",
    "change_period_rule",
    "confirm_conviction",
    "decide_check",
    "decide_due_process",
    "decide_organisation",
    "evaluate_compliance",
    "evaluate_register_clocks",
    "mark_alert_read",
    "organisation_of",
    "record_change_detected",
    "record_incident",
    "record_judgment",
    "record_notification",
    "record_release",
    "record_verification",
    "remove_entry",
    "request_check",
    "start_review",
    "submit_due_process",
    "vet_applicant",
    "view_check_result",
]
