"""What a bank operation raises when it cannot be done: the message says why, for the person
who asked (the CLI prints it, the API returns it)."""

from __future__ import annotations

from typing import Any

from muhafiz.hashbank.models import BankImport


class BankError(Exception):
    """A bank operation could not be done; the message says why, for the person who asked."""


class ImportRunningError(BankError):
    """Another import into the bank is running (it holds the bank's import lock)."""


class ImportChangedError(BankError):
    """The file changed while it was being imported; nothing was imported."""


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


def _describe(error: dict[str, Any]) -> str:
    line = error.get("line")
    return f"line {line}: {error['message']}" if line is not None else str(error["message"])
