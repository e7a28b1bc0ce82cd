"""A bank's active entries as a download (API and page alike): spooled to a temporary file, not
memory, as an NSRL-size bank is gigabytes of JSON. `write_bank` checks the right and audits."""

from __future__ import annotations

import io
import tempfile
from typing import Any

from django.http import FileResponse

from muhafiz.hashbank.actions.exports import write_bank
from muhafiz.hashbank.models import Bank

SUFFIXES = {"vics": "json", "pdq": "pdq"}


def bank_download(actor: Any, bank: Bank, fmt: str) -> FileResponse:
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="\n")
        write_bank(actor, bank, fmt, text)
        text.flush()
        text.detach()
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return FileResponse(spool, as_attachment=True, filename=f"{bank.name}.{SUFFIXES[fmt]}")
