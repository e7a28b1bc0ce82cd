"""Every write to the bank tables, by topic: `banks` (create, enable/disable, discard, remove an
entry, the matching audit), `imports` (a hash list into a bank), `uploads` (a list sent on a
page: stored, then imported by a job) and `exports` (a bank out as a file or a directory). All
audited; each checks its permission first. The errors, the file check and the reads are
re-exported here for callers.
"""

from muhafiz.hashbank.actions.banks import (
    create_bank,
    discard_new_bank,
    record_request,
    remove_entry,
    set_bank_enabled,
)
from muhafiz.hashbank.actions.exports import export_bank, export_collection, write_bank
from muhafiz.hashbank.actions.imports import abandon_interrupted_imports, import_hash_list
from muhafiz.hashbank.actions.uploads import perform_bank_upload, queue_bank_upload
from muhafiz.hashbank.errors import BankError, ImportRejectedError
from muhafiz.hashbank.hashlists import MAX_NAMED_ERRORS, CheckResult, check_hash_list, iter_checked
from muhafiz.hashbank.selectors import find_entries, get_bank, is_unfinished_new_bank

__all__ = [
    "MAX_NAMED_ERRORS",
    "BankError",
    "CheckResult",
    "ImportRejectedError",
    "abandon_interrupted_imports",
    "check_hash_list",
    "create_bank",
    "discard_new_bank",
    "export_bank",
    "export_collection",
    "find_entries",
    "get_bank",
    "import_hash_list",
    "is_unfinished_new_bank",
    "iter_checked",
    "perform_bank_upload",
    "queue_bank_upload",
    "record_request",
    "remove_entry",
    "set_bank_enabled",
    "write_bank",
]
