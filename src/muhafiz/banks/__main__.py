"""`python -m muhafiz.banks …`: the Django-free bank commands without the `muhafiz` front door."""

from muhafiz.banks.cli import bank

bank(prog_name="python -m muhafiz.banks")
