"""Evidence items and their chain of custody, imported triage scans (what each file's scan
record holds, never its content), examiner categories, and links between cases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from muhafiz.cases.models import Accused, Case
from muhafiz.core.permissions import Scope
from muhafiz.core.words import in_words, msgid, value_in_words

# Why a reader asks to see one file's preview: audited with the read, kept nowhere else.
REVEAL_REASON_MAX_LENGTH = 500


class EvidenceKind(models.TextChoices):
    PHONE = "phone", _("Mobile phone")
    COMPUTER = "computer", _("Computer or laptop")
    STORAGE = "storage", _("Disk, USB drive or memory card")
    DISK_IMAGE = "disk_image", _("Disk image or extraction")
    ACCOUNT = "account", _("Online account")
    DOCUMENT = "document", _("Document or print")
    OTHER = "other", _("Other")


class EvidenceItem(models.Model):
    """One seized thing; `label` (E1, E2, …) names it in its case."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="evidence_items")
    label = models.CharField(_("label"), max_length=10)
    kind = models.CharField(_("kind"), max_length=20, choices=EvidenceKind.choices)
    description = models.CharField(_("description"), max_length=500, blank=True)
    make_model = models.CharField(_("make and model"), max_length=200, blank=True)
    serial_number = models.CharField(_("serial number or IMEI"), max_length=100, blank=True)
    seal_number = models.CharField(_("seal number"), max_length=100, blank=True)
    seized_at = models.DateTimeField(_("seized at (time)"))
    seized_place = models.CharField(_("seized at (place)"), max_length=300)
    seized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("seized by"),
    )
    # The person who holds the item now: the recipient of the last hand-over.
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Recorded in error: kept with its reason, never deleted (`actions.void_item`).
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    void_reason = models.CharField(_("why it was voided"), max_length=500, blank=True)

    class Meta:
        ordering = ["case", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["case", "label"], name="evidence_label_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.case.reference} {self.label}"

    def audit_label(self) -> str:
        return f"{self.case.reference} {self.label}"

    def access_scope(self) -> Scope:
        return self.case.access_scope()


class CustodyPurpose(models.TextChoices):
    """Why an item changes hands: a code from this list is stored, or, for anything else, the
    officer's own words (`CustodyEvent.purpose_label` shows either in the reader's language)."""

    SEIZURE = "seizure", _("Seizure")
    FORENSIC_EXAMINATION = "forensic_examination", _("Forensic examination")
    SAFE_KEEPING = "safe_keeping", _("Safe keeping in the property room (malkhana)")
    COURT = "court", _("Production in court")
    PROSECUTION = "prosecution", _("To the prosecution")
    RETURN_TO_INVESTIGATOR = "return_to_investigator", _("Return to the investigating officer")
    TRANSFER = "transfer", _("Transfer to another officer")
    RETURN_TO_OWNER = "return_to_owner", _("Return to its owner")
    OTHER = "other", _("Other (say what)")


def custody_purpose_label(purpose: str) -> str:
    """A stored purpose in the reader's language: a code by its label; text recorded before the
    list existed by the label it matches ("Forensic examination"); anything else as written."""
    if purpose in CustodyPurpose.values and purpose != CustodyPurpose.OTHER:
        return str(CustodyPurpose(purpose).label)
    wanted = purpose.strip().casefold()
    for code, label in CustodyPurpose.choices:
        if code != CustodyPurpose.OTHER and wanted == msgid(label).casefold():
            return str(label)
    return purpose


class CustodyEvent(models.Model):
    """One hand-over of an item (the first one is its seizure). Never deleted: a wrong entry is
    corrected or voided with a reason (`actions.correct_custody`, `void_custody`), its old
    values kept in `EvidenceRevision`, and the chain must still hold after the change."""

    item = models.ForeignKey(EvidenceItem, on_delete=models.PROTECT, related_name="custody")
    seq = models.PositiveIntegerField()
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("when"))
    purpose = models.CharField(_("purpose"), max_length=300)
    seal_intact = models.BooleanField(_("seal intact"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    void_reason = models.CharField(_("why it was voided"), max_length=500, blank=True)

    class Meta:
        ordering = ["item", "seq"]
        constraints = [models.UniqueConstraint(fields=["item", "seq"], name="custody_seq_once")]

    def audit_label(self) -> str:
        return f"{self.item.audit_label()} custody {self.seq}"

    @property
    def purpose_label(self) -> str:
        return custody_purpose_label(self.purpose)


class EvidenceRevision(models.Model):
    """One correction or voiding of an item or of one of its custody entries (`custody` set):
    what it said before, what it says after, why and who. The item's history; never edited."""

    item = models.ForeignKey(EvidenceItem, on_delete=models.PROTECT, related_name="revisions")
    custody = models.ForeignKey(
        CustodyEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="revisions"
    )
    action = models.CharField(max_length=10)  # "correct" or "void"
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    reason = models.CharField(_("reason"), max_length=500)
    revised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revised_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["revised_at", "pk"]


class ScanOrigin(models.TextChoices):
    UPLOAD = "upload", _("Scan file imported")
    SERVER = "server", _("Scanned on the server")


# The state a scan file says it was left in (`Scan.scan_state`, written by the triage tool), in
# the reader's language; a state this list does not know is shown as written.
SCAN_STATE_LABELS = {
    "complete": pgettext_lazy("scan state", "complete"),
    "interrupted": pgettext_lazy("scan state", "interrupted"),
    "running": pgettext_lazy("scan state", "running"),
}


class ScanStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    IMPORTED = "imported", _("Imported")
    FAILED = "failed", _("Failed")


class AnalysisStatus(models.TextChoices):
    """Matching against the server's banks and cross-case linking, a job after the import."""

    PENDING = "pending", _("Waiting for a worker")
    RUNNING = "running", _("Matching and linking")
    DONE = "done", _("Matched and linked")
    FAILED = "failed", _("Matching failed")


class Scan(models.Model):
    """One triage scan file in a case: imported from a field laptop or made by a server job."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="scans")
    item = models.ForeignKey(
        EvidenceItem, on_delete=models.PROTECT, null=True, blank=True, related_name="scans"
    )
    origin = models.CharField(max_length=10, choices=ScanOrigin.choices)
    status = models.CharField(max_length=10, choices=ScanStatus.choices)
    original_name = models.CharField(_("file name"), max_length=255, blank=True)
    # Relative to DATA_DIR; the file's SHA-256 is re-verified every time it is opened.
    stored_path = models.CharField(max_length=500, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_size = models.BigIntegerField(default=0)
    # Server scans: the source scanned (inside a configured scan root).
    source_path = models.CharField(_("source path on the server"), max_length=1000, blank=True)
    tool_version = models.CharField(max_length=40, blank=True)
    scan_state = models.CharField(max_length=20, blank=True)  # complete / interrupted / running
    examiner = models.CharField(max_length=200, blank=True)
    started_at = models.CharField(max_length=40, blank=True)
    finished_at = models.CharField(max_length=40, blank=True)
    statistics = models.JSONField(default=dict, blank=True)
    failure = models.TextField(blank=True)
    # The failure as words the page says in its reader's language (`core.words`: a message with
    # its values, `evidence.reasons`); empty for a failure kept before it had them, which reads
    # as `failure` (its English).
    failure_words = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    # The import records the scan file's rows and returns; the analysis job (`analyse_scan`)
    # matches them against the server's banks and links them to other cases.
    analysis_status = models.CharField(max_length=10, choices=AnalysisStatus.choices, blank=True)
    analysis_failure = models.TextField(blank=True)
    analysis_failure_words = models.JSONField(default=dict, blank=True)
    analysed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.case.reference} scan {self.pk}"

    @property
    def failure_in_words(self) -> str:
        """Why the scan failed, in the reader's language; a failure kept before it had its words
        reads as kept (in the reader's language when it is one of the catalogue's sentences)."""
        return _in_words(self.failure_words, self.failure)

    @property
    def analysis_failure_in_words(self) -> str:
        """Why the analysis failed, in the reader's language (as `failure_in_words`)."""
        return _in_words(self.analysis_failure_words, self.analysis_failure)

    @property
    def scan_state_label(self) -> str:
        """The state the scan file was left in, in the reader's language."""
        return str(SCAN_STATE_LABELS.get(self.scan_state, self.scan_state))

    def audit_label(self) -> str:
        return f"{self.case.reference} scan {self.pk}"

    def access_scope(self) -> Scope:
        return self.case.access_scope()

    @property
    def progress(self) -> ScanProgress | None:
        """How far a running server scan has got (written by its job), or None."""
        if self.status != ScanStatus.QUEUED:
            return None
        raw = (self.statistics or {}).get("progress")
        if not isinstance(raw, dict):
            return None
        return ScanProgress(
            done_files=int(raw.get("done_files", 0)),
            total_files=int(raw.get("total_files", 0)),
            done_bytes=int(raw.get("done_bytes", 0)),
            total_bytes=int(raw.get("total_bytes", 0)),
            seconds=float(raw.get("seconds", 0)),
        )


@dataclass(frozen=True)
class ScanProgress:
    done_files: int
    total_files: int
    done_bytes: int
    total_bytes: int
    seconds: float

    @property
    def bytes_per_second(self) -> int:
        return int(self.done_bytes / self.seconds) if self.seconds > 0 else 0

    @property
    def percent(self) -> int:
        if self.total_bytes:
            return min(100, self.done_bytes * 100 // self.total_bytes)
        return min(100, self.done_files * 100 // self.total_files) if self.total_files else 0


class MediaFile(models.Model):
    """One file of a scan as the scan file records it: path, size, type, hashes, EXIF summary."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="media")
    # Denormalized from the scan so cross-case lookups need no join.
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    source_id = models.PositiveIntegerField()
    path = models.TextField()
    size = models.BigIntegerField(null=True, blank=True)
    mime = models.CharField(max_length=100, blank=True)
    md5 = models.CharField(max_length=32, blank=True)
    sha1 = models.CharField(max_length=40, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    pdq = models.CharField(max_length=64, blank=True)
    pdq_quality = models.PositiveSmallIntegerField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    exif = models.JSONField(default=dict, blank=True)
    known_good = models.BooleanField(default=False)
    matched = models.BooleanField(default=False)
    # The file's extension does not match what its content is (a picture named `.txt`): shown on
    # the scan page and named in every report, as hiding by renaming is common.
    ext_mismatch = models.BooleanField(default=False)
    # Where a seized device kept it: deleted (still listed by its file system), carved from
    # unallocated space at this byte of the media, and a phone extraction's own path for it.
    # A disk image's partition and path are in `path` itself (`laptop.E01!p2/Users/...`).
    deleted = models.BooleanField(default=False)
    carved_offset = models.BigIntegerField(null=True, blank=True)
    device_path = models.TextField(blank=True)
    # The examiner's category (a value of `category_scheme`), null while uncategorised.
    category = models.SmallIntegerField(null=True, blank=True)
    category_scheme = models.CharField(max_length=40, blank=True)
    categorized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    categorized_at = models.DateTimeField(null=True, blank=True)
    banked_in = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["scan", "source_id", "path"]
        indexes = [
            models.Index(fields=["sha256"], name="evidence_media_sha256"),
            models.Index(fields=["case", "sha256"], name="evidence_media_case_sha256"),
            models.Index(fields=["scan", "matched"], name="evidence_media_scan_matched"),
        ]

    def audit_label(self) -> str:
        return f"{self.case.reference} scan {self.scan_id} file {self.pk}"

    def access_scope(self) -> Scope:
        return self.case.access_scope()

    @property
    def is_image(self) -> bool:
        return self.mime.startswith("image/")


class ScanMatch(models.Model):
    """A bank entry the scan matched for one file (from the scan file's `matches` table)."""

    media = models.ForeignKey(MediaFile, on_delete=models.CASCADE, related_name="matches")
    bank = models.CharField(max_length=200)
    bank_kind = models.CharField(max_length=20)
    kind = models.CharField(max_length=10)
    distance = models.PositiveSmallIntegerField(default=0)
    category = models.SmallIntegerField(null=True, blank=True)
    series = models.CharField(max_length=200, blank=True)
    # A video's matches (vPDQ, or a known picture seen as frames): the seconds of this video
    # whose frames matched, and for vPDQ how much of each video matched the other.
    frame_times = models.TextField(blank=True)
    query_percent = models.FloatField(null=True, blank=True)
    compared_percent = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["media", "bank", "kind"]

    @property
    def times_shown(self) -> str:
        """The matching seconds, the first ten of them (a report gives them all)."""
        times = [t for t in self.frame_times.split(",") if t]
        return ", ".join(times[:10]) + (" …" if len(times) > 10 else "")


class ShardStatus(models.TextChoices):
    # Bookkeeping of the jobs, never shown on a page (the scan page shows the scan's progress).
    PENDING = "pending", "pending"
    RUNNING = "running", "running"
    DONE = "done", "done"


class ScanShard(models.Model):
    """One shard of a server scan run by many workers (`evidence.actions.shards`): number 0 is
    the merge, numbers from 1 are ranges of the source's listing. A worker holds one by its
    lease, renewed by a heartbeat; a lease gone silent is taken over by another worker."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="shards")
    number = models.PositiveIntegerField()
    units = models.JSONField(default=list, blank=True)  # triage.shards.unit_to_json each
    files = models.PositiveIntegerField(default=0)
    bytes = models.BigIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=ShardStatus.choices, default=ShardStatus.PENDING
    )
    lease = models.CharField(max_length=64, blank=True)
    worker = models.CharField(max_length=200, blank=True)  # host and process of the lease
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    done_files = models.PositiveIntegerField(default=0)
    done_bytes = models.BigIntegerField(default=0)
    part_name = models.CharField(max_length=500, blank=True)  # in the file store, once done

    class Meta:
        ordering = ["scan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["scan", "number"], name="evidence_shard_unique")
        ]

    def __str__(self) -> str:
        return f"scan {self.scan_id} shard {self.number}"


class ScanIssue(models.Model):
    """An error or warning the scan recorded for a path."""

    scan = models.ForeignKey(Scan, on_delete=models.CASCADE, related_name="issues")
    path = models.TextField()
    code = models.CharField(max_length=40)
    severity = models.CharField(max_length=10)
    message = models.TextField()

    class Meta:
        ordering = ["scan", "path", "code"]


class LinkKind(models.TextChoices):
    SHA256 = "sha256", _("Same file (SHA-256)")
    PDQ = "pdq", _("Near-identical image (PDQ)")
    CNIC = "cnic", _("Accused share a CNIC")
    PHONE = "phone", _("Accused share a phone number")
    HANDLE = "handle", _("Accused share an online handle")
    EMAIL = "email", _("Accused share an e-mail address")


class CaseLink(models.Model):
    """Two cases share something: a file, a near-identical image, or an accused's identifier.

    `case_a` is always the case with the lower id, so a link is recorded once. `shared` names
    what is shared without identity: a hash, or the identifier kind with the accused labels.
    """

    kind = models.CharField(max_length=10, choices=LinkKind.choices)
    case_a = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    case_b = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+")
    shared = models.CharField(max_length=200)
    distance = models.PositiveSmallIntegerField(default=0)
    media_a = models.ForeignKey(
        MediaFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    media_b = models.ForeignKey(
        MediaFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accused_a = models.ForeignKey(
        Accused, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    accused_b = models.ForeignKey(
        Accused, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-found_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "case_a", "case_b", "shared"], name="case_link_once"
            ),
            models.CheckConstraint(
                condition=models.Q(case_a__lt=models.F("case_b")), name="case_link_ordered"
            ),
        ]
        indexes = [models.Index(fields=["case_b"], name="case_link_case_b")]

    def audit_label(self) -> str:
        return f"{self.kind} link {self.case_a_id}-{self.case_b_id}"


def _in_words(words: Any, text: str) -> str:
    if isinstance(words, dict) and isinstance(words.get("msg"), str):
        return str(value_in_words(words))
    return in_words(text, None)
