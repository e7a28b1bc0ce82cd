"""`python -m benchmarks.insights`: see run.py."""

from benchmarks.insights.run import main

main()
