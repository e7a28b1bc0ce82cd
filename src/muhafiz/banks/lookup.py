"""`bank lookup` without click: hashes from a text stream matched against loaded banks, one
JSON line out per hash, and the command's plain argument forms parsed by hand.

A field laptop often runs one lookup per hash list, so the process's start-up is most of its
cost (decision 0105): the `muhafiz` executable answers `bank lookup --bank-dir …` through
`plain_lookup` before it imports click or the command tree, and hands every other form (help,
a mistake, the server's lookup without --bank-dir) to click, which words it as before. The
click command (`muhafiz.banks.cli.lookup`) runs the same `lookup_hashes`, so the two paths
write the same lines.
"""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from muhafiz.banks.entries import entry_to_json
from muhafiz.banks.hexhash import is_hex
from muhafiz.banks.index.pdq import MATCH_DISTANCE, hex_to_words
from muhafiz.banks.match import LoadedBank, Match, Matcher, load_bank_path
from muhafiz.banks.model import BankKind, HashKind, HashListError

LOOKUP_BATCH = 4096
LARGEST_DISTANCE = 256
NOT_A_HASH = "not a hex MD5 (32), SHA-1 (40), SHA-256 or PDQ (64) value"
# One encoder for every line: json.dumps(..., ensure_ascii=False) builds a new one per call.
_encode = json.JSONEncoder(ensure_ascii=False).encode


class UnknownBankError(ValueError):
    """A --bank name that none of the loaded banks has."""


def open_banks(bank_dirs: Sequence[Path], bank_names: Sequence[str] = ()) -> Matcher:
    """The banks under `bank_dirs` (directories, folders of them, hash-list files), only those
    named in `bank_names` when it is given. Raises HashListError for a bank that cannot be
    read and UnknownBankError for a name no loaded bank has."""
    loaded: list[LoadedBank] = []
    for path in bank_dirs:
        loaded.extend(load_bank_path(path, BankKind.KNOWN_BAD, check_kind=False))
    if bank_names:
        unknown = sorted(set(bank_names) - {b.info.name for b in loaded})
        if unknown:
            known = ", ".join(sorted(b.info.name for b in loaded)) or "none"
            raise UnknownBankError(f"no bank named {', '.join(unknown)} (loaded: {known})")
        loaded = [b for b in loaded if b.info.name in bank_names]
    return Matcher(loaded)


def lookup_hashes(matcher: Matcher, hashes: TextIO, max_distance: int, out: TextIO) -> int:
    """Write a JSON line to `out` for every hash line of `hashes`; returns how many lines were
    not hashes."""
    errors = 0
    for batch in _batches(hashes):
        errors += _lookup_batch(matcher, batch, max_distance, out)
    out.flush()
    return errors


def _batches(handle: TextIO) -> Iterator[list[tuple[int, str]]]:
    batch: list[tuple[int, str]] = []
    for number, raw in enumerate(handle, start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        batch.append((number, text))
        if len(batch) >= LOOKUP_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


_KINDS_BY_LENGTH: dict[int, tuple[HashKind, ...]] = {
    32: (HashKind.MD5,),
    40: (HashKind.SHA1,),
    64: (HashKind.SHA256, HashKind.PDQ),
}
_EXACT_KINDS = (HashKind.MD5, HashKind.SHA1, HashKind.SHA256)
_KIND_JSON = {
    length: _encode([k.value for k in kinds]) for length, kinds in _KINDS_BY_LENGTH.items()
}


def _lookup_batch(
    matcher: Matcher, batch: list[tuple[int, str]], max_distance: int, out: TextIO
) -> int:
    hexes = [is_hex(text) for _, text in batch]
    pdq_positions = [i for i, (_, text) in enumerate(batch) if len(text) == 64 and hexes[i]]
    # Checked here already: 64 hex characters (either case) each.
    pdq_results = matcher.match_pdq_words(
        hex_to_words([batch[i][1] for i in pdq_positions]), max_distance=max_distance
    )
    pdq_by_position = dict(zip(pdq_positions, pdq_results, strict=True))
    # No loaded bank holds digests of a kind: skip the per-hash exact lookup of that kind.
    exact = {kind: matcher.has_exact(kind) for kind in _EXACT_KINDS}
    errors = 0
    lines: list[str] = []
    for i, (number, text) in enumerate(batch):
        value = text.lower()
        kinds = _KINDS_BY_LENGTH.get(len(text), ()) if hexes[i] else ()
        if not kinds:
            lines.append(_encode({"hash": value, "line": number, "error": NOT_A_HASH}))
            errors += 1
            continue
        matches: list[Match] = []
        if kinds[0] is HashKind.MD5 and exact[HashKind.MD5]:
            matches.extend(matcher.match(md5=value))
        elif kinds[0] is HashKind.SHA1 and exact[HashKind.SHA1]:
            matches.extend(matcher.match(sha1=value))
        elif kinds[0] is HashKind.SHA256 and exact[HashKind.SHA256]:
            matches.extend(matcher.match(sha256=value))
        matches.extend(pdq_by_position.get(i, ()))
        # The line json.dumps(..., ensure_ascii=False) writes for {"hash", "line", "kinds",
        # "matches"}, put together around the matches alone: the hash is lower-case hex and
        # needs no escaping (a test compares every line with json.dumps).
        found = ", ".join([_encode(_match_json(m)) for m in matches])
        lines.append(
            f'{{"hash": "{value}", "line": {number}, "kinds": {_KIND_JSON[len(text)]}, '
            f'"matches": [{found}]}}'
        )
    lines.append("")
    out.write("\n".join(lines))
    return errors


# An enum's .value goes through a Python-level descriptor; two per match add up.
_VALUE: dict[BankKind | HashKind, str] = {m: m.value for m in (*BankKind, *HashKind)}


def _match_json(match: Match) -> dict[str, Any]:
    return {
        "bank": match.bank,
        "bank_kind": _VALUE[match.bank_kind],
        "kind": _VALUE[match.kind],
        "distance": match.distance,
        "entry": entry_to_json(match.entry),
    }


@dataclass(frozen=True)
class LookupArgs:
    """What a plain `lookup` was asked (a docstring also spares dataclass an inspect call)."""

    bank_dirs: tuple[Path, ...]
    bank_names: tuple[str, ...]
    max_distance: int
    hashes: str  # a file name, or "-" for standard input


_OPTIONS = ("--bank-dir", "--bank", "--max-distance")


def parse_plain_lookup(args: Sequence[str]) -> LookupArgs | None:
    """The arguments of `lookup` when they take only its plain forms: `--bank-dir PATH`
    (at least one, each an existing readable path), `--bank NAME`, `--max-distance N`
    (0-256), `--option=value`, and at most one HASHES argument. Anything else (help, `--`,
    an unknown option, a missing path, a value that starts with a dash) gives None, and
    click parses the command and words any mistake as it always has."""
    values: dict[str, list[str]] = {name: [] for name in _OPTIONS}
    positional: list[str] = []
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "-" or not arg.startswith("-"):
            positional.append(arg)
            continue
        name, equals, value = arg.partition("=")
        if name not in values:
            return None
        if not equals:
            if not rest:
                return None
            value = rest.pop(0)
        if value.startswith("-"):
            return None
        values[name].append(value)
    distance = values["--max-distance"][-1:] or [str(MATCH_DISTANCE)]
    if len(positional) > 1 or not values["--bank-dir"]:
        return None
    if not (distance[0].isascii() and distance[0].isdigit()):
        return None
    if int(distance[0]) > LARGEST_DISTANCE:
        return None
    if not all(os.access(path, os.R_OK) for path in values["--bank-dir"]):
        return None
    return LookupArgs(
        bank_dirs=tuple(Path(path) for path in values["--bank-dir"]),
        bank_names=tuple(values["--bank"]),
        max_distance=int(distance[0]),
        hashes=positional[0] if positional else "-",
    )


def plain_lookup(args: Sequence[str]) -> int | None:
    """Run `lookup` for plain arguments (`parse_plain_lookup`) and return its exit status, or
    None, having done nothing, for click to run the command instead."""
    parsed = parse_plain_lookup(args)
    if parsed is None:
        return None
    hashes: AbstractContextManager[TextIO]
    if parsed.hashes == "-":
        if sys.stdin is None:
            return None
        hashes = nullcontext(_text_stdin())
    else:
        try:
            hashes = Path(parsed.hashes).open(encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError:
            return None  # click says why, in its words
    try:
        with hashes as handle:
            try:
                matcher = open_banks(parsed.bank_dirs, parsed.bank_names)
            except (HashListError, UnknownBankError) as exc:
                import click

                click.ClickException(str(exc)).show()
                return 1
            errors = lookup_hashes(matcher, handle, parsed.max_distance, sys.stdout)
    except BrokenPipeError:
        # The reader went away (`… | head`): stop quietly, as click does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("\nAborted!\n")
        return 1
    return 1 if errors else 0


def _text_stdin() -> TextIO:
    """Standard input as click.File("r", encoding="utf-8") gives it for "-": itself when it
    already decodes UTF-8, else its bytes decoded as UTF-8 with undecodable bytes replaced."""
    binary = getattr(sys.stdin, "buffer", None)
    if sys.stdin.encoding == "utf-8" or binary is None:
        return sys.stdin
    return io.TextIOWrapper(binary, encoding="utf-8", errors="replace", line_buffering=True)
