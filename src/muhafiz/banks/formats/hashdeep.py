"""hashdeep / md5deep CSV: `%%%% HASHDEEP-1.0`, a `%%%% size,md5,sha256,filename` column line,
`##` comments, then one file a line. The file name is last and may itself contain commas."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from muhafiz.banks.formats.base import TextLineFormat
from muhafiz.banks.hexhash import normalize_hex
from muhafiz.banks.model import HashEntry, HashKind, HashListError
from muhafiz.banks.reasons import reason

_MAGIC = "%%%% HASHDEEP-1.0"
_KINDS = {"md5": HashKind.MD5, "sha1": HashKind.SHA1, "sha256": HashKind.SHA256}
# Columns hashdeep can print that Muhafiz does not index; read and ignored.
_IGNORED = {"size", "tiger", "whirlpool"}


class HashdeepList(TextLineFormat):
    name: ClassVar[str] = "hashdeep"
    description: ClassVar[str] = "hashdeep CSV (%%%% HASHDEEP-1.0 header)"
    sniff_order: ClassVar[int] = 10
    comment_prefixes: ClassVar[tuple[str, ...]] = ("##",)

    def sniff(self, path: Path, head: bytes) -> bool:
        return head.lstrip(b"\xef\xbb\xbf").startswith(_MAGIC.encode())

    def parse_line(
        self, text: str, source: str, line: int, state: dict[str, object]
    ) -> HashEntry | None:
        if text.startswith("%%%%"):
            body = text[4:].strip()
            if body.startswith("HASHDEEP-"):
                if body != "HASHDEEP-1.0":
                    raise HashListError(source, line, reason("hashdeep_version", version=body))
                state["magic"] = True
                return None
            columns = [column.strip().lower() for column in body.split(",")]
            if not columns or columns[-1] != "filename":
                raise HashListError(source, line, reason("hashdeep_columns_end"))
            unknown = [c for c in columns[:-1] if c not in _KINDS and c not in _IGNORED]
            if unknown:
                raise HashListError(
                    source, line, reason("hashdeep_unknown_columns", columns=str(unknown))
                )
            if not any(c in _KINDS for c in columns):
                raise HashListError(source, line, reason("hashdeep_no_hash_column"))
            state["columns"] = columns
            return None
        if not state.get("magic"):
            raise HashListError(source, line, reason("hashdeep_no_header", header=_MAGIC))
        columns_state = state.get("columns")
        if not isinstance(columns_state, list):
            raise HashListError(source, line, reason("hashdeep_no_column_line"))
        columns = [str(column) for column in columns_state]
        fields = text.split(",", len(columns) - 1)
        if len(fields) != len(columns):
            raise HashListError(
                source,
                line,
                reason(
                    "field_count",
                    count=len(fields),
                    expected=len(columns),
                    columns=",".join(columns),
                ),
            )
        values: dict[HashKind, str] = {}
        for column, field in zip(columns[:-1], fields[:-1], strict=True):
            if column == "size" and not field.strip().isdigit():
                raise HashListError(source, line, reason("size_not_number", value=field))
            kind = _KINDS.get(column)
            if kind is not None:
                values[kind] = normalize_hex(field, kind, source, line)
        return HashEntry(
            md5=values.get(HashKind.MD5),
            sha1=values.get(HashKind.SHA1),
            sha256=values.get(HashKind.SHA256),
            note=fields[-1],
            line=line,
        )

    def finish(self, source: str, state: dict[str, object]) -> None:
        if not state.get("magic"):
            raise HashListError(source, None, reason("hashdeep_no_header", header=_MAGIC))
