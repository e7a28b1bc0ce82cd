"""Every write of intake, by topic: `public` (the confidential report and its follow-up),
`helpline`, `queue` (triage, replies, opening a case), `cybertips` and `imports` (CyberTipline
referrals); what they share is in `_common`.

Each action checks the actor's right first (the public ones the named public rule
`core.permissions.may_report_publicly`, then the rate limits), validates, and writes with its
audit record in one transaction.
"""

from muhafiz.intake.actions.cybertips import record_ip_export
from muhafiz.intake.actions.helpline import record_helpline_call
from muhafiz.intake.actions.imports import ImportResult, import_cybertips
from muhafiz.intake.actions.public import (
    Receipt,
    add_reporter_information,
    open_receipt,
    submit_public_report,
)
from muhafiz.intake.actions.queue import (
    assign_report,
    close_report,
    move_report_to_district,
    open_case_from_report,
    refer_report,
    reply_to_reporter,
    start_screening,
)
from muhafiz.intake.actions.rematch import rematch_referrals_for_case

__all__ = [
    "ImportResult",
    "Receipt",
    "add_reporter_information",
    "assign_report",
    "close_report",
    "import_cybertips",
    "move_report_to_district",
    "open_case_from_report",
    "open_receipt",
    "record_helpline_call",
    "record_ip_export",
    "refer_report",
    "rematch_referrals_for_case",
    "reply_to_reporter",
    "start_screening",
    "submit_public_report",
]
