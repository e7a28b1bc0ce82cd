"""Stage events and statutory clocks of a case."""
