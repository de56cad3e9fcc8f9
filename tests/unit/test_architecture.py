"""The layers of vgtui: a headless core without UI libraries or upward imports, free of import
cycles; one Run lifecycle used by both front ends; one vocabulary of statuses."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import vgtui

PACKAGE = Path(vgtui.__file__).parent
CORE = PACKAGE / "core"
UI = PACKAGE / "ui"


def imported_modules(path: Path) -> set[str]:
    """Every vgtui module ``path`` imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] == "vgtui"}


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts).removesuffix(".__init__")


def core_graph() -> dict[str, set[str]]:
    modules = {module_name(p): p for p in CORE.glob("*.py")}
    return {
        name: imported_modules(path) & modules.keys() - {name} for name, path in modules.items()
    }


def test_core_imports_neither_textual_nor_plotext():
    modules = sorted(f"vgtui.core.{p.stem}" for p in CORE.glob("*.py") if p.stem != "__init__")
    assert "vgtui.core.trainer" in modules and "vgtui.core.run" in modules
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


def test_core_never_imports_upward():
    for path in CORE.glob("*.py"):
        upward = {
            name
            for name in imported_modules(path)
            if name.startswith(("vgtui.ui", "vgtui.cli", "vgtui.__main__"))
        }
        assert not upward, f"{path.name} imports {sorted(upward)}"


def test_core_has_no_import_cycles():
    graph = core_graph()
    assert "vgtui.core.helper_evaluator" in graph["vgtui.core.evaluator"]  # lazy imports count
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            cycle = path[path.index(name) :] + [name]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if name in done:
            return
        for imported in sorted(graph[name]):
            visit(imported, [*path, name])
        done.add(name)

    for name in sorted(graph):
        visit(name, [])


def test_both_front_ends_drive_the_one_run_lifecycle():
    """The CLI and the app build a core Run; neither wires up a Trainer or a RunWriter."""
    front_ends = [PACKAGE / "cli.py", *UI.glob("*.py")]
    users_of_run = set()
    for path in front_ends:
        imports = imported_modules(path)
        assert "vgtui.core.trainer" not in imports, path.name
        assert "vgtui.core.results.RunWriter" not in imports, path.name
        if "vgtui.core.run.Run" in imports:
            users_of_run.add(path.parent.name if path.parent == UI else path.stem)
    assert users_of_run == {"cli", "ui"}


def test_the_trainer_knows_only_the_evaluator_interface():
    imports = imported_modules(CORE / "trainer.py")
    assert "vgtui.core.evaluator" in imports
    assert not imports & {"vgtui.core.helper_evaluator", "vgtui.core.local_evaluator"}


STATUS_WORDS = ("ok", "diverged", "no data", "done", "stopped", "interrupted", "failed")
STATUS_WORDS += ("ready", "running", "paused", "stopping")


def test_statuses_are_spelled_only_in_the_vocabulary():
    """Every status is a member of vgtui.core.vocabulary, never a bare string elsewhere."""
    for path in [*PACKAGE.rglob("*.py")]:
        if path.name == "vocabulary.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                for side in [node.left, *node.comparators]:
                    if isinstance(side, ast.Constant) and side.value in STATUS_WORDS:
                        raise AssertionError(
                            f"{path.name}:{side.lineno} compares to {side.value!r}"
                        )
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
                value = node.value.value
                if value in STATUS_WORDS:
                    raise AssertionError(f"{path.name}:{node.lineno} names status {value!r}")


def test_tests_share_fixtures_not_each_other():
    """Test modules import no other test module: shared data lives in conftest.py fixtures."""
    tests_root = Path(__file__).resolve().parents[1]
    for path in tests_root.rglob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                last = node.module.rsplit(".", 1)[-1]
                assert not last.startswith("test_"), f"{path.name} imports {node.module}"
