"""The layer contracts of `make lint` (import-linter, `[tool.importlinter]` in pyproject.toml)
hold on the real tree, and fail on a deliberate bad import.

The failing cases run the real contracts on a small fixture package named `muhafiz` (one empty
package per layer and per forbidden module) so that a bad import can be added without touching
the real code; the control run without the bad import passes, so each failure is the bad
import's doing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[4]
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))


def _config() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        config: dict[str, Any] = tomllib.load(handle)["tool"]["importlinter"]
    return config


def _run(
    cwd: Path, config: Path, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    assert LINT_IMPORTS is not None, "import-linter is a dev dependency (pip install -e '.[dev]')"
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache", "--config", str(config)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return str(value)


def _write_config(path: Path, config: dict[str, Any]) -> None:
    lines = ["[tool.importlinter]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in config.items() if k != "contracts"]
    for contract in config["contracts"]:
        lines.append("")
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in contract.items()]
        # The fixture has none of the real tree's ignored imports.
        lines.append('unmatched_ignore_imports_alerting = "none"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _fixture(tmp_path: Path, bad: dict[str, str]) -> Path:
    """A `muhafiz` package with every module the contracts name; `bad` maps a module (dotted,
    under muhafiz) to the source it holds."""
    config = _config()
    names: set[str] = set()
    for contract in config["contracts"]:
        for layer in contract.get("layers", []):
            names |= {part.strip() for part in layer.split("|")}
        names |= set(contract.get("source_modules", []))
        names |= {m for m in contract.get("forbidden_modules", []) if m.startswith("muhafiz.")}
    root = tmp_path / "src"
    # The patterns of skipped descendants must match something.
    names |= {"muhafiz", "muhafiz.core.tests", "muhafiz.core.migrations"}
    for name in sorted(names):
        package = root.joinpath(*name.split("."))
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text('"""fixture"""\n', encoding="utf-8")
    for module, source in bad.items():
        path = root.joinpath(*module.split("."))
        path.parent.mkdir(parents=True, exist_ok=True)
        if not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("", encoding="utf-8")
        path.with_suffix(".py").write_text(source, encoding="utf-8")
    _write_config(tmp_path / "pyproject.toml", config)
    return root


def test_the_real_tree_keeps_every_contract() -> None:
    result = _run(ROOT, ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_fixture_without_a_bad_import_keeps_every_contract(tmp_path: Path) -> None:
    src = _fixture(tmp_path, {"muhafiz.cases.actions": "from muhafiz.core import hooks\n"})
    result = _run(tmp_path, tmp_path / "pyproject.toml", src)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("bad", "broken"),
    [
        pytest.param(
            {"muhafiz.core.views": "import muhafiz.cases\n"},
            "Apps import only from the layers below them BROKEN",
            id="core-imports-an-app",
        ),
        pytest.param(
            {"muhafiz.cases.actions": "from muhafiz.evidence import links\n"},
            "Apps import only from the layers below them BROKEN",
            id="cases-imports-evidence",
        ),
        pytest.param(
            {"muhafiz.audit.actions": "def f():\n    from muhafiz.accounts import models\n"},
            "Apps import only from the layers below them BROKEN",
            id="a-lazy-upward-import",
        ),
        pytest.param(
            {"muhafiz.banks.match": "import django.db\n"},
            "triage and banks import no Django and no app BROKEN",
            id="banks-imports-django",
        ),
        pytest.param(
            {"muhafiz.triage.engine": "from muhafiz.core import jobs\n"},
            "triage and banks import no Django and no app BROKEN",
            id="triage-imports-core",
        ),
        pytest.param(
            {
                "muhafiz.banks.match": "from muhafiz.banks import video\n",
                "muhafiz.banks.video": "def f():\n    from muhafiz.banks import match\n",
            },
            "No import cycles between sibling modules or packages BROKEN",
            id="a-cycle",
        ),
    ],
)
def test_a_bad_import_breaks_make_lint(tmp_path: Path, bad: dict[str, str], broken: str) -> None:
    src = _fixture(tmp_path, bad)
    result = _run(tmp_path, tmp_path / "pyproject.toml", src)
    assert result.returncode == 1, result.stdout + result.stderr
    assert broken in result.stdout


def test_every_app_and_library_has_a_readme_with_its_contract() -> None:
    """Each app in the layers and both libraries say what they own and who may call them."""
    package = ROOT / "src" / "muhafiz"
    names = {
        part.strip().removeprefix("muhafiz.")
        for contract in _config()["contracts"]
        for layer in contract.get("layers", [])
        for part in layer.split("|")
    } | {"triage", "banks"}
    missing = sorted(name for name in names if not (package / name / "README.md").is_file())
    assert missing == []
