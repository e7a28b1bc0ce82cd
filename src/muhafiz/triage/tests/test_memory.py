"""The allocator setting that spares a fresh, zeroed buffer per image is accepted by glibc."""

import platform
import subprocess
import sys

import pytest

from muhafiz.triage.memory import keep_freed_memory


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt is glibc's",
)
def test_glibc_accepts_the_scan_allocator_settings() -> None:
    assert keep_freed_memory() is True


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt is glibc's",
)
def test_it_starts_no_child_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """It runs at every scan's start and in every worker: no `ldconfig -p` to find libc."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a child process was started: {args}")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    assert keep_freed_memory() is True
