"""Reading files that come from outside, as files anyone may have made. Plain Python: used by
`triage` (scan files) and `banks` (NSRL sets) on a field laptop and by the server alike."""
