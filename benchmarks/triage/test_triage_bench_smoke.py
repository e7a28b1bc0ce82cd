"""The triage benchmark runs end to end on tiny corpora (no figures are asserted)."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("hashdeep") is None, reason="hashdeep not installed")
def test_triage_benchmark_smoke_run() -> None:
    spec = importlib.util.spec_from_file_location(
        "triage_bench", Path(__file__).with_name("run.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["triage_bench"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    result = module.main(["--smoke"])
    assert set(result["runs"]) == {"a", "b"}
    assert "hashdeep" in result["text"] and "PDQ" in result["text"]
