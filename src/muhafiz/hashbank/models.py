"""Bank tables: banks, entries, imports with provenance."""
