"""Entries: a conviction recorded in proceedings becomes a pending entry (the only way one is
made), an acquittal on appeal suspends it, the register officer confirms it, records the release
that starts the period, and removes the entry (erasing the person's details)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from muhafiz.audit.actions import record
from muhafiz.cases.models import Accused, IdentifierKind
from muhafiz.catalogue.models import District
from muhafiz.core.fields import blind_index_q
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import Perm, check_perm, check_system
from muhafiz.proceedings.clocks import add_months, deadline_for
from muhafiz.proceedings.models import Outcome, StageCode, StageEvent
from muhafiz.register.models import (
    Address,
    AlertKind,
    Conviction,
    ConvictionStatus,
    DueProcessKind,
    DueProcessRequest,
    HandledJudgment,
    NoticeKind,
    Notification,
    Obligation,
    ObligationKind,
    PeriodRule,
    Registrant,
    RegistrantIdentifier,
    RegistrantStatus,
    SentenceKind,
    Verification,
)
from muhafiz.register.rules import Sentence, choose_rule, period_end, read_sentence
from muhafiz.register.support import (
    alert_covering,
    notice_deadline,
    open_obligation,
    rule_set,
    rules_for,
    user_or_none,
)

# Every field of a registrant that removal clears (the blind indexes follow their sources).
ERASED_FIELDS = [
    "name",
    "name_index",
    "aliases",
    "cnic",
    "cnic_index",
    "status",
    "compliance",
    "non_compliant_since",
    "absconder_since",
    "district",
    "last_verified_at",
    "released_at",
    "period_ends_on",
    "indefinite",
    "removal_due",
    "removed_at",
    "removal_reason",
]
LIVE = (RegistrantStatus.PENDING, RegistrantStatus.ACTIVE, RegistrantStatus.SUSPENDED)


class RemovalReason:
    PERIOD_ENDED = "period_ended"
    ACQUITTAL = "acquittal"
    APPEAL = "appeal_upheld"
    ERROR = "entered_in_error"
    REVIEW = "review_granted"
    ALL = ("period_ended", "acquittal", "appeal_upheld", "entered_in_error", "review_granted")


# --- from proceedings ---------------------------------------------------------------------------


def record_judgment(actor: Any, event_id: int) -> Conviction | None:
    """The register's side of a judgment or appeal decision (the `proceedings.judgment_recorded`
    hook and the compliance job call it as SYSTEM). A conviction for a listed offence makes one
    pending entry (a second call for the same judgment makes nothing); an appeal allowed against
    a conviction suspends the entry and queues its removal. Returns the conviction concerned."""
    check_system(actor)
    event = (
        StageEvent.objects.select_related("case__district", "accused", "court")
        .filter(pk=event_id)
        .first()
    )
    if event is None or event.accused is None:
        return None
    if event.code == StageCode.JUDGMENT_DELIVERED and event.outcome == Outcome.CONVICTION:
        return _conviction_from(actor, event)
    if event.code == StageCode.APPEAL_DECIDED and event.outcome == Outcome.APPEAL_ALLOWED:
        if _judgment_outcome(event) == Outcome.ACQUITTAL:
            # The prosecution's appeal against an acquittal, allowed: a conviction.
            return _conviction_from(actor, event)
        return _acquitted_on_appeal(actor, event)
    return None


def _judgment_outcome(appeal: StageEvent) -> str:
    """What the trial court decided for the appeal's accused (the judgment appealed)."""
    judgment = (
        StageEvent.objects.filter(
            case_id=appeal.case_id,
            accused=appeal.accused,
            code=StageCode.JUDGMENT_DELIVERED,
            occurred_at__lte=appeal.occurred_at,
        )
        .order_by("-occurred_at", "-pk")
        .first()
    )
    return judgment.outcome if judgment is not None else ""


def _conviction_from(actor: Any, event: StageEvent) -> Conviction | None:
    case = event.case
    listed = sorted(case.offences.filter(registrable=True).values_list("code", flat=True))
    if not listed:
        return None  # not a listed offence (Anti-Rape Act 2021 s.2(h)): no entry
    accused = event.accused
    assert accused is not None
    sentence = read_sentence(event.sentence)
    chosen = rule_set()
    rule = choose_rule(rules_for(chosen, event.occurred_at), listed, sentence)
    with transaction.atomic():
        _handled, created = HandledJudgment.objects.get_or_create(event_id=event.pk)
        if not created:
            return Conviction.objects.filter(judgment_event_id=event.pk).first()
        registrant, merged = _registrant_for(accused, case.district)
        conviction = Conviction.objects.create(
            registrant=registrant,
            case=case,
            accused=accused,
            judgment_event_id=event.pk,
            court=event.court,
            convicted_at=event.occurred_at,
            offence_codes=listed,
            sentence=event.sentence,
            sentence_kind=sentence.kind,
            sentence_months=sentence.months,
            rule_set=chosen,
            **_period_fields(rule),
        )
        record(
            actor,
            "register.entry_pending",
            conviction,
            case=case.reference,
            accused=accused.label,
            registrant=registrant.code,
            merged_with_existing=merged,
            rule=rule.code if rule else "",
            sections=listed,
        )
        alert_covering(
            Perm.REGISTER_MANAGE,
            None,
            AlertKind.PENDING_ENTRY,
            gettext_noop("Conviction in %(case)s awaits review as %(code)s."),
            params={"case": case.reference, "code": registrant.code},
            link=f"/register/registrants/{registrant.code}/",
            dedupe_key=f"pending:{conviction.pk}",
        )
    return conviction


def _period_fields(rule: PeriodRule | None) -> dict[str, Any]:
    if rule is None:
        return {"rule": None, "tier": "", "period_months": None, "indefinite": False}
    return {
        "rule": rule,
        "tier": rule.tier,
        "period_months": rule.period_months,
        "indefinite": rule.period_months is None,
        "verification_interval_months": rule.verification_interval_months,
    }


def _registrant_for(accused: Accused, district: District) -> tuple[Registrant, bool]:
    """The registrant with the accused's CNIC (one person, many convictions), or a new one with
    the accused's details copied (encrypted, blind-indexed)."""
    identifiers = list(accused.identifiers.all())
    cnics = [i.value for i in identifiers if i.kind == IdentifierKind.CNIC]
    for cnic in cnics:
        found = (
            Registrant.objects.select_for_update()
            .filter(blind_index_q(Registrant, "cnic_index", cnic), status__in=LIVE)
            .first()
        )
        if found is not None:
            _add_identifiers(found, identifiers)
            return found, True
    registrant = Registrant.objects.create(
        code=f"tmp-{uuid.uuid4().hex[:12]}",
        name=accused.name,
        aliases=accused.aliases,
        cnic=cnics[0] if cnics else "",
        district=district,
    )
    registrant.code = f"R-{registrant.pk:07d}"
    registrant.save(update_fields=["code"])
    _add_identifiers(registrant, identifiers)
    if accused.addresses:
        Address.objects.create(
            registrant=registrant,
            address=accused.addresses,
            district=district,
            since=timezone.localdate(),
            source="case",
        )
    return registrant, False


def _add_identifiers(registrant: Registrant, identifiers: list[Any]) -> None:
    have = {(i.kind, i.value) for i in registrant.identifiers.all()}
    RegistrantIdentifier.objects.bulk_create(
        [
            RegistrantIdentifier(registrant=registrant, kind=i.kind, value=i.value)
            for i in identifiers
            if i.kind != IdentifierKind.CNIC and (i.kind, i.value) not in have
        ]
    )


def _acquitted_on_appeal(actor: Any, event: StageEvent) -> Conviction | None:
    with transaction.atomic():
        _handled, created = HandledJudgment.objects.get_or_create(event_id=event.pk)
        if not created:
            return Conviction.objects.filter(appeal_event_id=event.pk).first()
        conviction = (
            Conviction.objects.select_for_update()
            .select_related("registrant")
            .filter(case=event.case, accused=event.accused)
            .exclude(status=ConvictionStatus.SUSPENDED)
            .first()
        )
        if conviction is None:
            return None
        conviction.status = ConvictionStatus.SUSPENDED
        conviction.appeal_event_id = event.pk
        conviction.save(update_fields=["status", "appeal_event_id"])
        registrant = conviction.registrant
        still = registrant.convictions.exclude(status=ConvictionStatus.SUSPENDED).exists()
        if not still:
            registrant.status = RegistrantStatus.SUSPENDED
            registrant.removal_due = True
            registrant.save(update_fields=["status", "removal_due"])
            # Nothing more is owed while suspended.
            Obligation.objects.filter(registrant=registrant, met_at__isnull=True).delete()
        record(
            actor,
            "register.entry_suspended",
            conviction,
            case=event.case.reference,
            registrant=registrant.code,
            registrant_suspended=not still,
        )
        alert_covering(
            Perm.REGISTER_MANAGE,
            None,
            AlertKind.REMOVAL_QUEUED,
            gettext_noop("Acquitted on appeal in %(case)s: remove %(code)s."),
            params={"case": event.case.reference, "code": registrant.code},
            link=f"/register/registrants/{registrant.code}/",
            dedupe_key=f"acquitted:{conviction.pk}",
        )
    return conviction


# --- the register officer's review --------------------------------------------------------------


def confirm_conviction(
    actor: Any,
    conviction: Conviction,
    *,
    sentence_months: int | None = None,
    rule: PeriodRule | None = None,
    request: HttpRequest | None = None,
) -> Conviction:
    """The officer confirms a pending conviction (setting the sentence in months when it was not
    understood, or choosing the rule); the registrant becomes registered."""
    check_perm(actor, Perm.REGISTER_MANAGE)
    if conviction.status != ConvictionStatus.PENDING:
        raise ValidationError(_("Only a pending conviction can be confirmed."))
    fields = ["status", "confirmed_at", "confirmed_by"]
    if sentence_months is not None:
        if sentence_months < 0 or sentence_months > 1200:
            raise ValidationError({"sentence_months": _("Give the sentence in months.")})
        conviction.sentence_kind = (
            SentenceKind.CUSTODIAL if sentence_months else SentenceKind.NON_CUSTODIAL
        )
        conviction.sentence_months = sentence_months
        fields += ["sentence_kind", "sentence_months"]
        if rule is None:
            rule = choose_rule(
                rules_for(conviction.rule_set, conviction.convicted_at),
                conviction.offence_codes,
                Sentence(conviction.sentence_kind, sentence_months),
            )
    if rule is not None:
        for name, value in _period_fields(rule).items():
            setattr(conviction, name, value)
        conviction.rule_set = rule.rule_set
        fields += ["rule", "tier", "period_months", "indefinite", "rule_set"]
        fields += ["verification_interval_months"]
    if conviction.rule_id is None:
        raise ValidationError(
            {"sentence_months": _("No period rule applies yet: give the sentence in months.")}
        )
    conviction.status = ConvictionStatus.CONFIRMED
    conviction.confirmed_at = timezone.now()
    conviction.confirmed_by = user_or_none(actor)
    with transaction.atomic():
        conviction.save(update_fields=sorted(set(fields)))
        registrant = conviction.registrant
        if registrant.status == RegistrantStatus.PENDING:
            registrant.status = RegistrantStatus.ACTIVE
            registrant.save(update_fields=["status"])
        _refresh_period(registrant)
        record(
            actor,
            "register.entry_confirmed",
            conviction,
            request=request,
            registrant=registrant.code,
            rule=conviction.rule.code if conviction.rule else "",
        )
    return conviction


def _refresh_period(registrant: Registrant) -> None:
    """The registrant's end of registration: the latest end of their live convictions."""
    live = list(registrant.convictions.exclude(status=ConvictionStatus.SUSPENDED))
    if registrant.released_at is None or not live:
        return
    released = timezone.localdate(registrant.released_at)
    indefinite = any(c.indefinite for c in live)
    ends = [period_end(released, c.period_months) for c in live if not c.indefinite]
    registrant.indefinite = indefinite
    registrant.period_ends_on = None if indefinite else max(e for e in ends if e is not None)
    registrant.save(update_fields=["indefinite", "period_ends_on"])


def _apply_rule(actor: Any, registrant: Registrant, rule: PeriodRule) -> None:
    """An appeal against the tier upheld: `rule` now governs every live conviction."""
    fields = _period_fields(rule)
    registrant.convictions.exclude(status=ConvictionStatus.SUSPENDED).update(
        rule_set=rule.rule_set, **fields
    )
    _refresh_period(registrant)
    record(actor, "register.tier_changed", registrant, rule=rule.code)


def _verification_interval(registrant: Registrant) -> int:
    """Months between in-person verifications: the shortest any live conviction requires."""
    months = [
        c.verification_interval_months
        for c in registrant.convictions.exclude(status=ConvictionStatus.SUSPENDED)
    ]
    return min(months) if months else 12


def record_release(
    actor: Any,
    registrant: Registrant,
    *,
    released_at: datetime,
    address: str = "",
    district: District | None = None,
    now: datetime | None = None,
    request: HttpRequest | None = None,
) -> Registrant:
    """The officer records the release from custody: the period starts, the initial
    registration falls due (notice rules) and the first in-person verification is scheduled."""
    check_perm(actor, Perm.REGISTER_MANAGE)
    now = now or timezone.now()
    if registrant.status != RegistrantStatus.ACTIVE:
        raise ValidationError(_("Confirm the conviction before recording the release."))
    if registrant.released_at is not None:
        raise ValidationError(_("The release is already recorded."))
    if timezone.is_naive(released_at):
        raise ValidationError({"released_at": _("Give the time with its time zone.")})
    if released_at > now:
        raise ValidationError({"released_at": _("The release cannot be in the future.")})
    first = registrant.convictions.order_by("convicted_at").first()
    if first is not None and released_at < first.convicted_at:
        raise ValidationError({"released_at": _("The release cannot come before the conviction.")})
    if address.strip() and district is None:
        raise ValidationError({"district": _("Say in which district the address is.")})
    check_lengths(Address, {"address": address})
    with transaction.atomic():
        registrant.released_at = released_at
        fields = ["released_at"]
        if address.strip() and district is not None:
            Address.objects.filter(registrant=registrant, until__isnull=True).update(
                until=timezone.localdate(released_at)
            )
            Address.objects.create(
                registrant=registrant,
                address=address.strip(),
                district=district,
                since=timezone.localdate(released_at),
                source="release",
            )
            registrant.district = district
            fields.append("district")
        registrant.save(update_fields=fields)
        _refresh_period(registrant)
        open_obligation(
            registrant,
            ObligationKind.INITIAL,
            notice_deadline(NoticeKind.INITIAL, released_at),
            NoticeKind.INITIAL,
        )
        _schedule_verification(registrant, released_at)
        record(
            actor,
            "register.release_recorded",
            registrant,
            request=request,
            released_on=timezone.localdate(released_at).isoformat(),
            period_ends_on=registrant.period_ends_on.isoformat()
            if registrant.period_ends_on
            else "",
            indefinite=registrant.indefinite,
        )
    return registrant


def _schedule_verification(registrant: Registrant, since: datetime) -> Obligation:
    """The next in-person verification, `verification_interval` months after `since`."""
    local = timezone.localtime(since)
    due_day = add_months(local.date(), _verification_interval(registrant))
    months_in_days = (due_day - local.date()).days
    deadline = deadline_for(since, months_in_days, "days", 0.9)
    return open_obligation(registrant, ObligationKind.VERIFICATION, deadline)


# --- removal ------------------------------------------------------------------------------------


def remove_entry(
    actor: Any,
    registrant: Registrant,
    *,
    reason: str,
    request: HttpRequest | None = None,
) -> Registrant:
    """The officer removes an entry (period ended, acquittal, appeal upheld, entered in error):
    every detail of the person is erased from the register's tables; the code remains, with
    the reason, so the audit log's entries still point somewhere. The conviction stays in the
    case."""
    check_perm(actor, Perm.REGISTER_MANAGE)
    if reason not in RemovalReason.ALL:
        raise ValidationError({"reason": _("Choose why the entry is removed.")})
    if registrant.status == RegistrantStatus.REMOVED:
        raise ValidationError(_("The entry is already removed."))
    if reason == RemovalReason.PERIOD_ENDED and (
        registrant.indefinite
        or registrant.period_ends_on is None
        or registrant.period_ends_on >= timezone.localdate()
    ):
        raise ValidationError({"reason": _("The registration period has not ended.")})
    if (
        reason == RemovalReason.REVIEW
        and not registrant.due_process.filter(
            kind=DueProcessKind.INDEFINITE_REVIEW, upheld=True
        ).exists()
    ):
        raise ValidationError({"reason": _("No review of the registration was granted.")})
    if reason == RemovalReason.ACQUITTAL and registrant.status != RegistrantStatus.SUSPENDED:
        raise ValidationError({"reason": _("No acquittal on appeal is recorded for this entry.")})
    with transaction.atomic():
        code = registrant.code
        counts = {
            "convictions": registrant.convictions.count(),
            "addresses": registrant.addresses.count(),
        }
        for model in (
            RegistrantIdentifier,
            Address,
            Notification,
            Verification,
            Obligation,
            DueProcessRequest,
            Conviction,
        ):
            model.objects.filter(registrant=registrant).delete()
        registrant.name = ""
        registrant.aliases = ""
        registrant.cnic = ""
        registrant.status = RegistrantStatus.REMOVED
        registrant.compliance = "compliant"
        registrant.non_compliant_since = None
        registrant.absconder_since = None
        registrant.district = None
        registrant.last_verified_at = None
        registrant.released_at = None
        registrant.period_ends_on = None
        registrant.indefinite = False
        registrant.removal_due = False
        registrant.removed_at = timezone.now()
        registrant.removal_reason = reason
        registrant.save(update_fields=ERASED_FIELDS)
        record(
            actor,
            "register.entry_removed",
            registrant,
            request=request,
            registrant=code,
            removal_reason=reason,
            erased=counts,
        )
    return registrant
