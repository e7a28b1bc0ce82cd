"""What the register's actions share (outside the actions package: no action lives here): the
chosen rule set, the holiday calendar and clock arithmetic (the proceedings engine), alert
recipients and the one alert writer (called by actions after their check), validation of text."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from muhafiz.catalogue.models import District
from muhafiz.core.limits import check_lengths
from muhafiz.core.permissions import ROLE_GRANTS, Perm, granted_perms, user_pk
from muhafiz.proceedings.clocks import Deadline, deadline_for
from muhafiz.proceedings.models import Holiday
from muhafiz.register.models import (
    NoticeRule,
    Obligation,
    PeriodRule,
    RegisterAlert,
    RuleSet,
)

DUE_SOON_FRACTION = 0.75
REGISTER_PERMS = frozenset(
    {
        Perm.REGISTER_MANAGE,
        Perm.REGISTER_VERIFY,
        Perm.REGISTER_REQUEST,
        Perm.REGISTER_APPROVE,
        Perm.REGISTER_VET,
    }
)


def rule_set() -> str:
    """The deployment's choice of period rules (`MUHAFIZ_REGISTER_RULE_SET`)."""
    chosen = str(getattr(settings, "MUHAFIZ_REGISTER_RULE_SET", RuleSet.UK))
    return chosen if chosen in RuleSet.values else RuleSet.UK


def absconder_grace_days() -> int:
    return int(getattr(settings, "MUHAFIZ_REGISTER_ABSCONDER_GRACE_DAYS", 14))


def holidays() -> frozenset[date]:
    return frozenset(Holiday.objects.values_list("date", flat=True))


def in_force_on(day: date) -> Q:
    """The rule versions in force on `day` (a versioned rule's `in_force_from`/`_until`)."""
    return Q(in_force_from__lte=day) & (Q(in_force_until__isnull=True) | Q(in_force_until__gt=day))


def notice_rule(kind: str, on: datetime) -> NoticeRule | None:
    """The notice rule of `kind` in force at `on`, on Pakistan's calendar: a version in force
    from a day is in force from that day's midnight in Pakistan, five hours before UTC's."""
    day = timezone.localdate(on) if timezone.is_aware(on) else on.date()
    return NoticeRule.objects.filter(in_force_on(day), kind=kind).first()


def notice_deadline(kind: str, start: datetime) -> Deadline:
    """When a notice of `kind` is due after `start` (the proceedings clock engine), by the rule
    in force at `start`."""
    rule = notice_rule(kind, start)
    amount, unit = (rule.amount, rule.unit) if rule is not None else (3, "business_days")
    return deadline_for(start, amount, unit, DUE_SOON_FRACTION, holidays())


ADVANCE_DUE_SOON = timedelta(days=2)


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def advance_deadline(rule: NoticeRule, departure: date, *, now: datetime) -> Deadline:
    """A notice owed before an event (foreign travel): due `amount` days before the day of
    departure, nearly due two days before that; the clock runs from `now` (when the police
    learned of the journey)."""
    due_at = day_start(departure) - timedelta(days=rule.amount)
    return Deadline(
        started_at=min(now, due_at),
        due_at=due_at,
        due_soon_at=max(min(now, due_at), due_at - ADVANCE_DUE_SOON),
    )


def rules_for(chosen: str, convicted_at: datetime) -> QuerySet[PeriodRule]:
    """The active period rules of rule set `chosen` in force on the day of the conviction:
    an edit of the rules never reaches back to an entry made under an earlier version."""
    return PeriodRule.objects.filter(
        in_force_on(timezone.localdate(convicted_at)), rule_set=chosen, active=True
    )


def open_obligation(
    registrant: Any, kind: str, deadline: Deadline, notice_kind: str = ""
) -> Obligation:
    return Obligation.objects.create(
        registrant=registrant,
        kind=kind,
        notice_kind=notice_kind,
        started_at=deadline.started_at,
        due_at=deadline.due_at,
        due_soon_at=deadline.due_soon_at,
    )


def reason_text(
    reason: str, model: type[Model], field: str = "reason", *, model_field: str | None = None
) -> str:
    """A reason given (or refused, naming `field`), within the limit of the `model` field that
    keeps it (`model_field`, when its name differs from the one the caller's users know)."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError({field: _("Give a reason.")})
    check_lengths(model, {field: text}, fields={field: model_field or field})
    return text


def checked_text(value: str, model: type[Model], field: str, *, required: bool = True) -> str:
    """A text field stripped, required (unless not) and within its `model` field's limit."""
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field: _("This field is required.")})
    check_lengths(model, {field: text})
    return text


def user_or_none(actor: Any) -> Any:
    """The staff member acting, or None for an API client or the system."""
    from muhafiz.accounts.models import User

    return actor if isinstance(actor, User) else None


def require_any(actor: Any, perms: Iterable[Perm]) -> None:
    """Refuse unless the actor's role grants one of `perms` (the object check comes next)."""
    wanted = frozenset(perms)
    if not granted_perms(actor) & wanted:
        raise PermissionDenied(",".join(sorted(p.value for p in wanted)))


def require_user(actor: Any) -> None:
    if user_pk(actor) is None:
        raise PermissionDenied("staff only")


# --- alerts -------------------------------------------------------------------------------------


def roles_granting(perm: Perm) -> list[str]:
    return sorted(role for role, perms in ROLE_GRANTS.items() if perm in perms)


def people_covering(perm: Perm, district: District | None) -> Q:
    """Active staff whose role grants `perm` and whose jurisdiction covers `district` (a
    national one only, when there is no district)."""
    covers = Q(jurisdiction_level="national")
    if district is not None:
        covers |= Q(jurisdiction_level="province", province_id=district.province_id)
        covers |= Q(jurisdiction_level="district", district_id=district.pk)
    return Q(is_active=True, role__in=roles_granting(perm)) & covers


def raise_alerts(
    recipients: Iterable[int],
    kind: str,
    message: str,
    *,
    link: str,
    dedupe_key: str,
    params: dict[str, str] | None = None,
) -> int:
    """One alert per recipient, once per `dedupe_key`; returns how many were new. `message` is
    the untranslated text (marked with `gettext_noop`) with `%(name)s` places that `params`
    fill: the reader's page puts it in the reader's language (`RegisterAlert.text`)."""
    ids = sorted(set(recipients))
    before = RegisterAlert.objects.filter(recipient_id__in=ids, dedupe_key=dedupe_key).count()
    RegisterAlert.objects.bulk_create(
        [
            RegisterAlert(
                recipient_id=pk,
                kind=kind,
                message=message,
                params=params or {},
                link=link,
                dedupe_key=dedupe_key,
            )
            for pk in ids
        ],
        ignore_conflicts=True,
    )
    return len(ids) - before


def bulk_alerts(rows: list[RegisterAlert], chunk: int = 5000) -> int:
    """Write prepared alerts, skipping any already raised (same recipient and dedupe key);
    returns how many were new."""
    if not rows:
        return 0
    keys = sorted({row.dedupe_key for row in rows})

    def existing() -> int:
        return sum(
            RegisterAlert.objects.filter(dedupe_key__in=keys[i : i + 1000]).count()
            for i in range(0, len(keys), 1000)
        )

    before = existing()
    RegisterAlert.objects.bulk_create(rows, ignore_conflicts=True, batch_size=chunk)
    return existing() - before


def alert_covering(
    perm: Perm,
    district: District | None,
    kind: str,
    message: str,
    *,
    link: str,
    dedupe_key: str,
    params: dict[str, str] | None = None,
) -> int:
    from muhafiz.accounts.models import User

    recipients = User.objects.filter(people_covering(perm, district)).values_list("pk", flat=True)
    return raise_alerts(recipients, kind, message, link=link, dedupe_key=dedupe_key, params=params)
