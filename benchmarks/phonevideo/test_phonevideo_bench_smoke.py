"""The phones-and-video benchmark runs end to end on tiny inputs (no figures are asserted)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_phonevideo_benchmark_smoke_run() -> None:
    spec = importlib.util.spec_from_file_location(
        "phonevideo_bench", Path(__file__).with_name("run.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["phonevideo_bench"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    result = module.main(["--smoke"])
    assert len(result["video"]) == 2
    assert result["ufdr"]["with_device_path"] == result["ufdr"]["files"]
    assert "vPDQ" in result["text"] and "UFDR" in result["text"]
