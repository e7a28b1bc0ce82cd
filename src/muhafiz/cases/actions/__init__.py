"""Every write to the case database, by topic: `case`, `team`, `victims`, `parties` (accused and
witnesses), `referrals`, `alerts`, `section_rules`; what they share is in `_common`.

Each action checks the actor's right first, runs in one transaction and writes its audit record
in it (`core/tests/test_action_permissions.py` calls every one without the right). Views, API
handlers, jobs and other apps call these names from here.
"""

from muhafiz.cases.actions._common import (
    age_band,
    normalize_cnic,
    normalize_email,
    normalize_handle,
    normalize_phone,
    refuse_victim_identity,
)
from muhafiz.cases.actions.alerts import (
    TeamNotice,
    mark_alert_read,
    raise_alert,
    raise_team_alerts,
)
from muhafiz.cases.actions.case import (
    add_offences,
    close_case,
    correct_reported_at,
    create_case,
    record_case_export,
    reopen_case,
    update_case,
)
from muhafiz.cases.actions.parties import (
    AccusedDetails,
    add_accused,
    add_witness,
    record_verdict,
    update_accused,
)
from muhafiz.cases.actions.referrals import decide_referral, refer_victim
from muhafiz.cases.actions.section_rules import add_section_rule, set_section_rule_active
from muhafiz.cases.actions.team import (
    add_team_member,
    decide_team_join,
    remove_team_member,
    request_team_join,
)
from muhafiz.cases.actions.victims import (
    IDENTITY_LIMITS,
    VictimIdentity,
    add_victim,
    override_consent,
    reveal_victim_identity,
    set_victim_consents,
    update_victim_identity,
)

__all__ = [
    "IDENTITY_LIMITS",
    "AccusedDetails",
    "TeamNotice",
    "VictimIdentity",
    "add_accused",
    "add_offences",
    "add_section_rule",
    "add_team_member",
    "add_victim",
    "add_witness",
    "age_band",
    "close_case",
    "correct_reported_at",
    "create_case",
    "decide_referral",
    "decide_team_join",
    "mark_alert_read",
    "normalize_cnic",
    "normalize_email",
    "normalize_handle",
    "normalize_phone",
    "override_consent",
    "raise_alert",
    "raise_team_alerts",
    "record_case_export",
    "record_verdict",
    "refer_victim",
    "refuse_victim_identity",
    "remove_team_member",
    "reopen_case",
    "request_team_join",
    "reveal_victim_identity",
    "set_section_rule_active",
    "set_victim_consents",
    "update_accused",
    "update_case",
    "update_victim_identity",
]
