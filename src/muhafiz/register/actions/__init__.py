"""Every write to the register, by topic: `entries` (from judgments, review, release, removal),
`compliance` (verifications, notifications, the daily job), `checks` (case-bound checks),
`vetting` (employers' yes/no), `due_process` (corrections, appeals, incidents, alerts).

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
from muhafiz.register.actions.vetting import answers_about_applicant, vet_applicant

__all__ = [
    "ComplianceRun",
    "RemovalReason",
    "answers_about_applicant",
    "confirm_conviction",
    "decide_check",
    "decide_due_process",
    "evaluate_compliance",
    "mark_alert_read",
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
