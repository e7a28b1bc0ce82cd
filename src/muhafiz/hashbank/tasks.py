"""Background jobs of the hash banks: rebuilding the shared match index.

The import of a hash list uploaded on a bank's page is the job `actions.uploads.import_bank_upload`,
defined beside its body (it calls the import actions, which queue the rebuild here).
"""

from __future__ import annotations

from django.db import transaction
from django_tasks import task

from muhafiz.hashbank.index import build_index_if_changed


@task()
def rebuild_index() -> dict[str, int | str]:
    """Rebuild the match index from the enabled banks (queued whenever banks change).

    Skips the build when an earlier job already covered every change.
    """
    result = build_index_if_changed()
    if result is None:
        return {"skipped": "index already up to date"}
    return {
        "generation": result.generation,
        "max_entry_id": result.max_entry_id,
        "banks": result.banks,
        "entries": result.entries,
    }


def queue_index_rebuild() -> None:
    """Queue a rebuild once the current transaction commits (never for a rolled-back change)."""
    transaction.on_commit(rebuild_index.enqueue)
