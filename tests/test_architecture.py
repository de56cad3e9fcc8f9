"""The headless core must not load the UI libraries."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import vgtui

CORE = Path(vgtui.__file__).parent / "core"


def test_core_imports_neither_textual_nor_plotext():
    modules = sorted(f"vgtui.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__")
    assert "vgtui.core.trainer" in modules and "vgtui.core.engine" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "import vgtui.cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'plotext', 'textual_plotext', 'rich'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_core_sources_do_not_mention_ui_imports():
    pattern = re.compile(r"^\s*(import|from)\s+(textual|plotext|textual_plotext)\b", re.M)
    for path in CORE.glob("*.py"):
        assert not pattern.search(path.read_text()), path
