"""The national case database: cases, parties, stages and clocks, cross-case links."""
