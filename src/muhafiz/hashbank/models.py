"""Bank tables: category schemes, banks, their entries, and imports with provenance.

Writes go through `muhafiz.hashbank.actions`; nothing here saves on its own.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from muhafiz.banks.model import BankKind, HashEntry
from muhafiz.core.permissions import Scope
from muhafiz.hashbank.reasons import row_in_words

HASH_FIELDS = ("md5", "sha1", "sha256", "pdq")


class CategoryScheme(models.Model):
    """How a bank's category numbers read (Project VIC US, UK CAID, the legacy CAT-0..5 scale).

    `categories` is a list of {"value": int, "code": str, "label": str}; the shipped schemes
    are loaded by a data migration and can be edited like any other catalogue data.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=150)
    categories = models.JSONField(_("categories"), default=list)
    source = models.CharField(_("source"), max_length=300, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def label_for(self, value: int | None) -> str | None:
        if value is None:
            return None
        for category in self.categories:
            if category.get("value") == value:
                return str(category.get("label", ""))
        return None

    def label_in_words(self, value: int | None) -> str | None:
        """The label in the reader's language: a shipped label has its Urdu in the catalogue
        (hashbank/shipped.py); a label an administrator wrote reads as written."""
        label = self.label_for(value)
        return gettext(label) if label else label


class BankKindChoice(models.TextChoices):
    KNOWN_BAD = BankKind.KNOWN_BAD.value, _("Known bad")
    KNOWN_GOOD = BankKind.KNOWN_GOOD.value, _("Known good")
    WATCH = BankKind.WATCH.value, _("Watch list")


# Why a bank is put into matching or taken out of it: audited, kept nowhere else.
ENABLE_REASON_MAX_LENGTH = 500


class Bank(models.Model):
    # Limits of the text columns without one (core.limits).
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"description": 2000}

    name = models.CharField(_("name"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=BankKindChoice.choices)
    agency = models.ForeignKey(
        "catalogue.Agency",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hash_banks",
        verbose_name=_("owning agency"),
    )
    category_scheme = models.ForeignKey(
        CategoryScheme,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="banks",
        verbose_name=_("category scheme"),
    )
    description = models.TextField(_("description"), blank=True)
    enabled = models.BooleanField(_("enabled for matching"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def bank_kind(self) -> BankKind:
        return BankKind(self.kind)

    def access_scope(self) -> Scope:
        """Where the bank lives for `bank.manage`: its owning agency's district or province.

        A bank with no owner, or a national agency's, is national: only staff with national
        jurisdiction manage it. Viewing and matching are not scoped (banks serve everyone).
        """
        agency = self.agency
        if agency is None:
            return Scope()
        province_id = agency.province_id
        if province_id is None and agency.district_id is not None:
            province_id = agency.district.province_id  # type: ignore[union-attr]
        return Scope(district_id=agency.district_id, province_id=province_id)


class ImportStatus(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    REJECTED = "rejected", _("Rejected: bad rows, nothing imported")
    ALREADY_IMPORTED = "already-imported", _("Already imported: nothing added")
    RUNNING = "running", _("Running: entries are being staged")
    FAILED = "failed", _("Failed or interrupted: nothing imported")


class BankImport(models.Model):
    """One attempt to import a hash-list file into a bank: what, from where, by whom, outcome."""

    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="imports")
    source_name = models.CharField(_("source file name"), max_length=255)
    source_sha256 = models.CharField(_("source file SHA-256"), max_length=64)
    source_size = models.BigIntegerField(_("source file size"), default=0)
    format = models.CharField(_("format"), max_length=40)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=20, choices=ImportStatus.choices)
    added = models.PositiveIntegerField(_("entries added"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicate entries"), default=0)
    bad = models.PositiveIntegerField(_("bad rows"), default=0)
    errors = models.JSONField(_("bad rows named"), default=list, blank=True)
    # A running import's last committed batch: one silent for long was interrupted (kill -9).
    progress_at = models.DateTimeField(null=True, blank=True)
    # The rows of the file read so far (good, bad and repeated), said with `progress_at`; all
    # of them once the file has been read.
    rows_read = models.PositiveBigIntegerField(_("rows read"), default=0)

    class Meta:
        ordering = ["-imported_at", "-pk"]
        indexes = [models.Index(fields=["bank", "source_sha256"], name="hashbank_import_file")]

    def __str__(self) -> str:
        return f"{self.source_name} → {self.bank.name} ({self.status})"


class UploadStatus(models.TextChoices):
    QUEUED = "queued", _("Queued: waiting for a worker")
    RUNNING = "running", _("Running: the list is being read and imported")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed: nothing imported")


# A bank's upload that is waiting for a worker or being imported (one at a time per bank).
UPLOAD_BUSY = (UploadStatus.QUEUED, UploadStatus.RUNNING)


class BankUpload(models.Model):
    """A hash list uploaded on a bank's page: stored (`core.storage`, under `stored_name`),
    then imported by a job (`actions.uploads.import_bank_upload`), which records the outcome
    here; the attempt itself, with its provenance, is the `BankImport` the import made."""

    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="uploads")
    source_name = models.CharField(_("source file name"), max_length=255)
    source_sha256 = models.CharField(_("source file SHA-256"), max_length=64)
    source_size = models.BigIntegerField(_("source file size"), default=0)
    stored_name = models.CharField(max_length=300)
    # The format the uploader chose; empty: detected from the content by the import.
    format = models.CharField(_("format"), max_length=40, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Or the API client that sent it (API clients are not users); the import acts as either.
    uploaded_by_client = models.ForeignKey(
        "accounts.ApiClient", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    status = models.CharField(
        _("status"), max_length=20, choices=UploadStatus.choices, default=UploadStatus.QUEUED
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    bank_import = models.ForeignKey(
        BankImport, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    added = models.PositiveIntegerField(_("entries added"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicate entries"), default=0)
    already_imported = models.BooleanField(default=False)
    bad = models.PositiveIntegerField(_("bad rows"), default=0)
    errors = models.JSONField(_("bad rows named"), default=list, blank=True)
    failure = models.TextField(_("why it failed"), blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.source_name} → {self.bank.name} ({self.status})"

    def bad_rows_in_words(self) -> list[dict[str, Any]]:
        """The named bad rows, each `{"line", "why"}` with its reason in the active language."""
        return [{"line": row.get("line"), "why": row_in_words(row)} for row in self.errors]

    @property
    def rows_read(self) -> int:
        """How many rows of the file its import has read: while it runs, as the bank's running
        import of this file last said (one import per bank at a time; it says so every few
        seconds, `BankImport.rows_read`); once done, all of them. A query while running."""
        if self.bank_import_id is not None:
            return self.bank_import.rows_read if self.bank_import else 0
        if self.status != UploadStatus.RUNNING:
            return 0
        running = (
            BankImport.objects.filter(
                bank_id=self.bank_id,
                source_sha256=self.source_sha256,
                status=ImportStatus.RUNNING,
            )
            .order_by("-pk")
            .values_list("rows_read", flat=True)
            .first()
        )
        return running or 0


def active_entry(prefix: str = "") -> Q:
    """An entry everyone sees: not removed, and added singly or by an import that completed.

    A long import moves its rows into the bank a chunk at a time (short transactions); they stay
    out of sight until the import completes, and go if it fails (`hashbank.actions.imports`).
    `prefix` is the path to the entry from another model (`"entries__"` from a bank)."""
    return Q(**{f"{prefix}removed_at__isnull": True}) & landed_entry(prefix)


def landed_entry(prefix: str = "") -> Q:
    """An entry added singly or by an import that completed, removed or not: never a row of an
    import still moving its rows in, or of one that failed."""
    return Q(**{f"{prefix}added_by__isnull": True}) | Q(
        **{f"{prefix}added_by__status": ImportStatus.COMPLETED}
    )


class BankEntryQuerySet(models.QuerySet["BankEntry"]):
    def active(self) -> BankEntryQuerySet:
        return self.filter(active_entry())

    def landed(self) -> BankEntryQuerySet:
        """Entries whose record may be shown, removed ones included (`landed_entry`)."""
        return self.filter(landed_entry())

    def matchable(self) -> BankEntryQuerySet:
        return self.filter(active_entry(), bank__enabled=True)


def _unique_per_bank(field: str) -> models.UniqueConstraint:
    # One active entry per hash value per bank; removed entries keep their history. The hash
    # comes first so the same index serves "which active entries hold these hashes?" lookups
    # across all banks (matching), not only per-bank duplicate checks.
    return models.UniqueConstraint(
        fields=[field, "bank"],
        condition=Q(removed_at__isnull=True) & Q(**{f"{field}__isnull": False}),
        name=f"hashbank_entry_{field}_per_bank",
    )


class BankEntry(models.Model):
    TEXT_LIMITS: ClassVar[dict[str, int]] = {"removal_reason": 2000}

    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="entries")
    md5 = models.CharField(max_length=32, null=True, blank=True)
    sha1 = models.CharField(max_length=40, null=True, blank=True)
    sha256 = models.CharField(max_length=64, null=True, blank=True)
    pdq = models.CharField(max_length=64, null=True, blank=True)
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    photodna = models.TextField(null=True, blank=True, help_text=_("Opaque; passed through."))
    category = models.SmallIntegerField(_("category"), null=True, blank=True)
    series = models.CharField(_("series"), max_length=200, blank=True)
    victim_identified = models.BooleanField(_("victim identified"), null=True, blank=True)
    offender_identified = models.BooleanField(_("offender identified"), null=True, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    note = models.TextField(_("note from the source list"), blank=True)
    source_line = models.PositiveIntegerField(_("line or record in the source file"), default=0)
    added_by = models.ForeignKey(
        BankImport,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entries",
        verbose_name=_("added by import"),
    )
    added_at = models.DateTimeField(auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)
    removal_reason = models.TextField(blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = BankEntryQuerySet.as_manager()

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "bank entries"
        constraints = [_unique_per_bank(field) for field in HASH_FIELDS]

    def __str__(self) -> str:
        first = next((getattr(self, f) for f in HASH_FIELDS if getattr(self, f)), None)
        return f"{self.bank_id}:{first or self.pk}"

    def hashes(self) -> dict[str, str]:
        return {f: getattr(self, f) for f in (*HASH_FIELDS, "photodna") if getattr(self, f)}

    def to_hash_entry(self, *, with_details: bool = True) -> HashEntry:
        """This entry as the banks library's record (for exports and the match index)."""
        details: dict[str, Any] = {}
        if with_details:
            details = {
                "pdq_quality": self.pdq_quality,
                "photodna": self.photodna,
                "category": self.category,
                "series": self.series or None,
                "victim_identified": self.victim_identified,
                "offender_identified": self.offender_identified,
                "tags": tuple(self.tags or ()),
                "note": self.note or None,
            }
        return HashEntry(md5=self.md5, sha1=self.sha1, sha256=self.sha256, pdq=self.pdq, **details)
