"""Reading a hash-list file with the banks library, naming every bad row: the first pass of an
import and its check. Reads files only; the imports write (`actions.imports`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from muhafiz.banks.entries import has_details
from muhafiz.banks.formats import DuplicateMerger, detect_format, get_format
from muhafiz.banks.formats.base import HashListFormat, TextLineFormat, iter_text_lines
from muhafiz.banks.formats.nsrl import NsrlRds, PlainDigests
from muhafiz.banks.formats.pdqlist import PdqList
from muhafiz.banks.formats.vics import VicsJson
from muhafiz.banks.model import HashEntry, HashListError, entry_limit_error
from muhafiz.banks.reasons import Reason, reason

# A rejected import names at most this many bad rows (and counts all of them).
MAX_NAMED_ERRORS = 1000
# The common PDQ-list line, `<64 hex>` or `<64 hex>,<quality>`: read without the general line
# parser (a million-line list in a few seconds). The entry is the one `PdqList.parse_line`
# makes; any other line, or a quality past 100, goes through it.
_PDQ_PLAIN = re.compile(r"([0-9A-Fa-f]{64})(?:,([0-9]{1,3}))?")


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
            # The English for the CLI and the logs; the code, place and values for a page or
            # an API client to say it in the reader's language (`hashbank.reasons`).
            self.errors.append({"line": exc.line, "message": exc.message, **exc.reason.as_json()})


# A common PDQ-list line as read: (the hash in lower case, its quality or None, its line number);
# the `HashEntry(pdq=…, pdq_quality=…, line=…)` it stands for costs more to make than to read it.
PlainPdq = tuple[str, int | None, int]
# An NSRL row as read (`NsrlRds.read_plain`): (md5, sha1, sha256, its record number).
PlainRow = PlainPdq | PlainDigests


def iter_checked(
    path: Path,
    chosen: HashListFormat,
    on_error: Callable[[HashListError], None],
    on_repeat: Callable[[], None] = lambda: None,
) -> Iterator[HashEntry]:
    """Stream a file's entries with the banks library, reporting bad rows and going on.

    Line formats are parsed line by line with the library's own line parser, so every bad line
    is named; VICS names every bad media record and NSRL (SQLite) every bad row.
    Contradictory repeats (same hash, different details) are bad rows too; exact repeats of an
    entry with details are dropped here, repeats of bare hashes count as duplicates later.
    """
    for item in iter_checked_rows(path, chosen, on_error, on_repeat):
        if isinstance(item, HashEntry):
            yield item
        elif len(item) == 4:
            yield HashEntry(md5=item[0], sha1=item[1], sha256=item[2], line=item[3])
        else:
            yield HashEntry(pdq=item[0], pdq_quality=item[1], line=item[2])


def iter_checked_rows(
    path: Path,
    chosen: HashListFormat,
    on_error: Callable[[HashListError], None],
    on_repeat: Callable[[], None] = lambda: None,
) -> Iterator[HashEntry | PlainRow]:
    """`iter_checked`, with each common PDQ-list line as a `PlainPdq` and each NSRL row as a
    `PlainDigests` (an import's fast path)."""
    merger = DuplicateMerger(str(path))
    seen_pdq: set[bytes] = set()

    def checked(entry: HashEntry) -> HashEntry | None:
        if (too_much := entry_limit_error(entry)) is not None:
            on_error(HashListError(str(path), entry.line, too_much))
            return None
        if not has_details(entry):
            return entry  # bare hashes (NSRL-size lists): no per-file memory of them
        return keep_detailed(entry)

    def keep_merged(entry: HashEntry) -> HashEntry | None:
        try:
            if merger.keep(entry):
                return entry
            on_repeat()
            return None
        except HashListError as exc:
            on_error(exc)
            return None

    # A PDQ list's entries hold one hash and no facts but it (a quality and a note are not
    # compared): two entries with the same hash never contradict, the later is a repeat. Each
    # hash is remembered as its 32 bytes, not as the merger's record (a million-line list:
    # about 100 MB instead of 480 MB, and a fraction of the time).
    def keep_pdq(entry: HashEntry) -> HashEntry | None:
        key = bytes.fromhex(entry.pdq or "")
        if key in seen_pdq:
            on_repeat()
            return None
        seen_pdq.add(key)
        return entry

    keep_detailed = keep_pdq if isinstance(chosen, PdqList) else keep_merged

    if isinstance(chosen, TextLineFormat):
        source = str(path)
        pdq_plain = _PDQ_PLAIN.fullmatch if isinstance(chosen, PdqList) else None
        state = chosen.start(source)
        try:
            for number, text in iter_text_lines(path):
                stripped = text.strip()
                if not stripped or stripped.startswith(chosen.comment_prefixes):
                    continue
                plain = pdq_plain(stripped) if pdq_plain is not None else None
                if plain is not None and (plain[2] is None or int(plain[2]) <= 100):
                    digest = plain[1].lower()
                    if plain[2] is None:
                        # A bare hash: as `checked` (no text past any limit, nothing to remember).
                        yield (digest, None, number)
                        continue
                    key = bytes.fromhex(digest)  # as `keep_pdq`
                    if key in seen_pdq:
                        on_repeat()
                    else:
                        seen_pdq.add(key)
                        yield (digest, int(plain[2]), number)
                    continue
                try:
                    parsed = chosen.parse_line(text, source, number, state)
                except HashListError as exc:
                    on_error(exc)
                    continue
                except (ValueError, OverflowError, RecursionError) as exc:  # a reader's slip
                    on_error(HashListError(source, number, unreadable(exc)))
                    continue
                if parsed is not None and (kept := checked(parsed)) is not None:
                    yield kept
            chosen.finish(source, state)
        except HashListError as exc:  # binary data, bad encoding, a missing header
            on_error(exc)
        except (OSError, ValueError, OverflowError, RecursionError) as exc:
            on_error(HashListError(source, None, unreadable(exc)))
    elif isinstance(chosen, NsrlRds):
        # Every bad row is named and reading goes on; rows are bare hashes (as `checked`: no
        # text past any limit, nothing to remember).
        try:
            yield from chosen.read_plain(path, on_error)
        except HashListError as exc:
            on_error(exc)
        except (OSError, ValueError, OverflowError, RecursionError) as exc:
            on_error(HashListError(str(path), None, unreadable(exc)))
    else:
        # VICS names every bad media record and goes on.
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
            on_error(HashListError(str(path), None, unreadable(exc)))


def unreadable(exc: BaseException) -> Reason:
    """A reader failed in a way it does not name: say what, shortly, never a traceback."""
    text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return reason("unreadable", detail=text)


def check_hash_list(path: Path, fmt: str | None = None) -> tuple[HashListFormat, CheckResult]:
    """First pass: read the whole file, name every bad row, keep nothing but counts."""
    chosen: HashListFormat = get_format(fmt) if fmt else detect_format(path)
    result = CheckResult(format=chosen.name)
    for _ in iter_checked_rows(path, chosen, result.add_error, result.count_repeat):
        result.entries += 1
    return chosen, result
