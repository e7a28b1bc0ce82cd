"""Every write to the bank tables: create, import, enable/disable, remove an entry; all audited.

Imports are all or nothing and idempotent: a file already imported into a bank (same SHA-256)
adds nothing, an entry whose hash is already in the bank is counted as a duplicate, and a file
with bad rows names each of them and adds nothing (unless `allow_partial`). Every change that
affects matching queues an index rebuild after commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connections, transaction
from django.db.models import Q
from django.utils import timezone

from muhafiz.audit.actions import record
from muhafiz.banks.entries import has_details
from muhafiz.banks.formats import DuplicateMerger, detect_format, file_sha256, get_format
from muhafiz.banks.formats.base import HashListFormat, TextLineFormat, iter_text_lines
from muhafiz.banks.formats.vics import VicsJson
from muhafiz.banks.model import BankKind, HashEntry, HashListError, entry_limit_error
from muhafiz.catalogue.models import Agency
from muhafiz.core.permissions import Perm, Scope, check_perm
from muhafiz.hashbank.models import (
    HASH_FIELDS,
    Bank,
    BankEntry,
    BankImport,
    CategoryScheme,
    ImportStatus,
    StagedEntry,
)

BATCH = 2000
# A rejected import names at most this many bad rows (and counts all of them).
MAX_NAMED_ERRORS = 1000


class BankError(Exception):
    """A bank operation could not be done; the message says why, for the person who asked."""


class ImportRejectedError(BankError):
    """The file has bad rows: each is named, and nothing was imported."""

    def __init__(self, bank_import: BankImport, errors: list[dict[str, Any]]) -> None:
        self.bank_import = bank_import
        self.errors = errors
        shown = "; ".join(_describe(e) for e in errors[:20])
        more = f" (and {bank_import.bad - 20} more)" if bank_import.bad > 20 else ""
        super().__init__(
            f"{bank_import.source_name}: {bank_import.bad} bad row(s), nothing imported: "
            f"{shown}{more}"
        )


@dataclass(frozen=True, slots=True)
class _Owner:
    """Where a bank not yet created would live, for the jurisdiction check (`Bank.access_scope`)."""

    agency: Agency | None

    def access_scope(self) -> Scope:
        return Bank(agency=self.agency).access_scope()


def _describe(error: dict[str, Any]) -> str:
    line = error.get("line")
    return f"line {line}: {error['message']}" if line is not None else str(error["message"])


# --- banks ----------------------------------------------------------------------------------


def create_bank(
    actor: Any,
    *,
    name: str,
    kind: BankKind | str,
    agency: Agency | None = None,
    category_scheme: CategoryScheme | None = None,
    description: str = "",
    enabled: bool = True,
) -> Bank:
    """A new bank, owned by `agency` (the actor manages banks where that agency works)."""
    check_perm(actor, Perm.BANK_MANAGE, _Owner(agency))
    name = name.strip()
    if not name:
        raise BankError("a bank needs a name")
    try:
        bank_kind = BankKind(kind)
    except ValueError as exc:
        known = ", ".join(k.value for k in BankKind)
        raise BankError(f"unknown bank kind {kind!r}; known kinds: {known}") from exc
    if Bank.objects.filter(name__iexact=name).exists():
        raise BankError(f"a bank named {name!r} already exists; choose another name")
    try:
        with transaction.atomic():
            bank = Bank.objects.create(
                name=name,
                kind=bank_kind.value,
                agency=agency,
                category_scheme=category_scheme,
                description=description,
                enabled=enabled,
                created_by=_user(actor),
            )
            record(actor, "bank.create", bank, kind=bank.kind, agency=agency.code if agency else "")
    except IntegrityError as exc:  # a concurrent create of the same name
        raise BankError(f"a bank named {name!r} already exists; choose another name") from exc
    return bank


def set_bank_enabled(actor: Any, bank: Bank, enabled: bool, *, reason: str = "") -> Bank:
    """Put a bank into matching or take it out (at once; the index catches up)."""
    check_perm(actor, Perm.BANK_MANAGE, bank)
    with transaction.atomic():
        bank.enabled = enabled
        bank.save(update_fields=["enabled"])
        record(actor, "bank.enable" if enabled else "bank.disable", bank, reason=reason)
        _queue_rebuild()
    return bank


def discard_new_bank(actor: Any, bank: Bank, *, reason: str) -> None:
    """Remove a bank made for an import that then failed, so no empty bank stays behind (and
    the same name can be created again). Refused once the bank holds any entry or any import
    that was not rejected. The audit log keeps the rejected attempt and this removal."""
    check_perm(actor, Perm.BANK_MANAGE, bank)
    with transaction.atomic():
        locked = Bank.objects.select_for_update().get(pk=bank.pk)
        imports = BankImport.objects.filter(bank=locked)
        if (
            BankEntry.objects.filter(bank=locked).exists()
            or imports.exclude(status__in=[ImportStatus.REJECTED, ImportStatus.FAILED]).exists()
        ):
            raise BankError(f"bank {bank.name!r} holds entries or imports; disable it instead")
        rejected = [
            {"import": i.pk, "sha256": i.source_sha256, "bad": i.bad}
            for i in imports.order_by("pk")
        ]
        record(actor, "bank.discard", locked, reason=reason, rejected_imports=rejected)
        imports.delete()
        locked.delete()


def get_bank(name: str) -> Bank:
    bank = Bank.objects.filter(name=name).select_related("agency", "category_scheme").first()
    if bank is None:
        known = ", ".join(Bank.objects.values_list("name", flat=True)[:50]) or "none yet"
        raise BankError(f"no bank named {name!r} (banks: {known})")
    return bank


# --- imports --------------------------------------------------------------------------------


@dataclass
class CheckResult:
    """A first pass over a hash list: its format, how many entries, every bad row it named."""

    format: str
    entries: int = 0
    repeats: int = 0  # exact repeats of an entry within the file
    errors: list[dict[str, Any]] = field(default_factory=list)
    bad: int = 0

    def count_repeat(self) -> None:
        self.repeats += 1

    def add_error(self, exc: HashListError) -> None:
        self.bad += 1
        if len(self.errors) < MAX_NAMED_ERRORS:
            self.errors.append({"line": exc.line, "message": exc.message})


def iter_checked(
    path: Path,
    chosen: HashListFormat,
    on_error: Callable[[HashListError], None],
    on_repeat: Callable[[], None] = lambda: None,
) -> Iterator[HashEntry]:
    """Stream a file's entries with the banks library, reporting bad rows and going on.

    Line formats are parsed line by line with the library's own line parser, so every bad line
    is named; VICS names every bad media record; NSRL (SQLite) stops at its first bad row.
    Contradictory repeats (same hash, different details) are bad rows too; exact repeats of an
    entry with details are dropped here, repeats of bare hashes count as duplicates later.
    """
    merger = DuplicateMerger(str(path))

    def checked(entry: HashEntry) -> HashEntry | None:
        if (too_much := entry_limit_error(entry)) is not None:
            on_error(HashListError(str(path), entry.line, too_much))
            return None
        if not has_details(entry):
            return entry  # bare hashes (NSRL-size lists): no per-file memory of them
        try:
            if merger.keep(entry):
                return entry
            on_repeat()
            return None
        except HashListError as exc:
            on_error(exc)
            return None

    if isinstance(chosen, TextLineFormat):
        source = str(path)
        state = chosen.start(source)
        try:
            for number, text in iter_text_lines(path):
                stripped = text.strip()
                if not stripped or stripped.startswith(chosen.comment_prefixes):
                    continue
                try:
                    parsed = chosen.parse_line(text, source, number, state)
                except HashListError as exc:
                    on_error(exc)
                    continue
                except (ValueError, OverflowError, RecursionError) as exc:  # a reader's slip
                    on_error(HashListError(source, number, _unreadable(exc)))
                    continue
                if parsed is not None and (kept := checked(parsed)) is not None:
                    yield kept
            chosen.finish(source, state)
        except HashListError as exc:  # binary data, bad encoding, a missing header
            on_error(exc)
        except (OSError, ValueError, OverflowError, RecursionError) as exc:
            on_error(HashListError(source, None, _unreadable(exc)))
    else:
        # VICS names every bad media record and goes on; SQLite (NSRL) stops at its first.
        entries = (
            chosen.read(path, on_error=on_error)
            if isinstance(chosen, VicsJson)
            else chosen.read(path)
        )
        try:
            for parsed in entries:
                if (kept := checked(parsed)) is not None:
                    yield kept
        except HashListError as exc:
            on_error(exc)
        except (OSError, ValueError, OverflowError, RecursionError) as exc:
            on_error(HashListError(str(path), None, _unreadable(exc)))


def _unreadable(exc: BaseException) -> str:
    """A reader failed in a way it does not name: say what, shortly, never a traceback."""
    text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return f"cannot be read ({text})"


def check_hash_list(path: Path, fmt: str | None = None) -> tuple[HashListFormat, CheckResult]:
    """First pass: read the whole file, name every bad row, keep nothing but counts."""
    chosen: HashListFormat = get_format(fmt) if fmt else detect_format(path)
    result = CheckResult(format=chosen.name)
    for _ in iter_checked(path, chosen, result.add_error, result.count_repeat):
        result.entries += 1
    return chosen, result


def import_hash_list(
    actor: Any,
    bank: Bank,
    path: Path,
    *,
    fmt: str | None = None,
    source_name: str | None = None,
    allow_partial: bool = False,
) -> BankImport:
    """Import the hash list at `path` into `bank`; see the module docstring for the rules.

    Raises `ImportRejectedError` (after recording the rejected attempt) when the file has bad rows
    and `allow_partial` is off, and `BankError` when the file cannot be read at all.
    """
    check_perm(actor, Perm.BANK_MANAGE, bank)
    name = source_name or path.name
    try:
        sha256 = file_sha256(path)
        size = path.stat().st_size
    except OSError as exc:
        raise BankError(f"{path}: cannot read: {exc.strerror or exc}") from exc

    skipped = _skip_if_already_imported(actor, bank, name, sha256, size)
    if skipped is not None:
        return skipped

    try:
        chosen, result = check_hash_list(path, fmt)
    except HashListError as exc:  # unknown format, unreadable or empty file
        raise BankError(str(exc)) from exc

    if result.errors and not allow_partial:
        with transaction.atomic():
            rejected = BankImport.objects.create(
                bank=bank,
                source_name=name,
                source_sha256=sha256,
                source_size=size,
                format=result.format,
                imported_by=_user(actor),
                status=ImportStatus.REJECTED,
                bad=result.bad,
                errors=result.errors,
            )
            record(
                actor,
                "bank.import.reject",
                rejected,
                bank=bank.pk,
                sha256=sha256,
                bad=result.bad,
            )
        raise ImportRejectedError(rejected, result.errors)

    started = _start_import(actor, bank, name=name, sha256=sha256, size=size, result=result)
    if started.status == ImportStatus.ALREADY_IMPORTED:
        return started
    bank_import = started
    # Inside a caller's transaction (evidence adds confirmed files and marks them at once) the
    # caller's rollback undoes everything; on its own, a failure cleans up after itself.
    nested = connections[BankImport.objects.db].in_atomic_block
    try:
        # Second pass: the file checked out (or partial imports are allowed); stream it into
        # the staging table, one short transaction a batch.
        second = CheckResult(format=result.format)
        entries = iter_checked(path, chosen, second.add_error)
        staged, duplicates = _stage_entries(bank, bank_import, entries)
        if second.bad != result.bad or file_sha256(path) != sha256:
            raise BankError(f"{path} changed while it was being imported; nothing was imported")
        with transaction.atomic():
            Bank.objects.select_for_update().filter(pk=bank.pk).first()
            added = _swap_in(bank, bank_import)
            bank_import.status = ImportStatus.COMPLETED
            bank_import.added = added
            bank_import.duplicates = duplicates + (staged - added) + result.repeats
            bank_import.save(update_fields=["status", "added", "duplicates"])
            record(
                actor,
                "bank.import",
                bank_import,
                bank=bank.pk,
                sha256=sha256,
                format=result.format,
                added=added,
                duplicates=bank_import.duplicates,
                bad=result.bad,
            )
            if added:
                _queue_rebuild()
    except BaseException as exc:
        if not nested:
            _abandon_import(actor, bank_import, reason=_unreadable(exc))
        raise
    return bank_import


# A running import whose last batch is older than this was interrupted (killed, machine down).
STALE_IMPORT_SECONDS = 600


def _start_import(
    actor: Any, bank: Bank, *, name: str, sha256: str, size: int, result: CheckResult
) -> BankImport:
    """The import's record, `running`; or the `already-imported` record when it adds nothing.

    One import into a bank at a time: a second one is refused while the first runs (the same
    file imported twice at once adds once), and one interrupted long ago is marked failed and
    its staged rows removed."""
    with transaction.atomic():
        Bank.objects.select_for_update().filter(pk=bank.pk).first()
        skipped = _skip_if_already_imported(actor, bank, name, sha256, size)
        if skipped is not None:
            return skipped
        horizon = timezone.now() - dt.timedelta(seconds=STALE_IMPORT_SECONDS)
        for running in BankImport.objects.filter(bank=bank, status=ImportStatus.RUNNING):
            if running.progress_at is not None and running.progress_at >= horizon:
                raise BankError(
                    f"another import into bank {bank.name!r} is running "
                    f"({running.source_name}); try again when it has finished"
                )
            _abandon_import(actor, running, reason="interrupted: no progress for 10 minutes")
        return BankImport.objects.create(
            bank=bank,
            source_name=name,
            source_sha256=sha256,
            source_size=size,
            format=result.format,
            imported_by=_user(actor),
            status=ImportStatus.RUNNING,
            bad=result.bad,
            errors=result.errors,
            progress_at=timezone.now(),
        )


def _abandon_import(actor: Any, bank_import: BankImport, *, reason: str) -> None:
    """A failed or interrupted import: its staged rows go, its record says `failed`."""
    with transaction.atomic():
        StagedEntry.objects.filter(bank_import=bank_import).delete()
        BankImport.objects.filter(pk=bank_import.pk).update(status=ImportStatus.FAILED)
        bank_import.status = ImportStatus.FAILED
        record(actor, "bank.import.fail", bank_import, bank=bank_import.bank_id, reason=reason)


def _swap_in(bank: Bank, bank_import: BankImport) -> int:
    """Move the import's staged rows into the bank in one statement; returns how many.

    Imports into one bank run one at a time, so the staged rows were checked against every
    active entry; the guard against entries that appeared meanwhile (an import finished in the
    moment between) keeps the bank's one-active-entry-per-hash rule whatever happens."""
    connection = connections[BankEntry.objects.db]
    ops = connection.ops
    entry_table = ops.quote_name(BankEntry._meta.db_table)
    staged_table = ops.quote_name(StagedEntry._meta.db_table)
    copied = [ops.quote_name(c) for c in _STAGED_COLUMNS]
    now = BankEntry._meta.get_field("added_at").get_db_prep_save(timezone.now(), connection)
    present = " OR ".join(f"(e.{ops.quote_name(f)} = s.{ops.quote_name(f)})" for f in HASH_FIELDS)
    sql = (
        f"INSERT INTO {entry_table} ({', '.join(copied)}, {ops.quote_name('bank_id')}, "  # noqa: S608 - names only
        f"{ops.quote_name('added_by_id')}, {ops.quote_name('added_at')}, "
        f"{ops.quote_name('removal_reason')}) "
        f"SELECT {', '.join('s.' + c for c in copied)}, %s, %s, %s, '' FROM {staged_table} s "
        f"WHERE s.{ops.quote_name('bank_import_id')} = %s AND NOT EXISTS (SELECT 1 FROM "
        f"{entry_table} e WHERE e.{ops.quote_name('bank_id')} = %s AND "
        f"e.{ops.quote_name('removed_at')} IS NULL AND ({present})) "
        f"ORDER BY s.{ops.quote_name('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [bank.pk, bank_import.pk, now, bank_import.pk, bank.pk])
        added = max(int(cursor.rowcount), 0)
    StagedEntry.objects.filter(bank_import=bank_import).delete()
    return added


def _skip_if_already_imported(
    actor: Any, bank: Bank, name: str, sha256: str, size: int
) -> BankImport | None:
    """Record and return an `already-imported` attempt when this file is in the bank already."""
    earlier = (
        BankImport.objects.filter(bank=bank, source_sha256=sha256, status=ImportStatus.COMPLETED)
        .order_by("imported_at")
        .first()
    )
    if earlier is None:
        return None
    with transaction.atomic():
        skipped = BankImport.objects.create(
            bank=bank,
            source_name=name,
            source_sha256=sha256,
            source_size=size,
            format=earlier.format,
            imported_by=_user(actor),
            status=ImportStatus.ALREADY_IMPORTED,
        )
        record(
            actor,
            "bank.import.skip",
            skipped,
            bank=bank.pk,
            sha256=sha256,
            earlier_import=earlier.pk,
        )
    return skipped


_STAGED_COLUMNS = (
    "md5", "sha1", "sha256", "pdq", "pdq_quality", "photodna", "category", "series",
    "victim_identified", "offender_identified", "tags", "note", "source_line",
)  # fmt: skip


def _stage_entries(
    bank: Bank, bank_import: BankImport, entries: Iterable[HashEntry]
) -> tuple[int, int]:
    """Stage the entries not yet in the bank (nor staged before them), one transaction a
    batch; returns (staged, duplicates)."""
    staged = duplicates = 0
    writer = _StagingWriter(bank_import)
    for batch in _batches(entries, BATCH):
        with transaction.atomic():
            present = _present_hashes(bank, bank_import, batch)
            rows: list[HashEntry] = []
            for entry in batch:
                values = [(f, getattr(entry, f)) for f in HASH_FIELDS if getattr(entry, f)]
                if not values and entry.photodna is None:
                    continue
                if any(value in present[f] for f, value in values):
                    duplicates += 1
                    continue
                for f, value in values:
                    present[f].add(value)
                rows.append(entry)
            writer.insert(rows)
            staged += len(rows)
            BankImport.objects.filter(pk=bank_import.pk).update(progress_at=timezone.now())
    return staged, duplicates


class _StagingWriter:
    """Inserts staged entries with one `executemany` a batch.

    `bulk_create` spends about a millisecond of Python per row preparing values; NSRL-size
    known-good lists have tens of millions of rows, so the values are prepared here once per
    column kind instead. Same table, same columns as the ORM would use.
    """

    def __init__(self, bank_import: BankImport) -> None:
        self.connection = connections[StagedEntry.objects.db]
        ops = self.connection.ops
        table = ops.quote_name(StagedEntry._meta.db_table)
        columns = ", ".join(ops.quote_name(c) for c in ("bank_import_id", *_STAGED_COLUMNS))
        marks = ", ".join(["%s"] * (len(_STAGED_COLUMNS) + 1))
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 - names only
        self.tags_field = StagedEntry._meta.get_field("tags")
        self.no_tags = self.tags_field.get_db_prep_save([], self.connection)
        self.import_id = bank_import.pk

    def insert(self, entries: list[HashEntry]) -> None:
        if not entries:
            return
        rows = [
            (
                self.import_id,
                e.md5,
                e.sha1,
                e.sha256,
                e.pdq,
                e.pdq_quality,
                e.photodna,
                e.category,
                e.series or "",
                e.victim_identified,
                e.offender_identified,
                self.tags_field.get_db_prep_save(list(e.tags), self.connection)
                if e.tags
                else self.no_tags,
                e.note or "",
                e.line,
            )
            for e in entries
        ]
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, rows)


def _batches(entries: Iterable[HashEntry], size: int) -> Iterator[list[HashEntry]]:
    batch: list[HashEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _present_hashes(
    bank: Bank, bank_import: BankImport, batch: Iterable[HashEntry]
) -> dict[str, set[str]]:
    """Hashes of the batch already active in the bank or staged earlier by this import."""
    present: dict[str, set[str]] = {}
    for f in HASH_FIELDS:
        wanted = {getattr(e, f) for e in batch if getattr(e, f)}
        found: set[str] = set()
        if wanted:
            found = set(
                BankEntry.objects.active()
                .filter(bank=bank, **{f"{f}__in": wanted})
                .values_list(f, flat=True)
            )
            found |= set(
                StagedEntry.objects.filter(
                    bank_import=bank_import, **{f"{f}__in": wanted}
                ).values_list(f, flat=True)
            )
        present[f] = found
    return present


# --- removal --------------------------------------------------------------------------------


def remove_entry(actor: Any, entry: BankEntry, *, reason: str) -> BankEntry:
    """Take an entry out of matching, keeping the row, who removed it, when and why."""
    check_perm(actor, Perm.BANK_MANAGE, entry.bank)
    reason = reason.strip()
    if not reason:
        raise BankError("say why the entry is removed (a reason is required)")
    with transaction.atomic():
        locked = BankEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.removed_at is not None:
            raise BankError(f"entry {entry.pk} was already removed on {locked.removed_at:%Y-%m-%d}")
        locked.removed_at = timezone.now()
        locked.removal_reason = reason
        locked.removed_by = _user(actor)
        locked.save(update_fields=["removed_at", "removal_reason", "removed_by"])
        record(actor, "bank.entry.remove", locked, reason=reason, bank=locked.bank_id)
        _queue_rebuild()
    return locked


def find_entries(bank: Bank, value: str) -> list[BankEntry]:
    """Active entries of `bank` holding the hash `value` (any kind, case-insensitive)."""
    value = value.strip().lower()
    query = Q()
    for f in HASH_FIELDS:
        query |= Q(**{f: value})
    return list(BankEntry.objects.active().filter(query, bank=bank))


# --- matching audit ---------------------------------------------------------------------------


def record_request(
    actor: Any,
    *,
    action: str,
    endpoint: str,
    queried: int,
    matched: int,
    banks: Sequence[str] = (),
    request: Any = None,
) -> None:
    """Audit one matching or hashing request by its counts: endpoint, hashes asked, hits.

    The hashes themselves are not audited (they would turn the audit log into a second,
    unprotected list of what investigators hold); the banks that matched are.
    """
    check_perm(actor, Perm.HASH_MATCH)
    with transaction.atomic():
        record(
            actor,
            action,
            None,
            request=request,
            endpoint=endpoint,
            queried=queried,
            matched=matched,
            banks=sorted(set(banks)),
        )


def _user(actor: Any) -> Any:
    # API clients are not users: provenance names a user only when one acted.
    from muhafiz.accounts.models import User

    return actor if isinstance(actor, User) else None


def _queue_rebuild() -> None:
    from muhafiz.hashbank.tasks import queue_index_rebuild

    queue_index_rebuild()
