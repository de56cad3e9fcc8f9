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


def sources(folder: Path = PACKAGE) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def package_graph() -> dict[str, set[str]]:
    """Each vgtui module to the vgtui modules it imports (a package's import counts as its
    ``__init__``; ``from package import module`` counts as the module)."""
    modules = {module_name(p): p for p in sources()}
    return {
        name: imported_modules(path) & modules.keys() - {name} for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return path[path.index(name) :] + [name]
        if name in done:
            return None
        for imported in sorted(graph[name]):
            cycle = visit(imported, [*path, name])
            if cycle:
                return cycle
        done.add(name)
        return None

    for name in sorted(graph):
        cycle = visit(name, [])
        if cycle:
            return cycle
    return None


def test_core_imports_neither_textual_nor_plotext():
    modules = sorted(module_name(p) for p in sources(CORE))
    assert "vgtui.core.trainer" in modules and "vgtui.core.sweep.spec" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "import vgtui.cli.main, vgtui.cli.train, vgtui.cli.runs\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'plotext', 'textual_plotext', 'rich', 'dask', 'distributed'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_core_sources_do_not_mention_ui_imports():
    pattern = re.compile(r"^\s*(import|from)\s+(textual|plotext|textual_plotext|rich)\b", re.M)
    for path in sources(CORE):
        assert not pattern.search(path.read_text()), path


def test_core_never_imports_upward():
    for path in sources(CORE):
        upward = {
            name
            for name in imported_modules(path)
            if name.startswith(("vgtui.ui", "vgtui.cli", "vgtui.__main__"))
        }
        assert not upward, f"{path.name} imports {sorted(upward)}"


def test_the_ui_never_imports_the_command_line():
    for path in sources(UI):
        assert not {n for n in imported_modules(path) if n.startswith("vgtui.cli")}, path


def top_level_imports(path: Path) -> set[str]:
    """The vgtui modules ``path`` imports when it is imported (not inside functions)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {name for name in found if name.split(".")[0] == "vgtui"}


def test_the_command_line_reaches_the_ui_only_lazily():
    """``vgtui --no-ui`` and the saved-run commands never load Textual at import."""
    for path in sources(PACKAGE / "cli"):
        eager = {n for n in top_level_imports(path) if n.startswith("vgtui.ui")}
        assert not eager, f"{path.name} imports {sorted(eager)} at the top"


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_the_command_line_imports_no_private_name():
    """cli modules share code through public names (cli.common, cli.report), never another
    module's ``_private`` ones (runs and sweep once imported train's ``_argument_type``)."""
    for path in sources(PACKAGE / "cli"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("vgtui"):
                private = [a.name for a in node.names if is_private(a.name)]
                assert not private, f"{path.name} imports {private} from {node.module}"
                assert not any(map(is_private, node.module.split("."))), path.name
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    assert not any(map(is_private, alias.name.split("."))), path.name


def test_the_command_registry_is_the_only_list_of_commands():
    """``main.COMMANDS`` names every command once; no other cli module keeps a list of them
    (main and runs each had one), and every entry leads to a function."""
    from vgtui.cli.main import COMMANDS

    assert {"runs", "show", "export", "probe", "sweep"} <= COMMANDS.keys()
    assert all(callable(command.load()) for command in COMMANDS.values())
    for path in sources(PACKAGE / "cli"):
        if path.name == "main.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Dict | ast.Tuple | ast.List | ast.Set):
                items = node.keys if isinstance(node, ast.Dict) else node.elts
                words = {i.value for i in items if isinstance(i, ast.Constant)} & COMMANDS.keys()
                assert len(words) < 2, f"{path.name}:{node.lineno} lists commands {words}"


def test_the_command_line_starts_light():
    """Importing ``vgtui.cli.main`` (the registry included) loads no other vgtui module and
    nothing that runs ``exec``: its signal latch must be installed before any real work."""
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "import vgtui.cli.main\n"
        "print(' '.join(sorted(set(sys.modules) - before)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    ours = {name for name in loaded if name.split(".")[0] == "vgtui"}
    assert ours == {"vgtui", "vgtui.cli", "vgtui.cli.latch", "vgtui.cli.main"}, loaded
    assert not loaded & {"dataclasses", "typing", "collections", "argparse", "numpy"}, loaded


def test_vgtui_has_no_import_cycles():
    graph = package_graph()
    assert "vgtui.core.evaluation.helpers" in graph["vgtui.core.evaluation.interface"]  # lazy
    assert find_cycle(graph) is None, "import cycle: " + " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_file_is_over_500_lines():
    long = {module_name(p): n for p in sources() if (n := len(p.read_text().splitlines())) > 500}
    assert not long


def test_both_front_ends_drive_the_one_run_lifecycle():
    """The CLI and the app build a core Run; neither wires up a Trainer or a RunWriter."""
    front_ends = [*sources(PACKAGE / "cli"), *sources(UI)]
    users_of_run = set()
    for path in front_ends:
        imports = imported_modules(path)
        assert "vgtui.core.trainer" not in imports, path.name
        assert "vgtui.core.store.run_folder.RunWriter" not in imports, path.name
        if "vgtui.core.run.Run" in imports:
            users_of_run.add(path.relative_to(PACKAGE).parts[0])
    assert users_of_run == {"cli", "ui"}


def test_the_trainer_knows_only_the_evaluator_interface():
    imports = imported_modules(CORE / "trainer.py")
    assert "vgtui.core.evaluation.interface" in imports
    assert not imports & {
        "vgtui.core.evaluation.helpers",
        "vgtui.core.evaluation.local",
        "vgtui.core.evaluation.shared",
    }


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


def private_library_imports(path: Path) -> set[str]:
    """The Textual and plotext modules ``path`` imports whose dotted name has a private part
    (``textual.widgets._toast``): they change without notice between releases."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    libraries = ("textual", "textual_plotext", "plotext", "rich")
    return {
        name
        for name in found
        if name.split(".")[0] in libraries
        and any(part.startswith("_") for part in name.split(".")[1:])
    }


def test_only_public_textual_and_plotext_modules_are_imported():
    """vgtui and its tests use public library API only (issue 17)."""
    tests_root = Path(__file__).resolve().parents[1]
    for path in [*sources(), *tests_root.rglob("*.py")]:
        assert not private_library_imports(path), f"{path}: {private_library_imports(path)}"


def test_ui_tests_read_no_private_attributes():
    """The UI tests observe the screen, app state and public API, never ``obj._private``
    (Textual's ``_notifications``, plotext's ``_active``) which breaks on upgrades."""
    for path in (Path(__file__).resolve().parents[1] / "ui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute):
                name = node.attr
                private = name.startswith("_") and not name.startswith("__")
                assert not private, f"{path.name}:{node.lineno} reads .{name}"


def test_the_private_import_finder_finds_one(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from textual.widgets._toast import ToastRack\nimport textual.app\n")
    assert private_library_imports(module) == {
        "textual.widgets._toast",
        "textual.widgets._toast.ToastRack",
    }


PROCESS_MODULES = {"subprocess", "multiprocessing", "concurrent.futures.process"}
PROCESS_CALLS = {"Popen", "fork", "forkpty", "posix_spawn", "posix_spawnp", "system", "execv"}


def starts_processes(path: Path) -> set[str]:
    """What in ``path`` can start a process: an import of a process module, or a call by a
    process-starting name (``Popen``, ``os.fork``, ``os.system``, ...)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in PROCESS_MODULES)
        elif isinstance(node, ast.ImportFrom) and node.module in PROCESS_MODULES:
            found.add(node.module)
        elif isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name in PROCESS_CALLS or name.startswith("spawn"):
                found.add(name)
    return found


def test_in_the_ui_only_the_sweeps_process_module_starts_processes():
    """The app starts one kind of process, ``vgtui sweep``, in one module that owns its
    lifetime (its own session, stopped with its group when the app goes)."""
    owner = UI / "sweep" / "process.py"
    assert starts_processes(owner) >= {"subprocess", "Popen"}
    for path in sources(UI):
        if path != owner:
            assert not starts_processes(path), f"{path}: {starts_processes(path)}"


def test_no_ui_module_registers_an_exit_hook_when_imported():
    """Importing the app registers nothing at exit: the sweep's hook comes with its first
    process."""
    for path in sources(UI):
        for node in ast.parse(path.read_text()).body:
            decorators = getattr(node, "decorator_list", [])
            calls = [node.value] if isinstance(node, ast.Expr) else decorators
            for call in calls:
                text = ast.unparse(call)
                assert not text.startswith("atexit.register"), f"{path.name}:{node.lineno}"


def declared_dependencies() -> set[str]:
    """The distributions pyproject.toml's dependencies name (an extra such as
    ``dask[distributed]`` names ``distributed`` too), normalised."""
    import tomllib

    pyproject = tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())
    names: set[str] = set()
    for requirement in pyproject["project"]["dependencies"]:
        match = re.match(r"([A-Za-z0-9_.-]+)(?:\[([^\]]+)\])?", requirement)
        assert match, requirement
        names.add(match.group(1))
        names.update((match.group(2) or "").split(","))
    return {re.sub(r"[-_.]+", "-", name).lower() for name in names if name}


def test_every_library_vgtui_imports_is_declared():
    """rich too: the widgets draw with it (Textual's text API), so it is a dependency of its
    own, not something Textual happens to bring along."""
    from importlib.metadata import packages_distributions

    distributions = packages_distributions()
    imported: set[str] = set()
    for path in sources():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"vgtui"}
    assert "rich" in third_party
    declared = declared_dependencies()
    for module in sorted(third_party):
        names = {re.sub(r"[-_.]+", "-", d).lower() for d in distributions.get(module, [module])}
        assert names & declared, f"vgtui imports {module}: not in pyproject's dependencies"


def test_the_compact_layout_has_one_threshold():
    """The monitor and the saved-runs view share one charts screen (vgtui.ui.base), which
    alone says below which size the layout is compact."""
    defining = [
        module_name(path)
        for path in sources(UI)
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Assign)
        for target in node.targets
        for name in ast.walk(target)
        if isinstance(name, ast.Name) and name.id in ("COMPACT_WIDTH", "COMPACT_HEIGHT")
    ]
    assert defining == ["vgtui.ui.base", "vgtui.ui.base"]
