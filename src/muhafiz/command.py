"""The `muhafiz` executable: `bank lookup --bank-dir …` before anything else loads, every other
command through the click tree in `muhafiz.cli`.

A lookup of a few thousand hashes spends most of its process on start-up (decision 0105), so
its plain forms skip click and the command tree (`muhafiz.banks.lookup.plain_lookup`); any
other form, help included, goes to click, which runs the same lookup or words the mistake.
"""

from __future__ import annotations

import gc
import sys

HELP = frozenset({"-h", "--help"})


def main() -> None:
    args = sys.argv[1:]
    if args[:2] == ["bank", "lookup"] and not HELP.intersection(args):
        # Importing numpy and the lookup allocates ~100,000 objects that live as long as the
        # process: the cycle collector would walk them again and again while they load and
        # once more when the interpreter exits, for nothing (~13 ms of a 0.14 s lookup of
        # 2,000 hashes, decision 0105). Collect nothing while importing, then set them aside
        # (gc.freeze); the lookup's own objects are collected as usual.
        gc.disable()
        from muhafiz.core.datadir import private_umask

        private_umask()  # as the click group does for every command
        from muhafiz.banks.lookup import plain_lookup

        gc.freeze()
        gc.enable()
        status = plain_lookup(args[2:])
        if status is not None:
            sys.exit(status)
    from muhafiz.cli import main as click_main

    click_main()
