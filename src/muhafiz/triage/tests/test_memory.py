"""The allocator setting that spares a fresh, zeroed buffer per image is accepted by glibc."""

import platform
import sys

import pytest

from muhafiz.triage.memory import keep_freed_memory


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt is glibc's",
)
def test_glibc_accepts_the_scan_allocator_settings() -> None:
    assert keep_freed_memory() is True
