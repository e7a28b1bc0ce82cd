"""Django-free triage: hash, identify and match seized folders and archives into a scan file."""

from muhafiz.triage.settings import ScanSettings

__all__ = ["ScanSettings"]
