"""A small pull parser for huge JSON documents: walk objects and arrays key by key, and decode
each leaf or small sub-document with the C-speed `json` decoder, never holding the whole file.

Errors carry the 1-based line where the bad token starts, so a reader can name it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

from muhafiz.banks.model import HashListError
from muhafiz.banks.reasons import Reason, reason

_WHITESPACE = " \t\r\n"
_CHUNK = 1 << 20
# The longest token a chunk boundary can cut so that the decoder fails before its end:
# `false`, `null`, `true` and number prefixes are far shorter.
_CUT_TOKEN = 32
_DECODER = json.JSONDecoder()
# The longest single value (a media record, a string) decoded at once; a file is read in
# streaming fashion, but one value of hundreds of megabytes would sit in memory whole.
MAX_VALUE_CHARS = 16 * 1024 * 1024


class JsonStream:
    def __init__(self, handle: BinaryIO, source: str) -> None:
        self._handle = handle
        self._source = source
        self._buffer = ""
        self._pos = 0
        self._eof = False
        self._pending = b""  # bytes of a UTF-8 character cut by a chunk boundary
        self._line = 1  # line number at self._line_pos
        self._line_pos = 0
        self._first = True

    # -- position ------------------------------------------------------------------------
    def line(self) -> int:
        """The line of the current position."""
        self._line += self._buffer.count("\n", self._line_pos, self._pos)
        self._line_pos = self._pos
        return self._line

    def error(self, why: Reason, line: int | None = None) -> HashListError:
        return HashListError(self._source, line if line is not None else self.line(), why)

    # -- buffer --------------------------------------------------------------------------
    def _fill(self, size: int = _CHUNK) -> bool:
        if self._eof:
            return False
        raw = self._handle.read(size)
        if not raw:
            self._eof = True
            if self._pending:
                raise self.error(reason("json_ends_in_character"))
            return False
        raw = self._pending + raw
        try:
            text = raw.decode("utf-8")
            self._pending = b""
        except UnicodeDecodeError as exc:
            if exc.start >= len(raw) - 3 and exc.reason == "unexpected end of data":
                text = raw[: exc.start].decode("utf-8")
                self._pending = raw[exc.start :]
            else:
                raise self.error(reason("not_utf8", detail=exc.reason)) from exc
        if self._first:
            text = text.removeprefix("\ufeff")
            self._first = False
        # Drop what has been consumed so the buffer holds only the unread tail.
        self.line()
        self._buffer = self._buffer[self._pos :] + text
        self._pos = 0
        self._line_pos = 0
        return True

    def peek(self) -> str:
        """The next non-whitespace character, or "" at the end of the file."""
        while True:
            while self._pos < len(self._buffer) and self._buffer[self._pos] in _WHITESPACE:
                self._pos += 1
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill():
                return ""

    def expect(self, char: str, what: str) -> None:
        found = self.peek()
        if found != char:
            if not found:
                raise self.error(reason("json_expected_at_end", what=what, char=char))
            raise self.error(reason("json_expected", what=what, char=char, found=found))
        self._pos += 1

    def value(self) -> Any:
        """Decode the next complete JSON value, reading more of the file as needed."""
        self.peek()
        start_line = self.line()
        size = _CHUNK
        while True:
            try:
                result, end = _DECODER.raw_decode(self._buffer, self._pos)
            except RecursionError as exc:
                raise self.error(reason("json_too_deep"), start_line) from exc
            except json.JSONDecodeError as exc:
                # Only an error near the end of what has been read (a literal such as `fals` or
                # a number cut by the chunk boundary) or an unterminated string may be the
                # buffer's fault: read on and retry. Anything else is malformed now.
                unterminated = exc.msg.startswith("Unterminated")
                may_be_cut = exc.pos >= len(self._buffer) - _CUT_TOKEN or unterminated
                offset = exc.pos - self._pos
                if may_be_cut and len(self._buffer) - self._pos > MAX_VALUE_CHARS:
                    raise self.error(
                        reason("json_value_too_long", mib=MAX_VALUE_CHARS // (1024 * 1024)),
                        start_line,
                    ) from exc
                if may_be_cut and self._fill(size):
                    size *= 2
                    continue
                line = start_line + self._buffer.count("\n", self._pos, self._pos + offset)
                # At the end of the file: truncated if the value runs into the end, else bad.
                tail = self._buffer[exc.pos :].strip()
                cut_literal = bool(tail) and any(
                    word.startswith(tail) for word in ("true", "false", "null")
                )
                if unterminated or cut_literal or exc.pos >= len(self._buffer) - 1:
                    raise self.error(reason("json_truncated"), line) from exc
                raise self.error(reason("json_malformed", detail=exc.msg), line) from exc
            except ValueError as exc:  # a number of thousands of digits (int_max_str_digits)
                raise self.error(
                    reason("json_malformed", detail=str(exc)[:80]), start_line
                ) from exc
            # A number or literal that ends exactly at the buffer end may continue in the file.
            if end >= len(self._buffer) and not self._eof and self._fill(size):
                continue
            self._pos = end
            return result

    # -- structure -----------------------------------------------------------------------
    def object_keys(self, what: str) -> Iterator[str]:
        """Walk an object: yields each key with the stream positioned at its value; the caller
        must consume the value (`value()` or a nested walk) before asking for the next key."""
        self.expect("{", f"the start of {what}")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                raise self.error(reason("json_key_expected", what=what))
            key = self.value()
            self.expect(":", "a colon after a key")
            yield key
            separator = self.peek()
            if separator == ",":
                self._pos += 1
                continue
            if separator == "}":
                self._pos += 1
                return
            raise self.error(_separator(what, "}", separator))

    def array_items(self, what: str) -> Iterator[int]:
        """Walk an array: yields each item's line with the stream positioned at the item."""
        self.expect("[", f"the start of {what}")
        if self.peek() == "]":
            self._pos += 1
            return
        while True:
            self.peek()
            yield self.line()
            separator = self.peek()
            if separator == ",":
                self._pos += 1
                continue
            if separator == "]":
                self._pos += 1
                return
            raise self.error(_separator(what, "]", separator))

    def expect_end(self) -> None:
        if self.peek() != "":
            raise self.error(reason("json_trailing_data"))


def _separator(what: str, close: str, found: str) -> Reason:
    if not found:
        return reason("json_separator_at_end", what=what, close=close)
    return reason("json_separator", what=what, close=close, found=found)
