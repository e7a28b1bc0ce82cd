"""The National Sex Offenders Register: entries from convictions, purpose-bound access."""
