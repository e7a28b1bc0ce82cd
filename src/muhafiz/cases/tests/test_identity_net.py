"""One identity safety net over every free-text field of case, evidence and proceedings records
(issue 8, finding 10): a victim's name or CNIC was accepted in custody notes and purposes,
evidence descriptions, seizure places, witness relations, accused addresses and team-removal
reasons (the last went into the audit log), which roles without the identity right read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from muhafiz.audit.models import AuditEvent
from muhafiz.cases import actions
from muhafiz.cases.models import Case, TeamMember, Victim
from muhafiz.cases.tests.conftest import GUARDIAN_NAME, VICTIM_CNIC, VICTIM_NAME
from muhafiz.evidence import actions as evidence
from muhafiz.proceedings import actions as proceedings
from muhafiz.testing import People

WRITINGS = [
    f"Seen with {VICTIM_NAME} at the market",
    f"cnic {VICTIM_CNIC}",
    f"cnic {VICTIM_CNIC.replace('-', '')}",
    f"guardian {GUARDIAN_NAME.upper()}",
]


def _item(people: People, case: Case, **fields: Any) -> Any:
    details = {"seized_place": "House 9, Testpura", "description": "A phone", **fields}
    return evidence.create_item(
        people.lahore_investigator,
        case,
        evidence.ItemDetails(
            kind="phone",
            seized_at=timezone.now() - dt.timedelta(hours=5),
            seized_by=people.lahore_investigator,
            **details,
        ),
    )


def _handover(people: People, case: Case, **fields: Any) -> Any:
    item = _item(people, case)
    details: dict[str, Any] = {"purpose": "examination", "note": "", **fields}
    return evidence.record_handover(
        people.lahore_investigator,
        item,
        from_user=people.lahore_investigator,
        to_user=people.forensic_examiner,
        at=timezone.now() - dt.timedelta(hours=1),
        seal_intact=True,
        **details,
    )


def _accused(people: People, case: Case, **fields: Any) -> Any:
    return actions.add_accused(
        people.lahore_investigator, case, actions.AccusedDetails(name="Some One", **fields)
    )


def _accused_update(people: People, case: Case, **fields: Any) -> Any:
    accused = _accused(people, case)
    return actions.update_accused(
        people.lahore_investigator, accused, actions.AccusedDetails(name="Some One", **fields)
    )


def _witness(people: People, case: Case, **fields: Any) -> Any:
    return actions.add_witness(people.lahore_investigator, case, name="A Witness", **fields)


def _team_removal(people: People, case: Case, reason: str) -> Any:
    member = TeamMember.objects.get(case=case, user=people.prosecutor)
    return actions.remove_team_member(people.lahore_supervisor, member, reason)


def _stage(people: People, case: Case, **fields: Any) -> Any:
    return proceedings.record_stage_event(
        people.lahore_investigator,
        case,
        code="fir_registered",
        occurred_at=case.reported_at + dt.timedelta(hours=1),
        **fields,
    )


WRITES: dict[str, tuple[Callable[..., Any], str]] = {
    "evidence description": (_item, "description"),
    "evidence make and model": (_item, "make_model"),
    "seizure place": (_item, "seized_place"),
    "custody purpose": (_handover, "purpose"),
    "custody note": (_handover, "note"),
    "accused addresses": (_accused, "addresses"),
    "accused aliases": (_accused, "aliases"),
    "accused addresses on correction": (_accused_update, "addresses"),
    "witness relation": (_witness, "relation"),
    "team-removal reason": (_team_removal, "reason"),
    "stage note": (_stage, "note"),
}


@pytest.mark.parametrize("writing", WRITINGS)
@pytest.mark.parametrize("what", sorted(WRITES))
def test_a_victims_identity_is_refused_in_every_free_text_field(
    people: People, lahore_case: Case, victim: Victim, what: str, writing: str
) -> None:
    write, field = WRITES[what]
    audit_before = AuditEvent.objects.count()
    with pytest.raises(ValidationError) as refused:
        write(people, lahore_case, **{field: writing})
    assert field in refused.value.message_dict
    assert VICTIM_NAME not in str(refused.value)
    assert all(
        VICTIM_NAME not in f"{e.reason} {e.details}"
        and VICTIM_CNIC not in f"{e.reason} {e.details}"
        for e in AuditEvent.objects.all()[audit_before:]
    )


@pytest.mark.parametrize("what", sorted(WRITES))
def test_the_same_fields_take_text_that_names_victims_by_code(
    people: People, lahore_case: Case, victim: Victim, what: str
) -> None:
    write, field = WRITES[what]
    write(people, lahore_case, **{field: f"about {victim.pseudonym}"})
