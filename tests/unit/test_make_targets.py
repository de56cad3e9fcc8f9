"""The Makefile's targets: ``make run`` installs only what the app needs, the test tools come
with ``make test``, and ``make test-fast`` runs the unit tests alone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def planned(target: str, venv: Path) -> str:
    """The commands ``make TARGET`` would run on a fresh clone (dry run, nothing installed)."""
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", str(ROOT), target, f"VENV={venv}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_make_run_installs_the_app_without_the_test_tools(tmp_path):
    commands = planned("run", tmp_path / "venv")
    assert "pip install --quiet -e ." in commands
    assert "[test]" not in commands
    assert "/bin/vgtui" in commands


def test_make_test_installs_the_test_tools_and_runs_everything(tmp_path):
    commands = planned("test", tmp_path / "venv")
    assert 'pip install --quiet -e ".[test]"' in commands
    assert "ruff check ." in commands
    # every test folder, the unit tests beside the others, and a failure in either fails make
    assert "-m pytest -q -p no:cacheprovider tests/unit" in commands
    assert "-m pytest -q tests/integration tests/ui" in commands
    assert "test $rest -eq 0 && test $units -eq 0" in commands
    folders = {path.parent.name for path in (ROOT / "tests").rglob("test_*.py")}
    assert folders == {"unit", "integration", "ui"}  # a new folder must be added to make test


def test_make_test_fast_runs_the_unit_tests(tmp_path):
    commands = planned("test-fast", tmp_path / "venv")
    assert commands.rstrip().endswith("-m pytest -q tests/unit")
