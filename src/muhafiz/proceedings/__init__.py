"""Legal proceedings of a case: stage events, statutory clocks, hearings, judgments, appeals."""
