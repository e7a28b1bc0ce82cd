"""`python -m benchmarks.cases`: see run.py."""

from benchmarks.cases.run import main

main()
