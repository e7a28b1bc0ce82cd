"""Muhafiz: triage, case database, offender register and public accountability."""

import os

# PDQ's matrix products are small (64 x 1000 x 750 at most; triage/imaging.py): OpenBLAS threads
# only spin on them (measured: 2.6x the CPU time per image), and a scan already runs one worker
# per core. Set before numpy is first imported; an operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
