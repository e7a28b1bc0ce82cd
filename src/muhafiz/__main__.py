"""Allow `python -m muhafiz`."""

from muhafiz.cli import main

main()
