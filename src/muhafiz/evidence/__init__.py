"""Evidence items, their chain of custody, and triage scans from the field or server jobs."""
