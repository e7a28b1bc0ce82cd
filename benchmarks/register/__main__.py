"""`python -m benchmarks.register`: see run.py."""

from benchmarks.register.run import main

main()
