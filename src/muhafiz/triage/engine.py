"""Running a scan: list the sources, process files in worker processes, match, write, finish.

The main process owns the scan file and the matcher; workers only turn top-level files into
records. Work is committed in small transactions, so a crash or Ctrl-C loses at most the last
second, and `resume_scan` picks up exactly where the scan file ends.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import platform
import signal
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence, Set
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Protocol

from muhafiz.banks.model import HashListError
from muhafiz.triage.analyze import process_unit
from muhafiz.triage.hashing import CHUNK_BYTES
from muhafiz.triage.listing import Listing
from muhafiz.triage.matching import RecordMatcher, load_matcher, match_record
from muhafiz.triage.memory import keep_freed_memory
from muhafiz.triage.records import FileRecord, Issue, IssueCode
from muhafiz.triage.scanfile import (
    MatchRow,
    ScanFileError,
    ScanWriter,
    SourceRow,
    now_utc,
)
from muhafiz.triage.settings import ScanSettings
from muhafiz.triage.sources import Passwords, SourceError, open_source
from muhafiz.triage.sources.base import Source, Unit
from muhafiz.triage.sources.directory import mount_state
from muhafiz.triage.sources.nested import EvidenceFolderSource

__all__ = [
    "BankChangedError",
    "HashListError",
    "Passwords",
    "Progress",
    "ScanFileError",
    "ScanOptions",
    "ScanOutcome",
    "SourceError",
    "resume_scan",
    "start_scan",
]

# Small batches keep progress and --resume fine-grained; large enough to amortise the IPC.
BATCH_FILES = 8
BATCH_BYTES = 16 * 1024 * 1024
COMMIT_SECONDS = 0.5
# Records written together, at the latest (a burst of small files between two commits).
WRITE_RECORDS = 2000
# What a walk finds besides files to read (symlinks, errors) is written in batches of this many.
WALK_WRITE_BATCH = 2000
# A test hook: slows each file down so that tests can interrupt a scan half-way.
DELAY_ENV = "MUHAFIZ_SCAN_DELAY_MS"
# A test hook: a worker processing a file whose path ends with this aborts, as a crash would.
CRASH_ENV = "MUHAFIZ_SCAN_CRASH_ON"


class BankChangedError(Exception):
    """A bank file changed between the start of a scan and its resumption."""


class Progress(Protocol):
    def start(
        self, total_files: int, total_bytes: int, done_files: int, done_bytes: int
    ) -> None: ...

    def advance(self, files: int, nbytes: int) -> None: ...


@dataclass(frozen=True)
class ScanOptions:
    sources: Sequence[Path]
    out: Path
    banks: Sequence[Path] = ()
    known_good: Sequence[Path] = ()
    case_ref: str | None = None
    examiner: str | None = None
    workers: int = 1
    settings: ScanSettings = field(default_factory=ScanSettings)
    # Passwords of encrypted sources: memory only, never in the scan file or the custody log.
    passwords: Passwords = field(default_factory=Passwords)


@dataclass(frozen=True)
class ScanOutcome:
    path: Path
    complete: bool
    files: int
    matched_files: int
    errors: int


def tool_version() -> str:
    try:
        return metadata.version("muhafiz")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


def environment() -> dict[str, str]:
    versions = {"python": platform.python_version(), "platform": platform.platform()}
    for package in ("Pillow", "pdqhash", "py7zr", "numpy", "av", "pillow-heif"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:  # pragma: no cover
            versions[package] = "absent"
    return versions


def start_scan(options: ScanOptions, progress: Progress | None = None) -> ScanOutcome:
    """Scan `options.sources` into a new scan file. Raises before creating it if it cannot run."""
    writer, sources, matcher = prepare_scan(options)
    return _run(writer, sources, matcher, options.settings, options.workers, progress)


def prepare_scan(options: ScanOptions) -> tuple[ScanWriter, list[Source], RecordMatcher]:
    """Open the sources and banks and create the scan file with its meta, sources, banks and the
    first custody lines (`start_scan`, and `shards.plan_fanout` for a scan run in shards)."""
    sources = [
        open_source(i, Path(p), options.passwords) for i, p in enumerate(options.sources, start=1)
    ]
    out = options.out.resolve()
    for source in sources:
        root = source.path.resolve()
        if out == root or (source.kind == "directory" and out.is_relative_to(root)):
            raise ScanFileError(
                f"{options.out} is inside the source {source.path}: write the scan file "
                "elsewhere (the evidence must not change, and the scan would read itself)"
            )
    bank_args = {
        "bad": [str(Path(p).resolve()) for p in options.banks],
        "known_good": [str(Path(p).resolve()) for p in options.known_good],
    }
    matcher, bank_rows = load_matcher(
        [Path(p) for p in bank_args["bad"]], [Path(p) for p in bank_args["known_good"]]
    )
    settings = options.settings
    meta = {
        "tool": "muhafiz",
        "tool_version": tool_version(),
        "environment": json.dumps(environment(), sort_keys=True),
        "case_ref": options.case_ref or "",
        "examiner": options.examiner or "",
        "settings": settings.to_json(),
        "bank_arguments": json.dumps(bank_args, sort_keys=True),
        "started_at": now_utc(),
    }
    source_rows = [
        SourceRow(s.source_id, str(s.path.resolve()), s.kind, s.describe()) for s in sources
    ]
    mounts = {s.source_id: mount_state(s.path) for s in sources}
    meta["source_mounts"] = json.dumps(
        {
            str(i): {"read_only": m.read_only, "mount_point": m.mount_point}
            for i, m in mounts.items()
        },
        sort_keys=True,
    )
    writer = ScanWriter.create(options.out, meta=meta, sources=source_rows, banks=bank_rows)
    writer.log(
        "scan started",
        f"muhafiz {meta['tool_version']}, {options.workers} worker(s), settings {meta['settings']}",
    )
    for source in sources:
        writer.log(
            "source opened read-only",
            f"source {source.source_id}: {source.describe()} (O_RDONLY, O_NOATIME where "
            "permitted, symlinks not followed; nothing is written to the source)",
        )
        writer.log(
            "source mount", f"source {source.source_id}: {mounts[source.source_id].describe()}"
        )
    for bank in bank_rows:
        writer.log(
            "bank loaded",
            f"{bank.name} ({bank.kind}, {bank.format}): {bank.entries} entries, "
            f"SHA-256 {bank.sha256}, from {bank.path}",
        )
    return writer, sources, matcher


def resume_scan(
    path: Path,
    workers: int = 1,
    progress: Progress | None = None,
    passwords: Passwords | None = None,
) -> ScanOutcome:
    """Continue an interrupted scan with its recorded sources, banks and settings (and the
    passwords it began with: they are never recorded, so the examiner gives them again)."""
    writer = ScanWriter.resume(path)
    meta = writer.meta()
    if meta.get("status") == "complete":
        outcome = _outcome(writer, complete=True)
        writer.close()
        return outcome
    try:
        settings = ScanSettings.from_json(meta["settings"])
        sources = [open_source(s.source_id, Path(s.argument), passwords) for s in writer.sources()]
        _check_unlocked(writer, sources)
        bank_args = json.loads(meta["bank_arguments"])
        matcher, bank_rows = load_matcher(
            [Path(p) for p in bank_args["bad"]], [Path(p) for p in bank_args["known_good"]]
        )
        recorded = {b.name: b.sha256 for b in writer.banks()}
        now = {b.name: b.sha256 for b in bank_rows}
        if recorded != now:
            raise BankChangedError(
                "the banks changed since the scan began (recorded SHA-256s "
                f"{recorded}, now {now}); start a new scan instead"
            )
        done = writer.done_units()  # looked up in the scan file, not held in memory
        writer.log(
            "scan resumed",
            f"{len(done)} top-level files already recorded are not read again; {workers} worker(s)",
        )
    except BaseException:
        writer.close()
        raise
    return _run(writer, sources, matcher, settings, workers, progress, done=done)


def _check_unlocked(writer: ScanWriter, sources: list[Source]) -> None:
    """An encrypted source is resumed as it began (decrypted or not), or the records would mix."""
    for source in sources:
        row = writer.conn.execute(
            "SELECT details FROM sources WHERE source_id = ?", (source.source_id,)
        ).fetchone()
        details = json.loads(row[0]) if row and row[0] else None
        if isinstance(source, EvidenceFolderSource) and isinstance(details, dict):
            source.check_resume(details)  # the encrypted backups found inside the folder
        decrypted = details.get("decrypted") if isinstance(details, dict) else None
        if decrypted and source.locked:
            raise SourceError(
                f"{source.describe()} was decrypted when the scan began: give its password "
                "again (--ios-password-file) to resume"
            )
        if decrypted is False and not source.locked:
            raise SourceError(
                f"{source.describe()} was scanned without its password: resume without "
                "--ios-password-file, or start a new scan to read it decrypted"
            )


def _run(  # noqa: PLR0917 - internal; both entry points pass the same state
    writer: ScanWriter,
    sources: list[Source],
    matcher: RecordMatcher,
    settings: ScanSettings,
    workers: int,
    progress: Progress | None,
    done: Set[tuple[int, str]] | None = None,
) -> ScanOutcome:
    done = done or set()
    try:
        # On disk, not in memory; largest first: the last file to finish is then a small one,
        # and workers end together (listing.py).
        units = _list(writer, sources, done)
        if progress is not None:
            done_bytes = 0  # sizes of finished files are not kept apart; count them as none
            progress.start(len(units) + len(done), units.total_bytes + done_bytes, len(done), 0)
        sink = _ResultWriter(writer, matcher, settings, progress)
        keep_freed_memory()  # forked workers inherit it
        try:
            if workers <= 1:
                _process_inline(units, sources, settings, sink)
            else:
                _process_pool(units, sources, settings, workers, sink)
        finally:
            sink.flush()
            units.close()
    except KeyboardInterrupt:
        writer.set_meta("status", "interrupted")
        writer.log(
            "scan interrupted", "stopped by the examiner; continue with `muhafiz scan --resume`"
        )
        outcome = _outcome(writer, complete=False)
        writer.close()
        return outcome
    except BaseException:
        writer.close()
        raise
    return complete_scan(writer, sources, settings)


def complete_scan(writer: ScanWriter, sources: list[Source], settings: ScanSettings) -> ScanOutcome:
    """Every unit is recorded: verify the sources, derive the whole-scan results, close the file
    (the end of `_run`, and of `shards.merge_shards`)."""
    _verify_sources(writer, sources)
    writer.finish(settings.cluster_distance, settings.min_quality)
    outcome = _outcome(writer, complete=True)
    for source_row in writer.sources():
        if source_row.kind == "file":
            sha = writer.conn.execute(
                "SELECT sha256 FROM sources WHERE source_id = ?", (source_row.source_id,)
            ).fetchone()[0]
            writer.log("source hashed", f"source {source_row.source_id}: SHA-256 {sha}")
    writer.log(
        "scan completed",
        f"{outcome.files} files, {outcome.matched_files} with known-bad matches, "
        f"{outcome.errors} errors and warnings",
    )
    writer.close()
    return outcome


def _verify_sources(writer: ScanWriter, sources: list[Source]) -> None:
    """Acquisition hashes stored in the evidence against the media as this scan read it."""
    for source in sources:
        sid = source.source_id

        def computed(path: str, sid: int = sid) -> dict[str, str | None] | None:
            row = writer.conn.execute(
                "SELECT md5, sha1, sha256, size FROM files WHERE source_id = ? AND path = ?",
                (sid, path),
            ).fetchone()
            if row is None:
                return None
            return {"md5": row[0], "sha1": row[1], "sha256": row[2]}

        _verify_nested(writer, source, computed)
        verification = source.verify(computed)
        if verification is None:
            continue
        writer.begin()
        writer.set_image_verification(sid, verification.verdict, verification.rows)
        writer.conn.execute(
            "UPDATE sources SET"
            " size = (SELECT size FROM files WHERE source_id = ? AND path = ?),"
            " sha256 = (SELECT sha256 FROM files WHERE source_id = ? AND path = ?)"
            " WHERE source_id = ?",
            (sid, verification.media_path, sid, verification.media_path, sid),
        )
        summary = "; ".join(
            f"{alg} stored {stored or '-'} computed {got or '-'}: {result}"
            for alg, stored, got, result in verification.rows
        )
        if verification.verdict == "mismatch":
            writer.write_issues(
                [
                    Issue(
                        sid,
                        verification.media_path,
                        IssueCode.ACQUISITION_HASH_MISMATCH,
                        "THE IMAGE DOES NOT MATCH ITS ACQUISITION HASH: the media read now differs "
                        f"from what was acquired ({summary}); the image is damaged or altered",
                    )
                ]
            )
        writer.log(
            "acquisition hashes verified",
            f"source {sid}: {verification.verdict}" + (f" ({summary})" if summary else ""),
        )
        writer.commit()


def _verify_nested(
    writer: ScanWriter,
    source: Source,
    computed: Callable[[str], dict[str, str | None] | None],
) -> None:
    """Disk images found inside a folder: their acquisition hashes, as a source's are."""
    if not isinstance(source, EvidenceFolderSource):
        return
    sid = source.source_id
    for nested in source.verify_nested(computed):
        verification = nested.verification
        summary = "; ".join(
            f"{alg} stored {stored or '-'} computed {got or '-'}: {result}"
            for alg, stored, got, result in verification.rows
        )
        writer.begin()
        writer.set_nested_image(
            sid, nested.path, nested.format_name, verification.verdict, verification.rows
        )
        if verification.verdict == "mismatch":
            writer.write_issues(
                [
                    Issue(
                        sid,
                        nested.path,
                        IssueCode.ACQUISITION_HASH_MISMATCH,
                        f"THE {nested.format_name.upper()} {nested.path} DOES NOT MATCH ITS "
                        "ACQUISITION HASH: the media read now differs from what was acquired "
                        f"({summary}); the image is damaged or altered",
                    )
                ]
            )
        writer.log(
            "acquisition hashes verified",
            f"source {sid}, image {nested.path}: {verification.verdict}"
            + (f" ({summary})" if summary else ""),
        )
        writer.commit()


def _outcome(writer: ScanWriter, *, complete: bool) -> ScanOutcome:
    c = writer.conn
    files = c.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    matched = c.execute(
        "SELECT COUNT(*) FROM (SELECT DISTINCT source_id, path FROM matches"
        " WHERE bank_kind != 'known-good')"
    ).fetchone()[0]
    errors = c.execute("SELECT COUNT(*) FROM errors").fetchone()[0]
    return ScanOutcome(writer.path, complete, int(files), int(matched), int(errors))


def _list(writer: ScanWriter, sources: list[Source], done: Set[tuple[int, str]]) -> Listing:
    """Walk every source; write what the walk itself found as it goes; return the files left
    to process, kept on disk (memory stays flat however many files a source lists)."""
    units = Listing()
    try:
        for source in sources:
            for unit in source.plan(_walk(writer, source, done)):
                units.add(unit)
            found = source.details()
            if found is not None:
                writer.begin()
                writer.set_source_details(source.source_id, found)
                writer.commit()
        units.seal()
    except BaseException:
        units.close()
        raise
    return units


def _walk(writer: ScanWriter, source: Source, done: Set[tuple[int, str]]) -> Iterator[Unit]:
    """The source's units not done yet; the records and issues the walk finds are written."""
    records: list[FileRecord] = []
    issues: list[Issue] = []
    for item in source.walk():
        if isinstance(item, Unit):
            if (item.source_id, item.path) not in done:
                yield item
            continue
        if isinstance(item, FileRecord):
            records.append(item)
        else:
            issues.append(item)
        if len(records) + len(issues) >= WALK_WRITE_BATCH:
            _write_found(writer, records, issues)
            records, issues = [], []
    _write_found(writer, records, issues)


def _write_found(writer: ScanWriter, records: list[FileRecord], issues: list[Issue]) -> None:
    writer.begin()
    writer.write_records(records, [])
    writer.write_issues(issues)
    writer.commit()


class _ResultWriter:
    """Matches finished records and writes them in short transactions, many files at a time
    (one statement a table per file cost more than a small file's hashing)."""

    def __init__(
        self,
        writer: ScanWriter,
        matcher: RecordMatcher,
        settings: ScanSettings,
        progress: Progress | None,
    ) -> None:
        self.writer = writer
        self.matcher = matcher
        self.settings = settings
        self.progress = progress
        self.last_commit = time.monotonic()
        self.records: list[FileRecord] = []
        self.matches: list[MatchRow] = []

    def add(self, unit: Unit, records: list[FileRecord]) -> None:
        for record in records:
            self.matches.extend(match_record(self.matcher, record, self.settings))
        # The top-level record goes last: its presence marks the unit done for --resume.
        self.records.extend(sorted(records, key=lambda r: r.parent is None))
        if (
            len(self.records) >= WRITE_RECORDS
            or time.monotonic() - self.last_commit >= COMMIT_SECONDS
        ):
            self.flush()
        if self.progress is not None:
            self.progress.advance(1, unit.size)

    def flush(self) -> None:
        if self.records or self.matches:
            self.writer.begin()
            self.writer.write_records(self.records, self.matches)
            self.writer.commit()
            self.records, self.matches = [], []
        self.last_commit = time.monotonic()


def _process_inline(
    units: Iterable[Unit], sources: list[Source], settings: ScanSettings, sink: _ResultWriter
) -> None:
    by_id = {s.source_id: s for s in sources}
    buffer = bytearray(CHUNK_BYTES)
    delay = _delay()
    for unit in units:
        sink.add(unit, _safe_process(by_id[unit.source_id], unit, settings, buffer, delay))


BatchResult = list[tuple[Unit, list[FileRecord]]]


def _process_pool(
    units: Iterable[Unit],
    sources: list[Source],
    settings: ScanSettings,
    workers: int,
    sink: _ResultWriter,
) -> None:
    """Process units in worker processes. A worker that dies (a decoder crashing on hostile
    input) breaks the pool: its batch-mates are retried one at a time in a fresh pool, and the
    file that kills a worker again is recorded as an error instead of stopping the scan."""
    queue = _Batches(units)
    suspects: deque[Unit] = deque()
    while queue or suspects:
        if suspects:
            unit = suspects.popleft()
            try:
                with _pool(1, sources, settings) as pool:
                    result = pool.submit(_run_batch, [unit]).result()
            except BrokenProcessPool:
                result = [(unit, [_crashed(unit)])]
            for done_unit, records in result:
                sink.add(done_unit, records)
            continue
        with _pool(workers, sources, settings) as pool:
            pending: dict[Future[BatchResult], list[Unit]] = {}
            try:
                while queue or pending:
                    while queue and len(pending) < workers * 3:
                        batch = queue.popleft()
                        pending[pool.submit(_run_batch, batch)] = batch
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        for unit, records in future.result():
                            sink.add(unit, records)
                        del pending[future]
            except BrokenProcessPool:
                for future, batch in pending.items():
                    if future.done() and future.exception() is None:
                        for unit, records in future.result():
                            sink.add(unit, records)
                    else:
                        suspects.extend(batch)
            except BaseException:
                for future in pending:
                    future.cancel()
                raise


def _pool(workers: int, sources: list[Source], settings: ScanSettings) -> ProcessPoolExecutor:
    # Forked workers share the main process's pages until something writes to them; the cyclic
    # GC writes to every object it visits, which would copy the whole file list (100,000 units of
    # a phone extraction) into each worker. Frozen objects are never visited.
    gc.freeze()
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(sources, settings),
    )


def _crashed(unit: Unit) -> FileRecord:
    record = FileRecord(unit.source_id, unit.path, None, 0, size=unit.size, path_raw=unit.path_raw)
    record.add_issue(
        IssueCode.INTERNAL_ERROR,
        "the worker process died while reading this file (a decoder crash?); not examined",
    )
    return record


class _Batches:
    """Batches taken from the listing one at a time (never all in memory); true while any
    is left."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._batches = _batches(units)
        self._next = next(self._batches, None)

    def __bool__(self) -> bool:
        return self._next is not None

    def popleft(self) -> list[Unit]:
        batch = self._next
        assert batch is not None
        self._next = next(self._batches, None)
        return batch


def _batches(units: Iterable[Unit]) -> Iterator[list[Unit]]:
    batch: list[Unit] = []
    size = 0
    for unit in units:
        batch.append(unit)
        size += unit.size
        if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


_worker_state: dict[str, object] = {}


def _init_worker(sources: list[Source], settings: ScanSettings) -> None:
    # Ctrl-C is the main process's to handle; it stops handing out work and records the stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    keep_freed_memory()  # for spawned workers, which do not inherit it
    _worker_state["sources"] = {s.source_id: s for s in sources}
    _worker_state["settings"] = settings
    _worker_state["buffer"] = bytearray(CHUNK_BYTES)
    _worker_state["delay"] = _delay()


def _run_batch(units: list[Unit]) -> list[tuple[Unit, list[FileRecord]]]:
    sources = _worker_state["sources"]
    settings = _worker_state["settings"]
    buffer = _worker_state["buffer"]
    delay = _worker_state["delay"]
    assert isinstance(sources, dict)
    assert isinstance(settings, ScanSettings)
    assert isinstance(buffer, bytearray)
    assert isinstance(delay, float)
    return [(u, _safe_process(sources[u.source_id], u, settings, buffer, delay)) for u in units]


def _safe_process(
    source: Source, unit: Unit, settings: ScanSettings, buffer: bytearray, delay: float
) -> list[FileRecord]:
    if delay:
        time.sleep(delay)
    crash_on = os.environ.get(CRASH_ENV)
    if crash_on and unit.path.endswith(crash_on) and multiprocessing.parent_process() is not None:
        os.abort()  # test hook: a decoder crashing hard inside a worker
    try:
        return process_unit(source, unit, settings, buffer)
    except Exception as exc:  # a bug must cost one file, not the scan
        record = FileRecord(
            unit.source_id, unit.path, None, 0, size=unit.size, path_raw=unit.path_raw
        )
        record.add_issue(IssueCode.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}")
        return [record]


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get(DELAY_ENV, "0")) / 1000.0)
    except ValueError:
        return 0.0
