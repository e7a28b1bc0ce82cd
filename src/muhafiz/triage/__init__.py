"""Django-free triage: hash, identify and match seized media; write and report scan files."""
