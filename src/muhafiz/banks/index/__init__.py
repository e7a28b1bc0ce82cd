"""Indexes over hash banks: exact membership (sorted arrays) and PDQ near matches (multi-index
hashing), persisted as .npy files that are memory-mapped on load."""
