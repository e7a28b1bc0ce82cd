"""Allow `python -m muhafiz`."""

from muhafiz.command import main

main()
