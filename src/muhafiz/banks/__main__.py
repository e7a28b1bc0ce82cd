"""`python -m muhafiz.banks …`: the Django-free bank commands without the `muhafiz` front door."""

import gc
import sys

if sys.argv[1:2] == ["lookup"] and not {"-h", "--help"}.intersection(sys.argv):
    gc.disable()  # as `muhafiz.command` does: no collection of what the imports load
    from muhafiz.banks.lookup import plain_lookup

    gc.freeze()
    gc.enable()
    status = plain_lookup(sys.argv[2:])
    if status is not None:
        sys.exit(status)

from muhafiz.banks.cli import bank  # only when the plain lookup did not answer

bank(prog_name="python -m muhafiz.banks")
