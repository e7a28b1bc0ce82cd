"""The audit event table: append-only, each row hash-chained to the one before it."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    USER = "user", _("Staff member")
    API_CLIENT = "api_client", _("API client")
    PUBLIC = "public", _("Member of the public")
    SYSTEM = "system", _("System")


class AuditEvent(models.Model):
    """One audited action or sensitive read.

    Rows are only ever inserted (database triggers reject UPDATE and DELETE). `row_hash` is the
    SHA-256 of the row's canonical serialisation, which includes `prev_hash`, the `row_hash` of
    the row with the previous `sequence`; so changing or removing any row breaks the chain from
    there on (see `muhafiz.audit.chain`). The actor's name, role and agency are copied in, so the
    record still says who acted after the account changes.

    Victim identity never goes into a row: objects are named by type, id and a non-identifying
    label, and `details` holds ids and codes, not names.
    """

    # The stated purpose or reason has no column limit (core.limits): a reason is a sentence or
    # two, never a document.
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"reason": 2000}

    sequence = models.PositiveBigIntegerField(_("sequence"), unique=True, editable=False)
    occurred_at = models.DateTimeField(_("time"), editable=False)
    actor_kind = models.CharField(_("actor kind"), max_length=12, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("staff member"),
    )
    actor_client = models.ForeignKey(
        "accounts.ApiClient",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("API client"),
    )
    actor_name = models.CharField(_("actor"), max_length=150, blank=True)
    actor_role = models.CharField(_("role at the time"), max_length=40, blank=True)
    actor_agency = models.CharField(_("agency at the time"), max_length=40, blank=True)
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    reason = models.TextField(_("purpose or reason"), blank=True)
    client_address = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    row_hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        ordering = ["-sequence"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["occurred_at"], name="audit_time_idx"),
            models.Index(fields=["actor_name"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("audit events cannot be changed once written")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("audit events cannot be deleted")


class AppendOnlyError(RuntimeError):
    """Something tried to change or delete an audit event."""
