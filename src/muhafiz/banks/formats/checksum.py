"""Output of md5sum, sha1sum and sha256sum (`<hex>  <name>`, `<hex> *<name>`) and BSD-style tags.

BSD style is `SHA256 (name) = <hex>`, as `shasum --tag` and macOS `md5 -r`-less output print it.
The file name becomes the entry's note; a leading backslash (GNU escaping) is undone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from muhafiz.banks.formats.base import TextLineFormat, first_text_lines, single_hash_entry
from muhafiz.banks.hexhash import normalize_hex
from muhafiz.banks.model import HashEntry, HashKind, HashListError
from muhafiz.banks.reasons import reason

_GNU = re.compile(r"^\\?(?P<hex>[0-9A-Za-z]+) (?P<mode>[ *])(?P<name>.*)$")
_BSD = re.compile(r"^\\?(?P<algo>MD5|SHA1|SHA256) ?\((?P<name>.*)\) ?= ?(?P<hex>[0-9A-Za-z]+)$")
_BY_LENGTH = {32: HashKind.MD5, 40: HashKind.SHA1, 64: HashKind.SHA256}
_BY_TAG = {"MD5": HashKind.MD5, "SHA1": HashKind.SHA1, "SHA256": HashKind.SHA256}


def _unescape(name: str) -> str:
    return name.replace("\\n", "\n").replace("\\\\", "\\")


class ChecksumList(TextLineFormat):
    name: ClassVar[str] = "checksum"
    description: ClassVar[str] = "md5sum / sha1sum / sha256sum output, GNU or BSD (--tag) style"
    sniff_order: ClassVar[int] = 500

    def sniff(self, path: Path, head: bytes) -> bool:
        lines = first_text_lines(head, limit=1)
        if not lines:
            return False
        for line in lines:
            gnu = _GNU.match(line)
            if gnu and len(gnu["hex"]) in _BY_LENGTH and gnu["name"]:
                continue
            if _BSD.match(line):
                continue
            return False
        return True

    def parse_line(
        self, text: str, source: str, line: int, state: dict[str, object]
    ) -> HashEntry | None:
        escaped = text.startswith("\\")
        bsd = _BSD.match(text)
        if bsd:
            kind = _BY_TAG[bsd["algo"]]
            digest = normalize_hex(bsd["hex"], kind, source, line)
            name = bsd["name"]
        else:
            gnu = _GNU.match(text)
            if gnu is None or not gnu["name"]:
                raise HashListError(source, line, reason("checksum_line"))
            kind_or_none = _BY_LENGTH.get(len(gnu["hex"]))
            if kind_or_none is None:
                raise HashListError(
                    source, line, reason("checksum_hash_length", length=len(gnu["hex"]))
                )
            kind = kind_or_none
            digest = normalize_hex(gnu["hex"], kind, source, line)
            name = gnu["name"]
        if escaped:
            name = _unescape(name)
        previous = state.get("kind")
        if previous is None:
            state["kind"] = kind
        elif previous != kind:
            raise HashListError(
                source,
                line,
                reason("mixed_kinds", kind=kind.value, list_kind=HashKind(str(previous)).value),
            )
        return single_hash_entry(kind, digest, line=line, note=name)
